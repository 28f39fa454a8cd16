// The watch's dashboard (and the wall view): loads the snapshot, follows /ws from its head,
// and wires the store to the map and the panels.
import { errorDetail } from './format.js';
import { Store } from './store.js';
import { LiveClient, streamUrl } from './live.js';
import { MapView } from './map.js';
import { ENTITIES, SEVERITY_RANK } from './model.js';
import { label, language, onLanguage, rememberLanguage, setLanguage, startLanguage, t, translate, LANGUAGES } from './i18n.js';
import { timeWindow } from './mapdata.js';
import { formatTime, fromLocalInput } from './time.js';
import { applyTheme, onTheme, resolvedTheme, themeChoice, THEME_CHOICES } from './theme.js';
import { beep, setSound, soundOn } from './sound.js';
import { h, fill, $ } from './dom.js';
import { Legend } from './panels/legend.js';
import { Feed } from './panels/feed.js';
import { Detail } from './panels/detail.js';
import { Logbook } from './panels/logbook.js';
import { Editor } from './panels/editor.js';
import { Search } from './panels/search.js';
import { Wall } from './panels/wall.js';
import { AlertBook, textOf } from './alerts.js';
import { Alerts } from './panels/alerts.js';
import { Inbox } from './panels/inbox.js';
import { Composer } from './panels/composer.js';
import { Campaigns } from './panels/campaigns.js';

const FEED_SEED = 100;
const TOAST_LIMIT = 5;
const NOW_TICK_MS = 60000;
const ALERTS_SEED = 100;

export class App {
  constructor({ api, root, wall = false, config = {}, chosenAtLogin = null }) {
    this.api = api;
    this.root = root;
    this.wall = wall;
    this.config = config;
    this.chosenAtLogin = chosenAtLogin;
    this.store = new Store();
    this.permissions = new Set();
    this.me = null;
    this.unread = 0;
    this.reloading = null;
    this.buffer = [];
    this.timeMode = 'now';
    this.custom = {};
    this.hideOutside = false;
    this.metrics = { firstPicture: null, snapshotLoaded: null, counts: {}, marks: {} };
    this.cleanups = [];
    this.alerts = new AlertBook();
    this.organisations = new Map();
    this._announced = new Set();
  }

  can(action) {
    return this.permissions.has(action);
  }

  readable(entity) {
    return this.can(`${entity}:read`);
  }

  mark(name) {
    this.metrics.marks[name] = Math.round(performance.now());
  }

  async start() {
    this.mark('start');
    this.me = await this.api.get('/api/auth/me');
    this.mark('me');
    this.permissions = new Set(this.me.permissions);
    this.user = this.api.user || { username: this.me.name, role: this.me.role, full_name: this.me.full_name };
    // The account's language (the server's), or one picked on the login page, saved to it.
    const start = startLanguage({ account: this.me.language, chosenAtLogin: this.chosenAtLogin, current: language() });
    setLanguage(start.lang);
    if (start.save) this.saveLanguage(start.lang);
    const template = document.getElementById(this.wall ? 'tpl-wall' : 'tpl-app');
    fill(this.root, template.content.cloneNode(true));
    document.body.classList.toggle('wall-mode', this.wall);
    translate(this.root);
    this._header();

    // The lists are read while the map starts: the store does not need the map, and the map
    // draws whatever the store holds when it is ready.
    const snapshot = this.loadSnapshot();
    const reference = this._reference();
    // Awaited below; until then a failure must not count as unhandled.
    snapshot.catch(() => {});
    this.mapView = new MapView({
      container: $('#map', this.root),
      store: this.store,
      theme: resolvedTheme(),
      language: language(),
      interactive: true,
      controls: !this.wall,
      basemapUrl: this.config.basemap_style_url || null,
    });
    await this.mapView.init();
    this.mark('map');
    this.mapView.on('select', (entity, id) => this.openDetail(entity, id, { fly: false }));
    this.cleanups.push(onTheme((theme) => this.mapView.setTheme(theme)));
    this.cleanups.push(onLanguage((lang) => {
      this.mapView.setLanguage(lang);
      this._renderStatus();
    }));

    if (this.wall) {
      this.panels = { wall: new Wall(this) };
    } else {
      this.panels = {
        legend: new Legend(this),
        feed: new Feed(this),
        detail: new Detail(this),
        logbook: new Logbook(this),
        editor: new Editor(this),
        search: new Search(this),
      };
      this._alertPanels();
      this._tabs();
      this._timeFilter();
    }
    this.store.subscribe((event) => this._watchSevere(event));

    const [layers] = await Promise.all([reference, snapshot]);
    this.mark('lists');
    this.referenceLayers = layers;
    this.mapView.setReference(layers);
    for (const panel of Object.values(this.panels)) panel.reference?.(layers);
    // Alerts are read beside the stream: their pushes and this snapshot merge in any order.
    this.loadAlerts();
    this._startLive();
    // The feed's recent history is read while the map draws the picture.
    await Promise.all([this._seedFeed().then(() => this.mark('feed')), this.mapView.settled()]);
    this.metrics.firstPicture = performance.now();
    document.body.dataset.ready = 'true';
  }

