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
const $ = (id) => document.getElementById(id);

const state = {
  user: null, room: null, token: null,
  chat: null, notifications: null,    // ReconnectingSocket
  roster: new Set(),
  inbox: new Map(),                    // id -> {frame, read, li}
  backlog: null,                       // ids of the backlog being received, then null
  chatWasOpen: false,
};
window.day25Demo = { state, sockets: {} };

// ---------- errors: each says which side it came from ----------
const SIDES = { server: "from the server", page: "from this page" };
function showError(text, side) {
  const li = document.createElement("li");
  li.dataset.side = side;
  const tag = document.createElement("span"); tag.className = "side"; tag.textContent = SIDES[side];
  const time = document.createElement("span"); time.className = "time"; time.textContent = new Date().toLocaleTimeString();
  const body = document.createElement("span"); body.className = "text"; body.textContent = text;
  // role="alert": announced as it appears. The section's own live region could not be:
  // it is hidden until the first error, and a region shown with its first text is silent
  const alert = document.createElement("span"); alert.setAttribute("role", "alert");
  alert.append(tag, " ", time, " ", body);
  li.append(alert);
  $("error-list").append(li);
  $("errors").hidden = false;
}
// dismiss hides the section it is in: the focus goes to what comes next (the join form's
// first field), not to the page's top
$("errors-clear").onclick = () => {
  const hadFocus = $("errors").contains(document.activeElement);
  $("error-list").replaceChildren(); $("errors").hidden = true;
  if (hadFocus) $("name").focus();
};

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
    li.append(seq, " ", who, " ", body); // spaces: read aloud, "#3 alice hi", not "#3alicehi"
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

// While the chat is away, who is here is not known: the roster says so. When it is back,
// a line marks where the new connection starts (after a restart the room counts from #1).
function onChatState(st, delay) {
  setStatus("chat-status", "chat", st, delay);
  $("roster").dataset.stale = String(st === "reconnecting" || st === "failed");
  if (st === "open" && state.chatWasOpen) addLine("reconnected", "system");
  if (st === "open") state.chatWasOpen = true;
}

function onChatFrame(frame) {
  switch (frame.type) {
    case "roster": state.roster = new Set(frame.users); renderRoster(); break;
    case "join": {
      const listed = state.roster.has(frame.user); // in the roster this connection began with
      state.roster.add(frame.user); renderRoster();
      if (frame.user !== state.user && !listed) addLine(`${frame.user} joined`, "system");
      break;
    }
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
  markRead(fresh);
  tabs.postMessage({ user: state.user, read: fresh });
}

function markRead(ids) {
  for (const id of ids) {
    const entry = state.inbox.get(id);
    if (!entry || entry.read) continue;
    entry.read = true; entry.li.classList.add("read");
    entry.li.querySelector("button").disabled = true;
  }
  updateBadge();
}

// Another tab of this browser read some: so did this user (the server tells only the tab
// that acked). A tab in another browser learns it at its next connection's backlog.
const tabs = new BroadcastChannel("day25.inbox");
tabs.onmessage = (event) => { if (event.data.user === state.user) markRead(event.data.read); };

// Each connection starts with every unread notification (the backlog): one this tab shows
// as unread and the backlog lacks was read elsewhere, or expired, or fell off the cap.
function onInboxState(st, delay) {
  setStatus("notifications-status", "inbox", st, delay);
  if (st === "open") state.backlog = new Set();
}

function onNotificationFrame(frame) {
  switch (frame.type) {
    case "notification": {
      if (state.backlog) state.backlog.add(frame.id);
      if (state.inbox.has(frame.id)) return; // at-least-once delivery: de-duplicate by id
      const li = document.createElement("li");
      li.dataset.id = frame.id; li.dataset.seq = frame.seq;
      li.className = `level-${frame.level || "normal"}`;
      const seq = document.createElement("span"); seq.className = "seq"; seq.textContent = `#${frame.seq}`;
      if (frame.level && frame.level !== "normal") { // in words too, not only the border's colour
        const level = document.createElement("span"); level.className = "level"; level.textContent = frame.level;
        seq.append(" ", level);
      }
      const title = document.createElement("strong"); title.className = "title"; title.textContent = frame.title;
      const button = document.createElement("button"); button.type = "button"; button.textContent = "Mark read";
      // read aloud out of the list (a screen reader's list of buttons), it says which one
      button.setAttribute("aria-label", `Mark read: ${frame.title}`);
      button.onclick = () => { ack([frame.id]); focusNextUnread(li); };
      const body = document.createElement("span"); body.className = "body"; body.textContent = frame.body || "";
      li.append(seq, title, button, body);
      $("inbox").append(li);
      state.inbox.set(frame.id, { frame, read: false, li });
      updateBadge();
      break;
    }
    case "backlog_end": {
      $("inbox").dataset.backlog = String(frame.count);
      const backlog = state.backlog;
      state.backlog = null;
      if (!backlog) break; // no connection's start was seen: nothing to compare with
      markRead([...state.inbox.keys()].filter((id) => !backlog.has(id)));
      // read here, still on the server: that ack was lost (a server that died before it
      // stored it), so it is sent again
      const lost = [...backlog].filter((id) => state.inbox.get(id)?.read);
      if (lost.length) state.notifications.send({ type: "ack", ids: lost });
      break;
    }
    case "pong": case "acked": break; // acked: the server confirms an ack (protocol, exercise 4)
    case "error": showError(`notifications error (${frame.code}): ${frame.message}`, "server"); break;
    default: showError(`notifications: unknown frame type ${String(frame.type)}`, "server");
  }
}
// a button that hides or disables itself would drop the keyboard's focus to the page's
// top: it moves to what comes next instead
$("ack-all").onclick = () => { ack([...state.inbox.keys()]); $("inbox").focus(); };
function focusNextUnread(li) {
  const items = [...$("inbox").children];
  const next = [...items.slice(items.indexOf(li) + 1), ...items].find(
    (item) => !item.classList.contains("read"));
  (next ? next.querySelector("button") : $("inbox")).focus();
}

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
  // Join hides itself: if it had the keyboard's focus, Leave (in its place) takes it
  const joinHadFocus = document.activeElement === $("join");
  $("join").hidden = true; $("leave").hidden = false;
  if (joinHadFocus) $("leave").focus();
  $("message-text").disabled = false; $("send").disabled = false;
  history.replaceState(null, "", `?user=${encodeURIComponent(user)}&room=${encodeURIComponent(room)}`);
  state.chat = new ReconnectingSocket("chat", `/chat/${encodeURIComponent(room)}?user=${encodeURIComponent(user)}`,
    { onFrame: onChatFrame, onState: onChatState, heartbeat: { type: "ping" } });
  state.notifications = new ReconnectingSocket("notifications", `/notifications/${encodeURIComponent(user)}`,
    { onFrame: onNotificationFrame, onState: onInboxState, heartbeat: { type: "ack", ids: [] } });
}

function leave() {
  for (const s of [state.chat, state.notifications]) if (s) s.close();
  state.chat = state.notifications = null; state.token = null; state.chatWasOpen = false;
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
