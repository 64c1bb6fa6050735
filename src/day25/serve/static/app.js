// Day 25 live demo: one page speaking the protocols of exercise 3 (chat) and 4 (notifications).
// Plain JavaScript, no build step, no CDN. `window.day25Demo` exposes the sockets for tests.
// `day25 serve` asks every connection for a session token (POST /session); see
// docs/guides/serve-security.md. The token goes in ?token= on WebSockets (a browser cannot
// set headers there) and in Authorization: Bearer on fetch.
"use strict";

const NAME_RE = /^[A-Za-z0-9_.-]{1,32}$/;
const NAME_RULE = "1-32 characters: letters A-Z a-z, digits 0-9, '_', '.' or '-'";
// "." and ".." are names in the protocol, but a browser resolves them in a URL's path
// (/chat/.. is /), so this page cannot open their sockets: it says so instead
const PATH_DOTS = new Set([".", ".."]);
// the protocols count characters (code points); an <input>'s maxlength counts UTF-16 units,
// so the inputs allow twice as many and these limits are checked here
const LIMITS = { message: 2000, title: 200, body: 2000 };
const tooLong = (what, text) => [...text].length > LIMITS[what]
  ? `the ${what} has ${[...text].length} characters, more than ${LIMITS[what]}` : null;
// bad request, no valid session (handled by joining again), a token for someone else,
// no route, not implemented: reconnecting would only fail again
const NO_RETRY_CODES = new Set([4400, 4403, 4404, 4501]);
const UNAUTHORIZED = 4401;
const SLOW_CONSUMER = 4408;
const $ = (id) => document.getElementById(id);

const state = {
  user: null, room: null, token: null,
  chat: null, notifications: null,    // ReconnectingSocket
  roster: new Set(),
  inbox: new Map(),                    // id -> {frame, read, li}
};
window.day25Demo = { state, sockets: {} };

// ---------- the session: one token per name, shared by this browser's tabs ----------
const tokenKey = (user) => `day25.session.${user}`;

// `stale`: the token the server no longer takes (null: take any kept one). Several tabs of
// one name find a restart at once and all ask for a token: the server gives the name to
// one of them (409 to the others), so a refused tab waits for the winner's token to show
// up here. Only the stale token is ever forgotten, never one another tab just stored.
// The stale token is sent to be renewed: when it only expired (a page open for over a
// day), its session still holds the name, and the server gives it a fresh token.
async function getToken(user, { stale = null } = {}) {
  const kept = localStorage.getItem(tokenKey(user));
  if (kept && kept !== stale) return kept;
  const asked = stale ? { user, renew: stale } : { user };
  const response = await fetch("/session", { method: "POST",
    headers: { "content-type": "application/json" }, body: JSON.stringify(asked) });
  const data = await response.json().catch(() => ({}));
  if (response.ok) {
    localStorage.setItem(tokenKey(user), data.token);
    return data.token;
  }
  if (response.status === 409 && stale) {
    const theirs = await anotherTabsToken(user, stale);
    if (theirs) return theirs;
  }
  if (localStorage.getItem(tokenKey(user)) === stale) localStorage.removeItem(tokenKey(user));
  throw new ServerError(data.error || `HTTP ${response.status} from POST /session`);
}

// a token for `user` that another tab of this browser stores within a few seconds, or null
async function anotherTabsToken(user, stale, seconds = 5) {
  for (let waited = 0; waited < seconds * 1000; waited += 100) {
    const kept = localStorage.getItem(tokenKey(user));
    if (kept && kept !== stale) return kept;
    await new Promise((done) => setTimeout(done, 100));
  }
  return null;
}

class ServerError extends Error {} // an error the server reported (as opposed to this page)