  /** Keep a language the user chose on their account; the page has switched already. */
  async saveLanguage(lang) {
    if (this.me?.kind !== 'user') return;
    try {
      this.me.language = (await this.api.saveLanguage(lang)).language;
    } catch (error) {
      this.toast(t('alert.language_failed', { detail: errorDetail(error) }), 'error');
    }
  }

  async _reference() {
    if (!this.can('reference:read')) return {};
    const names = ['region', 'municipality', 'police_zone', 'landmark'];
    const layers = await Promise.all(names.map((n) => this.api.get(`/api/reference/${n}`).catch(() => null)));
    return Object.fromEntries(names.map((n, i) => [n, layers[i]]));
  }

  /** Read every readable collection (all pages) and replace the store's picture with it. */
  async loadSnapshot() {
    this.reloading = true;
    this.buffer = [];
    const entities = Object.keys(ENTITIES).filter((e) => this.readable(e));
    this.mark('lists_start');
    const results = await Promise.all(
      entities.map((entity) => this.api.getAll(`/api/${ENTITIES[entity].path}?limit=1000`)),
    );
    const snapshot = {};
    let head = Infinity;
    entities.forEach((entity, i) => {
      snapshot[entity] = results[i].features;
      head = Math.min(head, results[i].head);
    });
    this.store.loadSnapshot(snapshot, head === Infinity ? 0 : head);
    this.reloading = false;
    const buffered = this.buffer;
    this.buffer = [];
    for (const change of buffered) this.store.applyChange(change);
    this.metrics.snapshotLoaded = performance.now();
  }

  async _seedFeed() {
    if (!this.can('changes:read')) return;
    const since = Math.max(0, this.store.seq - FEED_SEED);
    try {
      let page = await this.api.get(`/api/changes?since=${since}&limit=${FEED_SEED}`);
      // Older changes were pruned (docs/realtime.md §7): the list starts at the oldest kept.
      if (page.reset && page.oldest != null) {
        page = await this.api.get(`/api/changes?since=${page.oldest - 1}&limit=${FEED_SEED}`);
      }
      this.store.seedFeed(page.changes.filter((c) => c.seq <= this.store.seq && this.readable(c.entity)));
    } catch (error) {
      this.toast(t('alert.error', { detail: errorDetail(error) }), 'error');
    }
  }

  _startLive() {
    if (!this.can('changes:read')) return;
    this.live = new LiveClient({
      url: streamUrl(),
      getToken: () => this.api.token,
      getSince: () => this.store.seq,
      onChange: (message) => this._onLiveChange(message),
      onAlert: (message) => this._onAlert(message),
      // Alert pushes are not replayed after a reconnection: read their state again.
      onWelcome: () => {
        if (this.welcomed) this.loadAlerts();
        this.welcomed = true;
      },
      onReset: () => this._onReset(),
      onStatus: (status) => {
        this.connection = status;
        this._renderStatus();
      },
      onAuthFailure: () => this.api.refresh(),
    });
    this.live.start();
    const online = () => this.live.reconnectNow();
    window.addEventListener('online', online);
    this.cleanups.push(() => window.removeEventListener('online', online));
  }

