// The /ws client (DESIGN §4, app/realtime/protocol.py): hello with the token and where to resume
// (`getSince`), then changes; answers pings; reconnects with back-off. It speaks the protocol
// only: what to resume from, the snapshot and a `reset`'s reload belong to PictureSync (sync.js).
// Status: connecting → catching_up → live, or reconnecting / offline.

// Close codes after which retrying as before cannot help (protocol.CloseCode).
const BAD_HELLO = 4000;
const UNAUTHENTICATED = 4001;
const FORBIDDEN = 4003;

// Waits before each new attempt; the last repeats. Jitter spreads a room of screens reconnecting
// to a restarted server.
export const BACKOFF_MS = [250, 1000, 2000, 4000, 7000, 10000];

export class LiveClient {
  constructor({
    url,
    getToken,
    getSince,
    filter = {},
    onPosition = () => {},
    onChange = () => {},
    onAlert = () => {},
    onWelcome = () => {},
    onReset = () => {},
    onStatus = () => {},
    onAuthFailure = async () => {},
    WebSocketImpl = globalThis.WebSocket,
    timers = globalThis,
    now = () => Date.now(),
    backoff = BACKOFF_MS,
    jitter = () => 0.8 + Math.random() * 0.4,
  }) {
    Object.assign(this, { url, getToken, getSince, filter, onPosition, onChange, onAlert, onWelcome, onReset, onStatus, onAuthFailure });
    this.WebSocketImpl = WebSocketImpl;
    this.timers = timers;
    this.now = now;
    this.backoff = backoff;
    this.jitter = jitter;
    this.ws = null;
    this.attempt = 0;
    this.status = 'stopped';
    this.offlineSince = null;
    this.lastError = null;
    this.pingSeconds = 20;
    this._retry = null;
    this._watchdog = null;
    this._stopped = true;
  }

  _setStatus(status) {
    if (status === 'live' || status === 'catching_up') this.offlineSince = null;
    else if ((status === 'reconnecting' || status === 'offline') && this.offlineSince == null) this.offlineSince = this.now();
    this.status = status;
    this.onStatus({ status, offlineSince: this.offlineSince, error: this.lastError });
  }

  start() {
    this._stopped = false;
    this._connect();
  }

  stop() {
    this._stopped = true;
    this.timers.clearTimeout(this._retry);
    this.timers.clearTimeout(this._watchdog);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close(1000, 'bye');
    }
    this._setStatus('stopped');
  }

  /** Drop the socket and reconnect at once (e.g. after the browser says it is online again). */
  reconnectNow() {
    if (this._stopped) return;
    this.timers.clearTimeout(this._retry);
    this.attempt = 0;
    if (this.ws) this.ws.close(4900, 'client reconnect');
    else this._connect();
  }

  _connect() {
    if (this._stopped) return;
    if (this.status !== 'reconnecting' && this.status !== 'offline') this._setStatus('connecting');
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url);
    } catch (error) {
      this.lastError = String(error);
      this._scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this._send({ type: 'hello', token: this.getToken() || '', since: this.getSince(), filter: this.filter });
      this._arm();
    };
    ws.onmessage = (event) => this._frame(event.data);
    ws.onclose = (event) => this._closed(ws, event);
    ws.onerror = () => {};
  }

  _send(message) {
    if (this.ws && this.ws.readyState === 1) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  /** Send a client message (e.g. an `ack`); false when the socket is not open. */
  send(message) {
    return this._send(message);
  }

  // A silent socket (no change, no ping) for 2.5 heartbeats is dead even if the OS has not said so.
  _arm() {
    this.timers.clearTimeout(this._watchdog);
    this._watchdog = this.timers.setTimeout(() => {
      if (this.ws) this.ws.close(4901, 'no heartbeat');
    }, this.pingSeconds * 2500);
  }

  // A frame carries one or more messages, one per line (docs/realtime.md §2).
  _frame(raw) {
    for (const line of String(raw).split('\n')) {
      if (!line) continue;
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        continue;
      }
      this._message(message);
    }
    // After the frame: a welcome sets the heartbeat interval the watchdog waits for.
    if (this.ws) this._arm();
  }

  // A seq the stream vouches for without a change (docs/realtime.md §7): the caller resumes
  // from it when nothing it applied is later.
  _advance(seq) {
    if (typeof seq === 'number') this.onPosition(seq);
  }

  _message(message) {
    switch (message.type) {
      case 'welcome': {
        this.attempt = 0;
        this.lastError = null;
        if (message.ping_seconds) this.pingSeconds = message.ping_seconds;
        const since = this.getSince();
        this._setStatus(since != null && message.head > since ? 'catching_up' : 'live');
        // Alert pushes are not replayed: a reconnected client reads their state again.
        this.onWelcome(message);
        break;
      }
      case 'live':
        this._advance(message.seq);
        if (this.status !== 'live') this._setStatus('live');
        break;
      case 'change':
        this.onChange(message);
        break;
      case 'reset':
        this._advance(message.head);
        this.onReset(message);
        break;
      case 'ping':
        this._send({ type: 'pong' });
        this._advance(message.seq);
        break;
      case 'subscribed':
        this._advance(message.seq);
        break;
      case 'alert':
      case 'alert_state':
      case 'acked':
        this.onAlert(message);
        break;
      case 'error':
        this.lastError = message.message;
        if (message.field === 'alert') this.onAlert(message);
        break;
      default:
        // Unknown types are ignored, as the protocol asks.
        break;
    }
  }

  async _closed(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.timers.clearTimeout(this._watchdog);
    if (this._stopped) return;
    this.lastError = event.reason || (event.code ? `closed (${event.code})` : 'closed');
    if (event.code === UNAUTHENTICATED) {
      try {
        await this.onAuthFailure();
      } catch {
        this._setStatus('offline');
        return;
      }
      this._setStatus('reconnecting');
      this._connect();
      return;
    }
    if (event.code === BAD_HELLO || event.code === FORBIDDEN) {
      // The server refuses this client as it is; try again only slowly.
      this.attempt = this.backoff.length - 1;
    }
    this._scheduleRetry();
  }

  _scheduleRetry() {
    const delay = Math.round(this.backoff[Math.min(this.attempt, this.backoff.length - 1)] * this.jitter());
    this.attempt += 1;
    this._setStatus(this.attempt > 3 ? 'offline' : 'reconnecting');
    this.timers.clearTimeout(this._retry);
    this._retry = this.timers.setTimeout(() => this._connect(), delay);
  }
}

/** The /ws URL of the page's own origin. */
export function streamUrl(location = globalThis.location) {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}
