// The planning desk (issue 18): conflicts of planned events, demonstrations and zones in space
// and time (GET /api/conflicts), drawn on the map as their overlaps and listed with both
// objects, the overlapping interval and area, and an acknowledgement with a note; and the
// exercise calendar (GET /api/calendar): the year's exercises beside the planned events, each
// with its partners, objectives, documents and clashes. A conflict the watcher flags (a
// `conflict` record opened in the feed) marks the tab and is announced at once.
import { h, fill, refill } from '../dom.js';
import { label, locale, onLanguage, t } from '../i18n.js';
import { formatDateTime, ZONE } from '../time.js';

export const SOURCE = 'planning-conflicts';
const LAYERS = [
  { id: 'planning-conflicts-fill', type: 'fill', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#d0021b', 'fill-opacity': 0.35 } },
  { id: 'planning-conflicts-line', type: 'line', paint: { 'line-color': '#d0021b', 'line-width': 4, 'line-dasharray': [1, 1] } },
  { id: 'planning-conflicts-point', type: 'circle', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': '#d0021b', 'circle-radius': 7, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
];
const RELOAD_MS = 1500;
const PAGE = 200;

/** An object's kind as the reader says it: an event's or zone's kind, or "demonstration". */
export function kindLabel(object) {
  if (object.entity === 'planned_event') return label('event_kind', object.kind);
  if (object.entity === 'zone') return label('zone_kind', object.kind);
  return label('entity', object.entity);
}

/** The overlap's interval: both ends, an open end said as such. */
export function intervalText(from, to, loc = locale()) {
  const start = from ? formatDateTime(from, loc) : t('planning.open_end');
  const end = to ? formatDateTime(to, loc) : t('planning.open_end');
  return `${start} → ${end}`;
}

/** An overlap's size: its area in m² or ha, or the length a route shares, or a spot. */
export function sizeText(props, loc = locale()) {
  const n = (v, digits = 0) => new Intl.NumberFormat(loc, { maximumFractionDigits: digits }).format(v);
  if (props.area_m2 >= 10000) return `${n(props.area_m2 / 10000, 2)} ha`;
  if (props.area_m2 > 0) return `${n(props.area_m2)} m²`;
  if (props.length_m > 0) return `${n(props.length_m)} m ${t('planning.shared_route')}`;
  return t('planning.spot');
}

/** The months of a calendar (Brussels), each with its exercises and planned events. */
export function byMonth(calendar, loc = locale()) {
  const month = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit' });
  const name = new Intl.DateTimeFormat(loc, { timeZone: ZONE, year: 'numeric', month: 'long' });
  const months = new Map();
  const put = (item, key) => {
    const id = month.format(new Date(item.starts_at));
    if (!months.has(id)) months.set(id, { id, name: name.format(new Date(item.starts_at)), exercises: [], events: [] });
    months.get(id)[key].push(item);
  };
  for (const e of calendar.exercises) put(e, 'exercises');
  for (const e of calendar.events) put(e, 'events');
  return [...months.values()].sort((a, b) => a.id.localeCompare(b.id));
}

export class Planning {
  constructor(app, { now = () => new Date() } = {}) {
    this.app = app;
    this.now = now;
    this.el = app.root.querySelector('#panel-planning');
    this.tab = app.root.querySelector('#tab-planning');
    this.view = 'conflicts';
    this.conflicts = null;
    this.calendar = null;
    this.year = Number(new Intl.DateTimeFormat('en', { year: 'numeric', timeZone: ZONE }).format(now()));
    this.flagged = 0;
    this.timer = null;
    this.isShown = false;
    this.canAcknowledge = app.can('conflicts:acknowledge');
    this.render();
    onLanguage(() => this.render());
    app.store.subscribe((event) => this._onChange(event));
    app.cleanups.push(() => clearTimeout(this.timer));
  }

  shown() {
    this.isShown = true;
    this.flagged = 0;
    this._mark();
    if (this.view === 'conflicts') this.loadConflicts();
    else this.loadCalendar();
  }

  _onChange(event) {
    if (event.type !== 'change' || event.outcome !== 'applied') return;
    const props = event.feature?.properties;
    if (event.entity === 'conflict' && props?.status === 'open' && event.op !== 'deleted' && event.entry) {
      // A conflict opened or re-opened by a change: flag it to the planning desk at once.
      this.flagged += 1;
      this._mark();
      this.app.toast(t('planning.flagged', { title: props.title }), 'error');
    }
    if (!this.isShown) return;
    const relevant = this.view === 'conflicts' ? ['conflict', 'planned_event', 'demonstration', 'zone'] : ['planned_event', 'document'];
    if (!relevant.includes(event.entity)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => (this.view === 'conflicts' ? this.loadConflicts() : this.loadCalendar()), RELOAD_MS);
  }

  _mark() {
    if (!this.tab) return;
    this.tab.classList.toggle('flagged', this.flagged > 0);
    this.tab.dataset.flagged = String(this.flagged);
  }

  async loadConflicts() {
    const start = this.now().toISOString();
    try {
      this.conflicts = await this.app.api.get(`/api/conflicts?start=${encodeURIComponent(start)}&limit=${PAGE}`);
    } catch (error) {
      this.app.apiError(error);
      return;
    }
    this._draw();
    this.render();
  }

  async loadCalendar(year = this.year) {
    this.year = year;
    try {
      this.calendar = await this.app.api.get(`/api/calendar?year=${year}`);
    } catch (error) {
      this.app.apiError(error);
      return;
    }
    this.render();
  }

  async acknowledge(feature, note) {
    const ids = feature.properties.objects.map((o) => o.id);
    try {
      await this.app.api.request('POST', '/api/conflicts/acknowledge', { body: { objects: ids, note } });
    } catch (error) {
      this.app.apiError(error);
      return;
    }
    this.app.toast(t('planning.acknowledged'), 'info');
    await this.loadConflicts();
  }

  /** The overlaps on the map: their own source and layers, above the picture. */
  _draw() {
    const map = this.app.mapView?.map;
    if (!map) return;
    const data = this.conflicts || { type: 'FeatureCollection', features: [] };
    const source = map.getSource(SOURCE);
    if (source) source.setData(data);
    else map.addSource(SOURCE, { type: 'geojson', data });
    for (const layer of LAYERS) if (!map.getLayer(layer.id)) map.addLayer({ ...layer, source: SOURCE });
  }

  focus(feature) {
    const map = this.app.mapView?.map;
    const coords = [];
    const walk = (c) => (typeof c[0] === 'number' ? coords.push(c) : c.forEach(walk));
    const g = feature.geometry;
    if (!map || !g) return;
    for (const part of g.type === 'GeometryCollection' ? g.geometries : [g]) walk(part.coordinates);
    if (!coords.length) return;
    const lons = coords.map((c) => c[0]);
    const lats = coords.map((c) => c[1]);
    map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]], { padding: 80, maxZoom: 17 });
  }

  render() {
    const switcher = h(
      'div',
      { class: 'planning-views', role: 'group', 'aria-label': t('planning.title') },
      ['conflicts', 'calendar'].map((view) =>
        h('button', {
          type: 'button',
          'aria-pressed': String(this.view === view),
          onclick: () => {
            this.view = view;
            this.render();
            if (view === 'conflicts') this.loadConflicts();
            else this.loadCalendar();
          },
        }, t(`planning.${view}`)),
      ),
    );
    refill(this.el, switcher, this.view === 'conflicts' ? this._conflictList() : this._calendar());
  }

  _conflictList() {
    if (!this.conflicts) return h('p', { class: 'muted' }, t('planning.loading'));
    const features = this.conflicts.features;
    if (!features.length) return h('p', { class: 'muted' }, t('planning.no_conflicts'));
    return h('ul', { class: 'planning-conflicts' }, features.map((f) => this._conflict(f)));
  }

  _conflict(feature) {
    const p = feature.properties;
    const acknowledged = p.status === 'acknowledged';
    const objects = p.objects.map((o) =>
      h('li', {},
        h('span', { class: 'badge' }, kindLabel(o)), ' ',
        h('button', { type: 'button', class: 'link', onclick: () => this.app.openDetail(o.entity, o.id) }, o.title),
      ),
    );
    const note = h('input', { type: 'text', maxlength: 2000, 'aria-label': t('planning.note'), placeholder: t('planning.note_hint'), dataset: { key: `note-${feature.id}` } });
    const form = this.canAcknowledge && !acknowledged
      ? h('form', {
        class: 'planning-ack',
        onsubmit: (e) => {
          e.preventDefault();
          if (note.value.trim()) this.acknowledge(feature, note.value.trim());
        },
      }, note, h('button', { type: 'submit' }, t('planning.acknowledge')))
      : null;
    return h('li', { class: ['planning-conflict', acknowledged ? 'acknowledged' : 'open'], dataset: { conflict: feature.id } },
      h('ul', { class: 'planning-pair' }, objects),
      h('p', {}, h('span', { class: 'when' }, intervalText(p.overlap_from, p.overlap_to)), ' · ', h('span', { class: 'size' }, sizeText(p))),
      h('p', { class: 'status' }, label('conflict_status', p.status),
        acknowledged ? ` — ${p.acknowledgement.note} (${p.acknowledgement.by}, ${formatDateTime(p.acknowledgement.at)})` : ''),
      h('button', { type: 'button', class: 'link', onclick: () => this.focus(feature) }, t('planning.show_on_map')),
      form,
    );
  }

  _calendar() {
    const nav = h('p', { class: 'planning-year' },
      h('button', { type: 'button', 'aria-label': t('planning.previous_year'), onclick: () => this.loadCalendar(this.year - 1) }, '‹'),
      ` ${this.year} `,
      h('button', { type: 'button', 'aria-label': t('planning.next_year'), onclick: () => this.loadCalendar(this.year + 1) }, '›'),
    );
    if (!this.calendar) return h('div', {}, nav, h('p', { class: 'muted' }, t('planning.loading')));
    const months = byMonth(this.calendar);
    if (!months.length) return h('div', {}, nav, h('p', { class: 'muted' }, t('planning.no_exercises')));
    return h('div', { class: 'planning-calendar' }, nav, months.map((m) =>
      h('section', { class: 'planning-month', dataset: { month: m.id } },
        h('h3', {}, m.name),
        h('div', { class: 'planning-columns' },
          h('div', {}, h('h4', {}, t('planning.exercises')), h('ul', {}, m.exercises.map((e) => this._exercise(e)))),
          h('div', {}, h('h4', {}, t('planning.events')), h('ul', {}, m.events.map((e) => this._event(e)))),
        ),
      ),
    ));
  }

  _event(e) {
    return h('li', { dataset: { event: e.id } }, this._eventLine(e));
  }

  _eventLine(e) {
    return [
      h('button', { type: 'button', class: 'link', onclick: () => this.app.openDetail('planned_event', e.id) }, e.title),
      ' ', h('span', { class: 'badge' }, label('event_kind', e.kind)),
      h('div', { class: 'when' }, intervalText(e.starts_at, e.ends_at)),
    ];
  }

  _exercise(e) {
    return h('li', { class: ['planning-exercise', e.clashes.length ? 'clash' : null], dataset: { exercise: e.id } },
      this._eventLine(e),
      e.participants.length ? h('div', {}, `${t('planning.participants')}: ${e.participants.join(', ')}`) : null,
      e.objectives ? h('div', {}, `${t('planning.objectives')}: ${e.objectives}`) : null,
      e.documents ? h('div', {}, t('planning.documents', { n: e.documents })) : null,
      e.clashes.length
        ? h('div', { class: 'clashes', role: 'note' }, `⚠ ${t('planning.clashes')}: `, e.clashes.map((c) => c.title).join(', '))
        : null,
    );
  }
}