  /** The alert panels this role is given: SITCEN's state and composer, or a partner's inbox. */
  _alertPanels() {
    if (!this.can('alerts:read')) return;
    const partner = this.me.role === 'partner';
    this.panels.alerts = partner ? new Inbox(this) : new Alerts(this);
    if (this.can('alerts:send')) this.panels.composer = new Composer(this);
    if (this.can('campaigns:read')) this.panels.campaigns = new Campaigns(this);
  }

  get partner() {
    return this.me?.role === 'partner';
  }

  /** An organisation's name in the current language (from a row that carries it, or the list). */
  organisationName(code, row = null) {
    const o = row?.name_fr ? row : this.organisations.get(code);
    if (!o) return code;
    return (language() === 'nl' ? o.name_nl : o.name_fr) || code;
  }

  /** The alerts' snapshot: the latest alerts with each partner's state, and the escalations. */
  async loadAlerts() {
    if (!this.panels?.alerts) return;
    const staff = !this.partner;
    try {
      const [page, organisations, escalations] = await Promise.all([
        this.api.get(`/api/alerts?limit=${ALERTS_SEED}${staff ? '&deliveries=true' : ''}`),
        staff && this.can('organisations:read') && !this.organisations.size ? this.api.get('/api/organisations') : null,
        staff ? this.api.get('/api/alerts/escalations') : null,
      ]);
      for (const o of organisations?.organisations || []) this.organisations.set(o.code, o);
      this.alerts.load(page.alerts);
      const unknown = escalations ? this.alerts.loadEscalations(escalations.escalations) : [];
      if (unknown.length) this.alerts.load(await Promise.all(unknown.map((id) => this.api.get(`/api/alerts/${id}`))));
    } catch (error) {
      this.apiError(error);
    }
    this.panels.campaigns?.load();
  }

  async _onAlert(message) {
    if (message.type === 'error') {
      this.toast(t('alert.error', { detail: message.message }), 'error');
      return;
    }
    if (!this.panels?.alerts) return;
    const known = this.alerts.has(message.alert?.id ?? message.alert);
    if (this.alerts.apply(message) === 'unknown') {
      try {
        this.alerts.load([await this.api.get(`/api/alerts/${message.alert}`)]);
      } catch {
        return;
      }
    }
    if (message.type === 'alert' && !known) this._announceAlert(this.alerts.get(message.alert.id));
    else if (message.type === 'alert_state' && !this.partner) this._announceState(message);
  }

  // A partner hears a new alert: a toast, the tone, the count on the tab.
  _announceAlert(alert) {
    if (!alert || !this.partner) return;
    const extreme = alert.severity === 'Extreme';
    beep(extreme);
    const sev = String(alert.severity).toLowerCase();
    this.toast(t('inbox.arrived', { ref: alert.ref, headline: textOf(alert, language()).headline }), `severe sev-${sev}`, {
      action: () => this.showTab('alerts'),
    });
  }

  // SITCEN hears an acknowledgement, and a partner flagged for not answering.
  _announceState(message) {
    const alert = this.alerts.get(message.alert);
    for (const r of message.recipients || []) {
      if (!alert) continue;
      const row = alert.recipients.get(r.organisation);
      const name = this.organisationName(r.organisation);
      if (r.acknowledged_at && row?.acknowledged_at === r.acknowledged_at && !this._announced.has(`${alert.id}:${r.organisation}:ack`)) {
        this._remember(`${alert.id}:${r.organisation}:ack`);
        this.toast(t('alerts.acked_toast', { partner: name, ref: alert.ref, who: r.acknowledged_by }), 'info', {
          action: () => this.panels.alerts.open(alert.id),
          timeout: 8000,
        });
      } else if (r.flagged_at && !r.acknowledged_at && !this._announced.has(`${alert.id}:${r.organisation}:flag`)) {
        this._remember(`${alert.id}:${r.organisation}:flag`);
        beep(true);
        this.toast(t('alerts.flagged_toast', { partner: name, ref: alert.ref }), 'error', { action: () => this.panels.alerts.open(alert.id) });
      }
    }
  }

  _remember(key) {
    this._announced.add(key);
  }

