// Day 25 live demo: the connections. A session token per name (POST /session), shared by
// this browser's tabs, and a WebSocket that reconnects, rejoins when its session ended, and
// notices a server that stopped answering. Loaded before app.js, which draws the page.
"use strict";

// bad request, no valid session (handled by joining again), a token for someone else,
// no route, not implemented: reconnecting would only fail again
const NO_RETRY_CODES = new Set([4400, 4403, 4404, 4501]);
const UNAUTHORIZED = 4401;
const SLOW_CONSUMER = 4408;
// A server that stopped answering (hung, or a network that dropped without a word) closes
// nothing: the socket would say "connected" for minutes while messages went nowhere. An
// open socket asks every HEARTBEAT ms (a frame its protocol answers: chat's ping, an ack of
// no ids); no frame back within SILENCE ms and it is given up and opened again.
const HEARTBEAT = 15000;
const SILENCE = 10000;

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
  constructor(label, path, { onFrame, onState, heartbeat }) {
    this.label = label; this.path = path; this.onFrame = onFrame; this.onState = onState;
    this.heartbeat = heartbeat; // the frame that asks the server for any answer
    this.attempt = 0; this.stopped = false; this.ws = null; this.timer = null;
    this.open();
  }
  quiet() {
    clearInterval(this.beat); clearTimeout(this.silence); clearTimeout(this.connecting);
    this.silence = null;
  }
  listen(ws) {
    this.quiet();
    this.beat = setInterval(() => {
      if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify(this.heartbeat));
      if (!this.silence) this.silence = setTimeout(() => this.lost(ws), SILENCE);
    }, HEARTBEAT);
  }
  // no answer to a heartbeat, or no handshake: this socket is given up (its close, whenever
  // it comes, is ignored) and a new one opened, as after any drop
  lost(ws) {
    if (this.ws !== ws || this.stopped) return;
    const wasOpen = ws.readyState === WebSocket.OPEN;
    this.quiet();
    this.ws = null;
    ws.close();
    if (wasOpen) showError(`${this.label}: the server did not answer for ${SILENCE / 1000} s; reconnecting`, "server");
    this.retry();
  }
  retry() {
    const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt += 1;
    this.onState("reconnecting", Math.round(delay));
    this.timer = setTimeout(() => this.open(), delay);
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
    this.connecting = setTimeout(() => this.lost(ws), SILENCE); // a handshake never answered
    ws.onopen = () => { this.listen(ws); this.onState("open"); };
    ws.onmessage = (event) => {
      if (this.ws !== ws) return; // a socket given up: what it still delivers is not shown
      this.attempt = 0; // the server talked to us: the next drop starts the backoff afresh
      clearTimeout(this.silence); this.silence = null;
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
      this.quiet();
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
      this.retry();
    };
  }
  // The session ended (server restart, expired token): get a fresh token once, then reconnect.
  async rejoin() {
    if (this.stopped) return;
    if (this.rejoined) {
      this.onState("failed");
      showError(`${this.label}: ${this.refusal || "the server refused the session"}`, "server");
      return;
    }
    this.rejoined = true;
    try {
      if (state.token === this.usedToken) { // else: the other socket did
        const token = await refreshToken();
        if (this.stopped) return; // the page left, or joined as another name, meanwhile
        state.token = token;
      }
      if (!this.stopped) this.open();
    } catch (err) {
      if (this.stopped) return;
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
    this.stopped = true; clearTimeout(this.timer); this.quiet();
    if (this.ws) this.ws.close(1000);
  }
}

// one token refresh at a time per name, shared by both sockets (never one for a name the
// page has left: its token would then speak for the next name)
let refreshing = null;
function refreshToken() {
  if (!refreshing || refreshing.user !== state.user) {
    const mine = { user: state.user };
    mine.promise = getToken(state.user, { stale: state.token })
      .finally(() => { if (refreshing === mine) refreshing = null; });
    refreshing = mine;
  }
  return refreshing.promise;
}