// ---------- a WebSocket that reconnects with exponential backoff and jitter ----------
class ReconnectingSocket {
  constructor(label, path, { onFrame, onState }) {
    this.label = label; this.path = path; this.onFrame = onFrame; this.onState = onState;
    this.attempt = 0; this.stopped = false; this.ws = null; this.timer = null;
    this.open();
  }
  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const join = this.path.includes("?") ? "&" : "?";
    return `${scheme}//${location.host}${this.path}${join}token=${encodeURIComponent(state.token)}`;
  }
  open() {
    this.usedToken = state.token;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    window.day25Demo.sockets[this.label] = ws;
    ws.onopen = () => this.onState("open");
    ws.onmessage = (event) => {
      this.attempt = 0; // the server talked to us: the next drop starts the backoff afresh
      let frame;
      try { frame = JSON.parse(event.data); } catch (err) {
        showError(`${this.label}: the server sent something that is not JSON: ${String(event.data).slice(0, 80)}`, "server");
        return;
      }
      if (frame.type === "error" && frame.code === "unauthorized") {
        this.refusal = frame.message; // the close (4401) follows: join again, quietly
        return;
      }
      this.rejoined = false; // the session works: a later 4401 may rejoin again
      this.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      if (this.stopped) { this.onState("idle"); return; }
      if (NO_RETRY_CODES.has(event.code)) {
        this.onState("failed");
        showError(`${this.label}: the server closed the connection (code ${event.code}${event.reason ? ": " + event.reason : ""}); not reconnecting`, "server");
        return;
      }
      if (event.code === UNAUTHORIZED) { this.rejoin(); return; }
      if (event.code === SLOW_CONSUMER) {
        showError(`${this.label}: the server disconnected this tab because it fell behind (code ${SLOW_CONSUMER}); reconnecting`, "server");
      }
      const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
      this.attempt += 1;
      this.onState("reconnecting", Math.round(delay));
      this.timer = setTimeout(() => this.open(), delay);
    };
  }
  // The session ended (server restart, expired token): get a fresh token once, then reconnect.
  async rejoin() {
    if (this.rejoined) {
      this.onState("failed");
      showError(`${this.label}: ${this.refusal || "the server refused the session"}`, "server");
      return;
    }
    this.rejoined = true;
    try {
      if (state.token === this.usedToken) state.token = await refreshToken(); // else: the other socket did
      this.open();
    } catch (err) {
      this.onState("failed");
      const why = this.refusal ? ` (${this.refusal})` : "";
      showError(`${this.label}: the session ended${why} and joining again failed: ${err.message}`,
        err instanceof ServerError ? "server" : "page");
    }
  }
  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) { this.ws.send(JSON.stringify(frame)); return true; }
    showError(`${this.label}: not connected, could not send`, "page");
    return false;
  }
  close() {
    this.stopped = true; clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }
}

// one token refresh at a time, shared by both sockets
let refreshing = null;
function refreshToken() {
  refreshing = refreshing || getToken(state.user, { stale: state.token })
    .finally(() => { refreshing = null; });
  return refreshing;
}

// ---------- errors: each says which side it came from ----------
const SIDES = { server: "from the server", page: "from this page" };
function showError(text, side) {
  const li = document.createElement("li");
  li.dataset.side = side;
  const tag = document.createElement("span"); tag.className = "side"; tag.textContent = SIDES[side];
  const time = document.createElement("span"); time.className = "time"; time.textContent = new Date().toLocaleTimeString();
  const body = document.createElement("span"); body.className = "text"; body.textContent = text;
  li.append(tag, time, body);
  $("error-list").append(li);
  $("errors").hidden = false;
}
$("errors-clear").onclick = () => { $("error-list").replaceChildren(); $("errors").hidden = true; };

function setStatus(id, label, st, delay) {
  const pill = $(id);
  pill.dataset.state = st;
  pill.textContent = st === "reconnecting" ? `${label}: reconnecting in ${(delay / 1000).toFixed(1)} s`
    : `${label}: ${{ open: "connected", idle: "not connected", failed: "failed" }[st]}`;
}

// ---------- chat (exercise 3) ----------
function addLine(text, cls, frame) {
  const li = document.createElement("li");
  if (cls) li.className = cls;
  if (frame) {
    const seq = document.createElement("span"); seq.className = "seq"; seq.textContent = `#${frame.seq}`;
    const who = document.createElement("span"); who.className = "who"; who.textContent = frame.user;
    const body = document.createElement("span"); body.className = "text"; body.textContent = frame.text;
    li.dataset.seq = frame.seq; li.dataset.user = frame.user;
    li.append(seq, who, body);
  } else {
    li.textContent = text;
  }
  const box = $("messages");
  box.append(li);
  box.scrollTop = box.scrollHeight;
}