  /** The count on the alerts tab: a partner's alerts to acknowledge, SITCEN's escalations. */
  renderAlertCount() {
    const badge = $('#tab-alerts .tab-count', this.root);
    if (!badge) return;
    const n = this.partner ? this.alerts.unacknowledged(this.me.organisation).length : this.alerts.escalations().length;
    badge.hidden = n === 0;
    fill(badge, String(n));
    badge.title = this.partner ? t('inbox.to_acknowledge', { n }) : t('alerts.escalations_count', { n });
  }

  _onLiveChange(message) {
    if (!this.readable(message.entity)) return;
    const change = { ...message, arrivedAt: performance.now() };
    if (this.reloading) this.buffer.push(change);
    else this.store.applyChange(change);
  }

  async _onReset() {
    if (this.reloading) return;
    this.toast(t('alert.reloading'), 'info');
    try {
      await this.loadSnapshot();
      this.toast(t('alert.reloaded'), 'info');
    } catch (error) {
      this.reloading = false;
      this.toast(t('alert.error', { detail: errorDetail(error) }), 'error');
    }
  }

  _renderStatus() {
    const el = $('#conn', this.root);
    if (!el || !this.connection) return;
    const { status, offlineSince, error } = this.connection;
    el.dataset.status = status;
    const since = offlineSince && status !== 'live' ? ` ${t('status.since', { time: formatTime(offlineSince) })}` : '';
    fill($('.conn-text', el), t(`status.${status}`) + since);
    el.title = error || t('status.label');
  }

  // A new severe or extreme incident, or one raised to that grade, rings on the map, shows a
  // toast and counts as unread until the agent looks.
  _watchSevere(event) {
    if (event.type !== 'change' || event.entity !== 'incident' || event.outcome !== 'applied') return;
    if (!event.entry?.arrivedAt || !event.feature) return;
    const rank = SEVERITY_RANK[event.feature.properties.severity] ?? 0;
    const before = event.previous ? SEVERITY_RANK[event.previous.properties.severity] ?? 0 : -1;
    if (rank < 2 || before >= 2) return;
    this.mapView.flash(event.feature);
    if (this.wall) return;
    this.unread += 1;
    this._renderUnread();
    beep(rank === 3);
    const p = event.feature.properties;
    this.toast(t('alert.severe', { severity: label('severity', p.severity), title: p.title }), `severe sev-${p.severity}`, {
      action: () => this.openDetail('incident', event.feature.id),
    });
  }

  _renderUnread() {
    const button = $('#unread', this.root);
    if (!button) return;
    button.hidden = this.unread === 0;
    fill(button, String(this.unread));
    button.setAttribute('aria-label', t('header.unread', { n: this.unread }));
    button.title = t('header.unread', { n: this.unread });
  }

  toast(text, kind = 'info', { action = null, timeout = 12000 } = {}) {
    const box = $('#toasts', this.root);
    if (!box) return;
    const item = h(
      'div',
      { class: ['toast', ...kind.split(' ').map((k) => `toast-${k}`)], role: kind.startsWith('error') ? 'alert' : 'status' },
      action ? h('button', { class: 'toast-text', onclick: () => { action(); item.remove(); } }, text) : h('span', { class: 'toast-text' }, text),
      h('button', { class: 'toast-close', 'aria-label': t('alert.dismiss'), onclick: () => item.remove() }, '×'),
    );
    box.prepend(item);
    while (box.children.length > TOAST_LIMIT) box.lastChild.remove();
    setTimeout(() => item.remove(), timeout);
  }

  /** Show an API error: its detail, and the fields it names. */
  apiError(error) {
    this.toast(t('alert.error', { detail: errorDetail(error) }), 'error');
  }

  openDetail(entity, id, { fly = true } = {}) {
    if (this.wall || !this.panels.detail) return;
    this.showTab('detail');
    this.panels.detail.open(entity, id);
    this.mapView.select(entity, id, { fly });
  }

  showTab(name) {
    for (const tab of this.root.querySelectorAll('[role="tab"]')) {
      const on = tab.dataset.tab === name;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      $(`#panel-${tab.dataset.tab}`, this.root).hidden = !on;
    }
  }

