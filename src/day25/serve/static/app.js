// Day 25 live demo: one page speaking the protocols of exercise 3 (chat) and 4 (notifications).
// Plain JavaScript, no build step, no CDN. `window.day25Demo` exposes the sockets for tests.
"use strict";

const NAME_RE = /^[A-Za-z0-9_.-]{1,32}$/;
const NO_RETRY_CODES = new Set([4400, 4404, 4501]); // bad request, no route, not implemented
const $ = (id) => document.getElementById(id);

const state = {
  user: null, room: null,
  chat: null, notifications: null,    // ReconnectingSocket
  roster: new Set(),
  inbox: new Map(),                    // id -> {frame, read, li}
};
window.day25Demo = { state, sockets: {} };

// ---------- a WebSocket that reconnects with exponential backoff and jitter ----------
class ReconnectingSocket {
  constructor(label, path, { onFrame, onState }) {
    this.label = label; this.path = path; this.onFrame = onFrame; this.onState = onState;
    this.attempt = 0; this.stopped = false; this.ws = null; this.timer = null;
    this.open();
  }
  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}${this.path}`;
  }
  open() {
    const ws = new WebSocket(this.url());
    this.ws = ws;
    window.day25Demo.sockets[this.label] = ws;
    ws.onopen = () => this.onState("open");
    ws.onmessage = (event) => {
      this.attempt = 0; // the server talked to us: the next drop starts the backoff afresh
      let frame;
      try { frame = JSON.parse(event.data); } catch (err) {
        showError(`${this.label}: the server sent something that is not JSON: ${String(event.data).slice(0, 80)}`);
        return;
      }
      this.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      if (this.stopped) { this.onState("idle"); return; }
      if (NO_RETRY_CODES.has(event.code)) {
        this.onState("failed");
        showError(`${this.label}: the server closed the connection (code ${event.code}${event.reason ? ": " + event.reason : ""}); not reconnecting`);
        return;
      }
      const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
      this.attempt += 1;
      this.onState("reconnecting", Math.round(delay));
      this.timer = setTimeout(() => this.open(), delay);
    };
  }
  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) { this.ws.send(JSON.stringify(frame)); return true; }
    showError(`${this.label}: not connected, could not send`);
    return false;
  }
  close() {
    this.stopped = true; clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }
}

// ---------- errors ----------
function showError(text) {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
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
    case "error": showError(`chat error (${frame.code}): ${frame.message}`); break;
    default: showError(`chat: unknown frame type ${JSON.stringify(frame.type)}`);
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
    case "error": showError(`notifications error (${frame.code}): ${frame.message}`); break;
    default: showError(`notifications: unknown frame type ${JSON.stringify(frame.type)}`);
  }
}
$("ack-all").onclick = () => ack([...state.inbox.keys()]);

$("notify-form").onsubmit = async (event) => {
  event.preventDefault();
  const result = $("notify-result");
  const payload = { user: $("notify-user").value.trim(), title: $("notify-title").value,
    level: $("notify-level").value };
  if ($("notify-body").value) payload.body = $("notify-body").value;
  try {
    const response = await fetch("/notifications", { method: "POST",
      headers: { "content-type": "application/json" }, body: JSON.stringify(payload) });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error ? JSON.stringify(data.error) : `HTTP ${response.status}`);
    result.className = "";
    result.textContent = `sent to ${payload.user} as #${data.seq}, pushed to ${data.delivered} open tab(s)`;
    $("notify-title").value = ""; $("notify-body").value = "";
  } catch (err) {
    result.className = "bad";
    result.textContent = `not sent: ${err.message}`;
    showError(`notification not sent: ${err.message}`);
  }
};

// ---------- joining and leaving ----------
function join(user, room) {
  if (!NAME_RE.test(user) || !NAME_RE.test(room)) {
    showError("name and room: 1-32 letters, digits, '_', '.' or '-'");
    return;
  }
  leave();
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
  state.chat = state.notifications = null;
  state.inbox.clear(); $("inbox").replaceChildren(); updateBadge();
  state.roster.clear(); renderRoster();
  $("join").hidden = false; $("leave").hidden = true; $("whoami").textContent = "";
  $("message-text").disabled = true; $("send").disabled = true;
}

$("join-form").onsubmit = (event) => { event.preventDefault(); join($("name").value.trim(), $("room").value.trim()); };
$("leave").onclick = () => leave();
$("message-form").onsubmit = (event) => {
  event.preventDefault();
  const text = $("message-text").value;
  if (!text.trim() || !state.chat) return;
  if (state.chat.send({ type: "message", text })) $("message-text").value = "";
};

// ---------- start ----------
fetch("/status.json").then((r) => r.json()).then((status) => {
  $("impl").textContent = `implementation: ${status.impl} (${status.impl_dir})`;
  for (const message of Object.values(status.not_implemented || {})) showError(message);
}).catch(() => { $("impl").textContent = "implementation: unknown"; });

const params = new URLSearchParams(location.search);
if (params.get("user")) $("name").value = params.get("user");
if (params.get("room")) $("room").value = params.get("room");
if (params.get("user") && params.get("room")) join(params.get("user"), params.get("room"));