function renderRoster() {
  const ul = $("roster");
  ul.replaceChildren(...[...state.roster].sort().map((user) => {
    const li = document.createElement("li");
    li.dataset.user = user;
    li.textContent = user === state.user ? `${user} (you)` : user;
    return li;
  }));
  $("roster-count").textContent = String(state.roster.size);
}

function onChatFrame(frame) {
  switch (frame.type) {
    case "roster": state.roster = new Set(frame.users); renderRoster(); break;
    case "join":
      state.roster.add(frame.user); renderRoster();
      if (frame.user !== state.user) addLine(`${frame.user} joined`, "system");
      break;
    case "leave": state.roster.delete(frame.user); renderRoster(); addLine(`${frame.user} left`, "system"); break;
    case "message": addLine(null, frame.user === state.user ? "mine" : "", frame); break;
    case "pong": break;
    case "error": showError(`chat error (${frame.code}): ${frame.message}`, "server"); break;
    default: showError(`chat: unknown frame type ${String(frame.type)}`, "server");
  }
}

// ---------- notifications (exercise 4) ----------
function updateBadge() {
  const unread = [...state.inbox.values()].filter((n) => !n.read).length;
  $("unread").textContent = String(unread);
  $("unread").dataset.count = String(unread);
  $("ack-all").disabled = unread === 0;
  document.title = unread ? `(${unread}) Day 25 live demo` : "Day 25 live demo: chat and notifications";
}

function ack(ids) {
  const fresh = ids.filter((id) => state.inbox.has(id) && !state.inbox.get(id).read);
  if (!fresh.length || !state.notifications.send({ type: "ack", ids: fresh })) return;
  for (const id of fresh) {
    const entry = state.inbox.get(id);
    entry.read = true; entry.li.classList.add("read");
    entry.li.querySelector("button").disabled = true;
  }
  updateBadge();
}

function onNotificationFrame(frame) {
  switch (frame.type) {
    case "notification": {
      if (state.inbox.has(frame.id)) return; // at-least-once delivery: de-duplicate by id
      const li = document.createElement("li");
      li.dataset.id = frame.id; li.dataset.seq = frame.seq;
      li.className = `level-${frame.level || "normal"}`;
      const seq = document.createElement("span"); seq.className = "seq"; seq.textContent = `#${frame.seq}`;
      const title = document.createElement("strong"); title.className = "title"; title.textContent = frame.title;
      const button = document.createElement("button"); button.type = "button"; button.textContent = "Mark read";
      button.onclick = () => ack([frame.id]);
      const body = document.createElement("span"); body.className = "body"; body.textContent = frame.body || "";
      li.append(seq, title, button, body);
      $("inbox").append(li);
      state.inbox.set(frame.id, { frame, read: false, li });
      updateBadge();
      break;
    }
    case "backlog_end": $("inbox").dataset.backlog = String(frame.count); break;
    case "pong": case "acked": break; // acked: the server confirms an ack (protocol, exercise 4)
    case "error": showError(`notifications error (${frame.code}): ${frame.message}`, "server"); break;
    default: showError(`notifications: unknown frame type ${String(frame.type)}`, "server");
  }
}
// a button that hides or disables itself would drop the keyboard's focus to the page's
// top: it moves to what comes next instead
$("ack-all").onclick = () => { ack([...state.inbox.keys()]); $("inbox").focus(); };

$("notify-form").onsubmit = async (event) => {
  event.preventDefault();
  const result = $("notify-result");
  const notSent = (message, side) => {
    result.className = "bad";
    result.textContent = `not sent: ${message}`;
    showError(`notification not sent: ${message}`, side);
  };
  const payload = { user: $("notify-user").value.trim(), title: $("notify-title").value,
    level: $("notify-level").value };
  if ($("notify-body").value) payload.body = $("notify-body").value;
  if (!NAME_RE.test(payload.user)) {
    notSent(`the recipient "${payload.user}" is not a valid name: use ${NAME_RULE}`, "page");
    return;
  }
  const long = tooLong("title", payload.title) || (payload.body && tooLong("body", payload.body));
  if (long) { notSent(long, "page"); return; }
  if (!state.token) { notSent("join first: sending needs a session", "page"); return; }
  try {
    let response = await postNotification(payload);
    if (response.status === 401) { state.token = await refreshToken(); response = await postNotification(payload); }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new ServerError(data.error || `HTTP ${response.status}`);
    result.className = "";
    result.textContent = `sent to ${payload.user} as #${data.seq}, pushed to ${data.delivered} open tab(s)`;
    $("notify-title").value = ""; $("notify-body").value = "";
  } catch (err) {
    notSent(err.message, err instanceof ServerError ? "server" : "page");
  }
};