  _tabs() {
    // A partner does not read the logbook: its tab is not offered; nor are the alert panels
    // to a role without them.
    $('#tab-logbook', this.root).hidden = !this.readable('logbook_entry');
    $('#tab-alerts', this.root).hidden = !this.panels.alerts;
    $('#tab-campaigns', this.root).hidden = !this.panels.campaigns;
    const tabs = [...this.root.querySelectorAll('[role="tab"]')].filter((tab) => !tab.hidden);
    for (const tab of tabs) {
      tab.addEventListener('click', () => this.showTab(tab.dataset.tab));
      tab.addEventListener('keydown', (e) => {
        if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
        const i = tabs.indexOf(tab) + (e.key === 'ArrowRight' ? 1 : -1);
        const next = tabs[(i + tabs.length) % tabs.length];
        this.showTab(next.dataset.tab);
        next.focus();
      });
    }
    this.showTab('feed');
  }

  _header() {
    const user = this.user;
    const who = $('#whoami', this.root);
    const renderWho = () => who && fill(who, t('header.user', { name: user.full_name || user.username, role: label('role', this.me.role) }));
    renderWho();
    this.cleanups.push(onLanguage(renderWho));

    const lang = $('#lang', this.root);
    if (lang) {
      fill(lang, LANGUAGES.map((l) => h('option', { value: l, lang: l }, CATALOGUE_NAMES[l])));
      lang.value = language();
      this.cleanups.push(onLanguage((l) => { lang.value = l; }));
      lang.addEventListener('change', () => {
        setLanguage(lang.value);
        rememberLanguage(lang.value);
        this.saveLanguage(lang.value);
      });
    }
    const theme = $('#theme', this.root);
    if (theme) {
      const render = () => {
        fill(theme, THEME_CHOICES.map((c) => h('option', { value: c }, t(`theme.${c}`))));
        theme.value = themeChoice();
      };
      render();
      this.cleanups.push(onLanguage(render));
      theme.addEventListener('change', () => applyTheme(theme.value));
    }
    const sound = $('#sound', this.root);
    if (sound) {
      sound.checked = soundOn();
      sound.addEventListener('change', () => {
        setSound(sound.checked);
        if (sound.checked) beep();
      });
    }
    $('#logout', this.root)?.addEventListener('click', () => this.logout());
    const wallLink = $('#wall-link', this.root);
    if (wallLink) wallLink.href = '?mode=wall';
    const unread = $('#unread', this.root);
    unread?.addEventListener('click', () => {
      this.unread = 0;
      this._renderUnread();
      this.showTab('feed');
      this.panels.feed?.showSevere();
    });
  }

  _timeFilter() {
    const mode = $('#time-mode', this.root);
    const custom = $('#time-custom', this.root);
    const from = $('#time-from', this.root);
    const to = $('#time-to', this.root);
    const hide = $('#time-hide', this.root);
    const apply = () => {
      this.timeMode = mode.value;
      custom.hidden = mode.value !== 'custom';
      this.custom = { from: from.value ? fromLocalInput(from.value) : null, to: to.value ? fromLocalInput(to.value) : null };
      this.hideOutside = hide.checked;
      this.applyWindow();
    };
    mode.addEventListener('change', apply);
    from.addEventListener('change', apply);
    to.addEventListener('change', apply);
    hide.addEventListener('change', apply);
    // "Now" moves: the window is recomputed every minute.
    const tick = setInterval(() => {
      if (this.timeMode === 'now' || this.timeMode === 'next24') this.applyWindow();
    }, NOW_TICK_MS);
    this.cleanups.push(() => clearInterval(tick));
    this.applyWindow();
  }

  applyWindow() {
    this.mapView.setWindow(timeWindow(this.timeMode, this.custom), this.hideOutside);
  }

  async logout() {
    this.stop();
    await this.api.logout();
    location.replace(location.pathname + location.search);
  }

  stop() {
    this.live?.stop();
    this.mapView?.destroy();
    this.mapView = null;
    for (const cleanup of this.cleanups) cleanup();
    this.cleanups = [];
  }
}

// Each language's name in itself, as a language menu shows them.
const CATALOGUE_NAMES = { fr: 'Français', nl: 'Nederlands', en: 'English' };
