// The REST client: bearer token kept in this tab's sessionStorage only, one refresh with the
// refresh token on a 401, problem+json errors turned into ApiError with their detail and errors.

const SESSION_KEY = 'sitcen.session';

export class ApiError extends Error {
  constructor(status, body) {
    const detail = body?.detail || body?.title || `HTTP ${status}`;
    super(detail);
    this.status = status;
    this.title = body?.title || '';
    this.detail = detail;
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
    this.body = body;
  }

  /** The field an error names (last part of its loc), for showing it beside a form input. */
  fieldErrors() {
    return this.errors.map((e) => ({ field: String((e.loc || []).at(-1) ?? ''), msg: e.msg }));
  }
}

/**
 * A fresh Idempotency-Key. crypto.randomUUID() exists only in secure contexts (HTTPS or
 * localhost); a control room may reach the service over plain HTTP on its own network.
 */
export function newIdempotencyKey() {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return `ui-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** An upload the user cancelled (not a failure to report). */
export class UploadCancelled extends Error {
  constructor() {
    super('upload cancelled');
    this.name = 'UploadCancelled';
  }
}

export class Api {
  constructor({
    base = '',
    storage = globalThis.sessionStorage,
    fetchImpl = globalThis.fetch?.bind(globalThis),
    XHR = globalThis.XMLHttpRequest,
  } = {}) {
    this.base = base;
    this.storage = storage;
    this.fetch = fetchImpl;
    this.XHR = XHR;
    this.session = this._load();
    this.refreshing = null;
    this.onExpired = () => {};
    this.onSession = () => {};
    this.refuseWrite = null;
    this._timer = null;
  }

  _load() {
    try {
      return JSON.parse(this.storage?.getItem(SESSION_KEY) || 'null');
    } catch {
      return null;
    }
  }

  _save(session) {
    this.session = session;
    if (session) this.storage?.setItem(SESSION_KEY, JSON.stringify(session));
    else this.storage?.removeItem(SESSION_KEY);
    this._schedule();
    this.onSession(session);
  }

  get token() {
    return this.session?.access_token || null;
  }

  get user() {
    return this.session?.user || null;
  }

  _fromAnswer(data) {
    return {
      access_token: data.access_token,
      refresh_token: data.refresh_token,
      expires_at: Date.now() + (data.expires_in || 900) * 1000,
      user: data.user,
    };
  }

  // Refresh a minute before the access token expires, so the stream and a wall screen never
  // meet an expired token.
  _schedule() {
    clearTimeout(this._timer);
    if (!this.session || typeof window === 'undefined') return;
    const wait = Math.max(5000, this.session.expires_at - Date.now() - 60000);
    this._timer = setTimeout(() => this.refresh().catch(() => {}), wait);
  }

  resume() {
    this._schedule();
  }

  async login(username, password) {
    const form = new URLSearchParams({ username, password });
    const data = await this._send('POST', '/api/auth/token', { form, auth: false });
    this._save(this._fromAnswer(data));
    return this.session;
  }

  async logout() {
    const session = this.session;
    this._save(null);
    if (!session) return;
    try {
      const form = new URLSearchParams({ refresh_token: session.refresh_token });
      await this._send('POST', '/api/auth/logout', { form, token: session.access_token });
    } catch {
      // The session is gone from this tab whatever the server says.
    }
  }

  /** One refresh at a time: concurrent 401s wait for the same one. */
  refresh() {
    if (!this.session?.refresh_token) return Promise.reject(new ApiError(401, { detail: 'no session' }));
    if (!this.refreshing) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.session.refresh_token });
      this.refreshing = this._send('POST', '/api/auth/token', { form, auth: false })
        .then((data) => {
          const user = { ...this.session?.user, ...data.user };
          this._save({ ...this._fromAnswer(data), user });
          return this.session;
        })
        .catch((error) => {
          if (error.status === 401 || error.status === 422 || error.status === 400) {
            this._save(null);
            this.onExpired(error);
          }
          throw error;
        })
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }

  async _send(method, path, { body, form, raw, headers = {}, auth = true, token } = {}) {
    const h = { Accept: 'application/json, application/geo+json, application/problem+json', ...headers };
    const bearer = token || (auth ? this.token : null);
    if (bearer) h.Authorization = `Bearer ${bearer}`;
    let payload;
    if (form) {
      payload = form;
      h['Content-Type'] = 'application/x-www-form-urlencoded';
    } else if (raw) {
      // A file sent as it is, with its own type (an exercise scenario in YAML or JSON).
      payload = raw.data;
      h['Content-Type'] = raw.type;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['Content-Type'] = 'application/json';
    }
    const response = await this.fetch(this.base + path, { method, headers: h, body: payload });
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { detail: text.slice(0, 300) };
      }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  /** A request as the signed-in user; on 401 the token is refreshed once and the request repeated. */
  async request(method, path, options = {}) {
    // The dashboard showing the past (a replay) refuses writes (App.can says so to the panels).
    if (method !== 'GET' && this.refuseWrite?.(method, path)) {
      throw new ApiError(409, { title: 'Read-only', detail: 'the dashboard shows the past (replay): return to live to change anything' });
    }
    const headers = { ...(options.headers || {}) };
    if (options.ifMatch != null) headers['If-Match'] = `"${options.ifMatch}"`;
    return this._refreshingOnce(() => this._send(method, path, { ...options, headers }));
  }

  /** Run `go`; on 401 refresh the token once and run it again. */
  async _refreshingOnce(go) {
    try {
      return await go();
    } catch (error) {
      if (error.status !== 401 || !this.session?.refresh_token) throw error;
      await this.refresh();
      return go();
    }
  }

  get(path) {
    return this.request('GET', path);
  }

  /** A file the API serves (a CSV or JSON report) as a Blob, read with the bearer token. */
  async blob(path) {
    return this._refreshingOnce(async () => {
      const response = await this.fetch(this.base + path, { headers: this.token ? { Authorization: `Bearer ${this.token}` } : {} });
      if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
      return response.blob();
    });
  }

  /**
   * Send a file as the request's raw body (the document library's uploads: not multipart),
   * reporting the bytes sent as they go: fetch() has no upload progress, XMLHttpRequest has.
   * Answers {promise, cancel}: the promise gives the JSON answer, or rejects with an ApiError
   * (the problem+json), a TypeError when no answer came, or UploadCancelled.
   */
  upload(path, file, { method = 'POST', ifMatch = null, onProgress = () => {} } = {}) {
    let current = null;
    let cancelled = false;
    const send = () =>
      new Promise((resolve, reject) => {
        if (cancelled) {
          reject(new UploadCancelled());
          return;
        }
        const xhr = new this.XHR();
        current = xhr;
        xhr.open(method, this.base + path);
        xhr.setRequestHeader('Accept', 'application/json, application/geo+json, application/problem+json');
        if (this.token) xhr.setRequestHeader('Authorization', `Bearer ${this.token}`);
        if (ifMatch != null) xhr.setRequestHeader('If-Match', `"${ifMatch}"`);
        xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
        xhr.onload = () => {
          let data = null;
          try {
            data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
          } catch {
            data = { detail: String(xhr.responseText).slice(0, 300) };
          }
          if (xhr.status >= 200 && xhr.status < 300) resolve(data);
          else reject(new ApiError(xhr.status, data));
        };
        // The same error fetch() gives when no answer came (errorDetail says "unreachable").
        xhr.onerror = () => reject(new TypeError('upload failed: no answer from the server'));
        xhr.onabort = () => reject(new UploadCancelled());
        xhr.send(file);
      });
    const promise = this._refreshingOnce(send);
    return {
      promise,
      cancel: () => {
        cancelled = true;
        current?.abort();
      },
    };
  }

  /** The public settings (GET /api/config), read before anyone signs in; {} when unreachable. */
  async config() {
    try {
      return (await this._send('GET', '/api/config', { auth: false })) || {};
    } catch {
      return {};
    }
  }

  /** Keep the signed-in user's language on their account (PATCH /api/auth/me). */
  async saveLanguage(language) {
    const me = await this.request('PATCH', '/api/auth/me', { body: { language } });
    if (this.session) this._save({ ...this.session, user: { ...this.session.user, language: me.language } });
    return me;
  }

  /** Every page of a list, following `links` rel=next; answers {features, head} (the lowest head). */
  async getAll(path, { onPage } = {}) {
    const features = [];
    let head = Infinity;
    let next = path;
    while (next) {
      const page = await this.get(next);
      features.push(...page.features);
      head = Math.min(head, page.head ?? Infinity);
      if (onPage) onPage(page.features);
      const link = (page.links || []).find((l) => l.rel === 'next');
      next = link ? relative(link.href) : null;
    }
    return { features, head: head === Infinity ? 0 : head };
  }
}

function relative(href) {
  try {
    const url = new URL(href, 'http://localhost');
    return url.pathname + url.search;
  } catch {
    return href;
  }
}
