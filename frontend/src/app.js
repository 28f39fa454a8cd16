// The watch's dashboard (and the wall view): composes the store, its sync with the server, the
// map and the panels. What each does lives in its own module.
import { ApiError } from './api.js';
import { errorDetail } from './format.js';
import { KEEP_MS, pictureRecord, restorePicture, staleSince } from './offline.js';
import { Store } from './store.js';
import { PictureSync } from './sync.js';
import { Replay } from './replay.js';
import { MapView } from './map.js';
import { tileAddress } from './tiles.js';
import { language, onLanguage, setLanguage, startLanguage, t, translate } from './i18n.js';
import { timeWindow } from './mapdata.js';
import { formatDateTime, fromLocalInput } from './time.js';
import { onTheme, resolvedTheme } from './theme.js';
import { fill, $ } from './dom.js';
import { Legend } from './panels/legend.js';
import { Feed } from './panels/feed.js';
import { Detail } from './panels/detail.js';
import { Logbook } from './panels/logbook.js';
import { Editor } from './panels/editor.js';
import { Search } from './panels/search.js';
import { Wall } from './panels/wall.js';
import { Board } from './panels/board.js';
import { Handover } from './panels/handover.js';
import { AlertBook } from './alerts.js';
import { Alerts } from './panels/alerts.js';
import { Inbox } from './panels/inbox.js';
import { alertFromLocation, unsubscribe as unsubscribePush } from './push.js';
import { Composer } from './panels/composer.js';
import { Campaigns } from './panels/campaigns.js';
import { Stats } from './panels/stats.js';
import { Header } from './panels/header.js';
import { Toasts } from './panels/toasts.js';
import { Announcements } from './panels/announcements.js';
import { Hotspots } from './panels/hotspots.js';
import { Exercises } from './panels/exercises.js';
import { Feeds } from './panels/feeds.js';
import { ReplayControl } from './panels/replay.js';
import { Planning } from './panels/planning.js';
import { Field } from './panels/field.js';
import { Mobile } from './panels/mobile.js';

const NOW_TICK_MS = 60000;
const ALERTS_SEED = 100;
const REFERENCE_SIMPLIFY = 0.00005;
// The last picture is written again this long after a change (changes in a burst: once).
const KEEP_DELAY_MS = 3000;

export class App {
  /**
   * @param lastPicture  where this session keeps its last picture for a start without the
   *                     network (offline.js LastPicture), or null
   * @param forget       forgets what the session kept (the picture, scoped caches, the service
   *                     worker told): awaited at logout
   */
  constructor({ api, root, wall = false, config = {}, chosenAtLogin = null, lastPicture = null, forget = async () => {} }) {
    this.api = api;
    this.lastPicture = lastPicture;
    this.forget = forget;
    // Started from the kept picture (no network): marked stale until the stream is live again.
    this.restored = false;
    // When the picture shown was last known current (shown on the stale banner), and since when
    // it is shown as stale (null: it is current).
    this.freshAt = null;
    this.staleAt = null;
    this.root = root;
    this.wall = wall;
    this.config = config;
    this.chosenAtLogin = chosenAtLogin;
    this.store = new Store();
    this.permissions = new Set();
    this.me = null;
    this.timeMode = 'now';
    this.custom = {};
    this.hideOutside = false;
    this.metrics = { firstPicture: null, snapshotLoaded: null, counts: {}, marks: {} };
    this.cleanups = [];
    this.alerts = new AlertBook();
    this.organisations = new Map();
    this.toasts = new Toasts(root);
    this.sync = new PictureSync({
      api,
      store: this.store,
      readable: (entity) => this.readable(entity),
      on: {
        status: (status) => this._connectionStatus(status),
        alert: (message) => this._onAlert(message),
        welcome: (_message, { again }) => {
          // Started from the kept picture: the alerts were not read yet.
          if (again || this.restored) this.loadAlerts();
          this.restored = false;
        },
        reloading: () => this.toast(t('alert.reloading'), 'info'),
        reloaded: () => this.toast(t('alert.reloaded'), 'info'),
        error: (error) => this.apiError(error),
        // The map's tiles hold the picture shown: read again with its filter.
        picture: () => this.mapView?.retile(),
      },
    });
    // The past, on the same store (replay.js): while it shows, nothing is written (can()).
    // It replays the picture shown: the real one's past, or the exercise picture's.
    this.replay = new Replay({ api, store: this.store, readable: (entity) => this.readable(entity), picture: () => this.sync.picture });
    this.replaying = false;
    // A write asked for while the past shows is refused here too, whatever asked for it.
    api.refuseWrite = (method, path) => this.replaying && !path.startsWith('/api/auth/');
  }