function postNotification(payload) {
  return fetch("/notifications", { method: "POST", body: JSON.stringify(payload),
    headers: { "content-type": "application/json", authorization: `Bearer ${state.token}` } });
}

// ---------- joining and leaving ----------
async function join(user, room) {
  for (const [what, value] of [["name", user], ["room", room]]) {
    if (!NAME_RE.test(value)) {
      showError(`the ${what} "${value}" is not valid: use ${NAME_RULE}`, "page");
      return;
    }
    if (PATH_DOTS.has(value)) {
      showError(`the ${what} "${value}" is valid, but a browser cannot put it in a WebSocket's `
        + "address (it means this folder or the one above): pick another on this page", "page");
      return;
    }
  }
  leave();
  try {
    state.token = await getToken(user);
  } catch (err) {
    showError(`could not join as ${user}: ${err.message}`, err instanceof ServerError ? "server" : "page");
    for (const id of ["chat-status", "notifications-status"]) setStatus(id, id.startsWith("chat") ? "chat" : "inbox", "failed");
    return;
  }
  state.user = user; state.room = room; state.roster = new Set(); renderRoster();
  $("room-name").textContent = room;
  $("whoami").textContent = `you are ${user}`;
  $("join").hidden = true; $("leave").hidden = false;
  $("message-text").disabled = false; $("send").disabled = false;
  history.replaceState(null, "", `?user=${encodeURIComponent(user)}&room=${encodeURIComponent(room)}`);
  state.chat = new ReconnectingSocket("chat", `/chat/${encodeURIComponent(room)}?user=${encodeURIComponent(user)}`,
    { onFrame: onChatFrame, onState: (st, d) => setStatus("chat-status", "chat", st, d) });
  state.notifications = new ReconnectingSocket("notifications", `/notifications/${encodeURIComponent(user)}`,
    { onFrame: onNotificationFrame, onState: (st, d) => setStatus("notifications-status", "inbox", st, d) });
}

function leave() {
  for (const s of [state.chat, state.notifications]) if (s) s.close();
  state.chat = state.notifications = null; state.token = null;
  state.inbox.clear(); $("inbox").replaceChildren(); updateBadge();
  state.roster.clear(); renderRoster();
  $("messages").replaceChildren(); $("room-name").textContent = "\u2014"; // the next room starts empty
  $("join").hidden = false; $("leave").hidden = true; $("whoami").textContent = "";
  $("message-text").disabled = true; $("send").disabled = true;
  if (location.search) history.replaceState(null, "", location.pathname); // a reload stays out
}

$("join-form").onsubmit = (event) => { event.preventDefault(); join($("name").value.trim(), $("room").value.trim()); };
$("leave").onclick = () => { leave(); $("join").focus(); };
$("message-form").onsubmit = (event) => {
  event.preventDefault();
  const text = $("message-text").value;
  if (!text || !state.chat) return; // "   " is a message too: the protocol's text is any non-empty string
  const long = tooLong("message", text);
  if (long) { showError(`message not sent: ${long}`, "page"); return; }
  if (state.chat.send({ type: "message", text })) $("message-text").value = "";
};

// ---------- start ----------
fetch("/status.json").then((r) => r.json()).then((status) => {
  $("impl").textContent = `implementation: ${status.impl} (${status.impl_dir})`;
  for (const message of Object.values(status.not_implemented || {})) showError(message, "server");
}).catch(() => { $("impl").textContent = "implementation: unknown"; });

const params = new URLSearchParams(location.search);
if (params.get("user")) $("name").value = params.get("user");
if (params.get("room")) $("room").value = params.get("room");
if (params.get("user") && params.get("room")) join(params.get("user"), params.get("room"));