  /** Whether this user may do `action` now: while a replay shows the past, only read. */
  can(action) {
    if (this.replaying && !action.endsWith(':read')) return false;
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
    let restored = null;
    try {
      this.me = await this.api.get('/api/auth/me');
    } catch (error) {
      // No answer at all (not a refusal): the network is gone. This session's last picture, if
      // it kept one, is shown, marked stale, and the stream catches up when it returns.
      restored = error instanceof ApiError ? null : await this.lastPicture?.load();
      if (!restored) throw error;
      this.me = restored.me;
    }
    this.restored = Boolean(restored);
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
    this.header = new Header(this);
    this.cleanups.push(onLanguage(() => this._renderStale()));

    // The lists are read while the map starts: the store does not need the map, and the map
    // draws whatever the store holds when it is ready.
    this.mark('lists_start');
    const read = restored ? Promise.resolve().then(() => restorePicture(restored, { store: this.store, sync: this.sync })) : this.sync.loadSnapshot();
    const snapshot = read.then(() => {
      this.metrics.snapshotLoaded = performance.now();
      this.freshAt = restored ? restored.currentAt : Date.now();
      if (restored) this._setStale(restored.currentAt);
    });
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
      // A big collection (above SITCEN_TILE_THRESHOLD) is drawn from the server's vector
      // tiles, read with this session's token.
      // Its tiles hold the picture shown, real or exercise (read again when it changes).
      tileUrl: (path) => tileAddress(location.origin, path, this.sync.picture),
      transformRequest: (url) => (url.startsWith(`${location.origin}/api/tiles/`) && this.api.token ? { url, headers: { Authorization: `Bearer ${this.api.token}` } } : undefined),
    });
    await this.mapView.init();
    this.mark('map');
    this.mapView.on('select', (entity, id) => this.openDetail(entity, id, { fly: false }));
    this.cleanups.push(onTheme((theme) => this.mapView.setTheme(theme)));
    this.cleanups.push(onLanguage((lang) => this.mapView.setLanguage(lang)));

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
      if (this.readable('activation')) this.panels.board = new Board(this);
      // After the board: both take the wide column, and the address says which.
      if (this.can('hotspots:read')) this.panels.hotspots = new Hotspots(this);
      if (this.can('handovers:read')) this.panels.handover = new Handover(this);
      this._alertPanels();
      if (this.can('stats:read')) this.panels.stats = new Stats(this);
      if (this.can('exercises:control')) this.panels.exercises = new Exercises(this);
      if (this.readable('changes')) this.panels.replay = new ReplayControl(this);
      if (this.can('conflicts:read')) this.panels.planning = new Planning(this);
      if (this.can('feeds:read')) this.panels.feeds = new Feeds(this);
      // Phones and tablets (their tab is shown only there): where am I, the zones around, a report.
      this.panels.field = new Field(this);
      this.panels.mobile = new Mobile(this);
      this._tabs();
      this.panels.mobile.fold();
      this._exercisePicture();
      this._timeFilter();
    }
    this.announcements = new Announcements(this);

    const [layers] = await Promise.all([reference, snapshot]);
    this.mark('lists');
    this.referenceLayers = layers;
    this.mapView.setReference(layers);
    for (const panel of Object.values(this.panels)) panel.reference?.(layers);
    // A board linked to (#board/<id>) opens once the picture holds its activation.
    this.panels.board?.route();
    this.panels.hotspots?.route();
    // Alerts are read beside the stream: their pushes and this snapshot merge in any order.
    // (Started from the kept picture: once the stream is back.)
    if (!restored) this.loadAlerts().then(() => this._openPushedAlert());
    if (this.readable('changes')) this.sync.start();
    // The feed's recent history is read while the map draws the picture (the kept one has its own).
    const feed = restored ? Promise.resolve() : this.sync.seedFeed().catch((error) => this.apiError(error));
    await Promise.all([feed.then(() => this.mark('feed')), this.mapView.settled()]);
    this.metrics.firstPicture = performance.now();
    document.body.dataset.ready = 'true';
    this._keepPicture();
    this._warmReference();
  }

  /**
   * On the first visit the reference layers were read before the service worker controlled the
   * page: read once more through it when it takes over, so a start without the network has them.
   */
  _warmReference() {
    const workers = globalThis.navigator?.serviceWorker;
    if (!workers || this._referenceControlled || !this.can('reference:read')) return;
    const warm = () => this._reference();
    if (workers.controller) {
      warm();
      return;
    }
    workers.addEventListener('controllerchange', warm, { once: true });
    this.cleanups.push(() => workers.removeEventListener('controllerchange', warm));
  }

  /** The stream's state: the header shows it; a picture no longer current is marked stale. */
  _connectionStatus(status) {
    const was = this.connection?.status;
    if (status.status === 'live') this.freshAt = Date.now();
    else if (was === 'live' && status.offlineSince) this.freshAt = status.offlineSince;
    this.header?.setStatus(status);
    this._setStale(staleSince(this.staleAt, status, globalThis.navigator?.onLine ?? true));
    // The picture as it was when the stream was lost: kept at once (a phone may lock next).
    if (was === 'live' && status.status !== 'live') this.savePicture();
  }

  _setStale(at) {
    this.staleAt = at;
    this._renderStale();
  }

  _renderStale() {
    const banner = $('#stale-banner', this.root);
    if (!banner) return;
    const stale = this.staleAt != null && !this.replaying;
    banner.hidden = !stale;
    document.body.classList.toggle('stale', stale);
    if (stale) fill(banner, t('offline.stale', { time: formatDateTime(this.staleAt) }));
  }

  /**
   * Keep the live picture for a start without the network (offline.js): a few seconds after a
   * change, every KEEP_MS, when the page is hidden (a phone locked) and when the stream is lost.
   */
  _keepPicture() {
    if (!this.lastPicture?.available) return;
    let timer = null;
    const save = () => {
      clearTimeout(timer);
      timer = null;
      this.savePicture();
    };
    const soon = () => {
      timer ??= setTimeout(save, KEEP_DELAY_MS);
    };
    const hidden = () => {
      if (document.visibilityState === 'hidden') save();
    };
    const unsubscribe = this.store.subscribe((event) => {
      if (event.type === 'change' || event.type === 'snapshot') soon();
    });
    const every = setInterval(save, KEEP_MS);
    document.addEventListener('visibilitychange', hidden);
    globalThis.addEventListener?.('pagehide', save);
    this.cleanups.push(() => {
      unsubscribe();
      clearTimeout(timer);
      clearInterval(every);
      document.removeEventListener('visibilitychange', hidden);
      globalThis.removeEventListener?.('pagehide', save);
    });
    save();
  }

  /** Write the live picture to this session's keep (not the past of a replay, nor the exercise picture). */
  async savePicture() {
    if (!this.lastPicture?.available || this.stopped || this.replaying || this.sync.picture !== 'real' || !this.me) return false;
    const currentAt = this.connection?.status === 'live' ? Date.now() : (this.freshAt ?? Date.now());
    const record = pictureRecord({ store: this.store, sync: this.sync, me: this.me, currentAt });
    // A full disk or a private window's refusal: the dashboard works on without it.
    this._saving = this.lastPicture.save(record).catch(() => false);
    return this._saving;
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
    // Read through the service worker (kept by it for a start without the network) or not yet.
    this._referenceControlled = Boolean(globalThis.navigator?.serviceWorker?.controller);
    const names = ['region', 'municipality', 'police_zone', 'landmark'];
    // Outlines simplified for display (about 5 m, below what a city-wide view shows): the
    // server keeps the full ones for enrichment. Landmarks are points.
    const query = (n) => (n === 'landmark' ? '' : `?simplify=${REFERENCE_SIMPLIFY}`);
    const layers = await Promise.all(names.map((n) => this.api.get(`/api/reference/${n}${query(n)}`).catch(() => null)));
    return Object.fromEntries(names.map((n, i) => [n, layers[i]]));
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
    this.announcements.alert(message, known);
  }

  /** The connection's state as the header shows it (tests read it). */
  get connection() {
    return this.header?.connection ?? null;
  }

  /** The count on the alerts tab (the alert panels call it when the book changes). */
  renderAlertCount() {
    this.announcements?.renderAlertCount();
  }

  toast(text, kind = 'info', options = {}) {
    this.toasts.show(text, kind, options);
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
    this.panels[name]?.shown?.();
    this.panels.mobile?.shown();
  }

  _tabs() {
    // A partner does not read the logbook: its tab is not offered; nor are the alert panels
    // to a role without them.
    $('#tab-logbook', this.root).hidden = !this.readable('logbook_entry');
    $('#tab-alerts', this.root).hidden = !this.panels.alerts;
    $('#tab-campaigns', this.root).hidden = !this.panels.campaigns;
    $('#tab-stats', this.root).hidden = !this.panels.stats;
    $('#tab-exercises', this.root).hidden = !this.panels.exercises;
    $('#tab-planning', this.root).hidden = !this.panels.planning;
    $('#tab-feeds', this.root).hidden = !this.panels.feeds;
    const offered = [...this.root.querySelectorAll('[role="tab"]')].filter((tab) => !tab.hidden);
    for (const tab of offered) {
      tab.addEventListener('click', () => this.showTab(tab.dataset.tab));
      tab.addEventListener('keydown', (e) => {
        if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
        // The tabs laid out on this screen (the field tab is only on a phone's or tablet's).
        const tabs = offered.filter((t) => t.getClientRects().length > 0);
        const i = tabs.indexOf(tab) + (e.key === 'ArrowRight' ? 1 : -1);
        const next = tabs[(i + tabs.length) % tabs.length];
        this.showTab(next.dataset.tab);
        next.focus();
      });
    }
    this.showTab('feed');
  }

  /**
   * The toggle "Exercise picture": the real picture by default (no exercise object), or the
   * exercise objects on their own, with a banner saying so (docs/replay-and-exercises.md).
   */
  _exercisePicture() {
    const toggle = $('#exercise-picture', this.root);
    const banner = $('#exercise-banner', this.root);
    toggle.addEventListener('change', async () => {
      const exercise = toggle.checked;
      banner.hidden = !exercise;
      document.body.classList.toggle('exercise-picture', exercise);
      try {
        await this.sync.setPicture(exercise ? 'exercise' : 'real');
      } catch (error) {
        this.apiError(error);
      }
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
    // In a replay, "now" is the play head.
    const now = this.replay.active ? this.replay.time : Date.now();
    this.mapView.setWindow(timeWindow(this.timeMode, this.custom, now), this.hideOutside);
    this._windowAt = now;
  }

  /**
   * Show the picture at `at` (epoch ms), read-only, playing up to `end`: the live stream is
   * left (PictureSync.pause) and the store given to the replay.
   */
  async enterReplay(at, end) {
    if (!this.replaying) {
      this.replaying = true;
      this.sync.pause();
      document.body.classList.add('replaying');
      this._renderStale();
      this.header?.setStatus({ status: 'replay', offlineSince: null, error: null });
      // The map draws the replayed store, every collection whole: the tiles are today's.
      this.mapView?.setReplay(true);
      this._replayTicks = this.replay.subscribe((event) => {
        // The map's window follows the play head, by the replayed minute, at most once a
        // second: it recomputes every map feature.
        if (event.type === 'playing' && !event.playing) this.applyWindow();
        if (event.type !== 'time' || Math.abs(event.time - (this._windowAt ?? 0)) < 60000) return;
        if (!this.replay.playing || performance.now() - (this._windowDrawn ?? 0) >= 1000) {
          this._windowDrawn = performance.now();
          this.applyWindow();
        }
      });
      this.refreshPanels();
    }
    try {
      await this.replay.seek(at, { end });
    } catch (error) {
      this.apiError(error);
    }
    this.applyWindow();
  }

  /** Move the replay's play head to `at` (a drag of the control, a bookmark, a feed entry). */
  async replayTo(at) {
    if (!this.replaying) {
      await this.panels.replay?.open(at);
      return;
    }
    this.replay.pause();
    await this.guard(this.replay.seek(at));
    this.applyWindow();
  }

  /** Back to the live picture: read afresh and followed from the feed's head (sync.js). */
  async goLive() {
    if (!this.replaying) return;
    this._replayTicks?.();
    this.replay.stop();
    this.replaying = false;
    document.body.classList.remove('replaying');
    this._renderStale();
    this.refreshPanels();
    this.mapView?.setReplay(false);
    await this.guard(this.sync.resumeLive());
    this.applyWindow();
  }

  /** Panels whose buttons depend on can(): drawn again when the dashboard turns read-only or back. */
  refreshPanels() {
    for (const panel of Object.values(this.panels || {})) panel.permissionsChanged?.();
  }

  /** Await `promise`, showing its failure as an API error. */
  async guard(promise) {
    try {
      return await promise;
    } catch (error) {
      this.apiError(error);
      return null;
    }
  }

  /** A push notification opened the app at an alert (?alert=<id>), or asks an open one to show
   * it (the service worker's `open-alert` message): the alerts tab, at that alert; a page's
   * notification (`open-board`) the activation's board. */
  _openPushedAlert() {
    const show = (id) => {
      if (!id || !this.panels.alerts?.reveal) return;
      this.showTab('alerts');
      this.panels.alerts.reveal(id);
    };
    show(alertFromLocation());
    const worker = globalThis.navigator?.serviceWorker;
    if (!worker?.addEventListener) return;
    const onMessage = (event) => {
      if (event.data?.type === 'open-alert') show(event.data.alert);
      // A crisis cell's page (a SITCEN user's seat): its activation's board, as #board/<id> opens.
      if (event.data?.type === 'open-board' && /^[0-9a-f-]{36}$/i.test(event.data.activation || '')) {
        globalThis.location.hash = `#board/${event.data.activation}`;
      }
    };
    worker.addEventListener('message', onMessage);
    this.cleanups.push(() => worker.removeEventListener('message', onMessage));
  }

  async logout() {
    // This device stops taking the user's alerts: a shared phone must not keep receiving them.
    if (this.can('push:subscribe')) await unsubscribePush(this.api).catch(() => {});
    this.stop();
    await this._saving;
    // The session's kept picture, scoped caches and the service worker's are forgotten before
    // the page leaves (an IndexedDB write in flight may not outlive it).
    await Promise.all([this.api.logout(), this.forget()]);
    location.replace(location.pathname + location.search);
  }

  stop() {
    this.stopped = true;
    this.replay.stop();
    this.sync.stop();
    this.mapView?.destroy();
    this.mapView = null;
    for (const cleanup of this.cleanups) cleanup();
    this.cleanups = [];
  }
}
