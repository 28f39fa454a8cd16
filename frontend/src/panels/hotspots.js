// Hotspot fiches (issue 17): the comparison of every drug hotspot the reader sees — incidents
// this period and the previous one, trend, a sparkline of the weeks, measures in force (those
// expiring soon marked), open tasks — and, per hotspot, its fiche: incidents per week, police
// measures with their validity and extensions, its task force's tasks, evaluation notes (and a
// form to add one), with the PDF and CSV exports. Charts are Chart.js, bundled (no CDN).
// Linked as #hotspots and #hotspots/<zone id>. What the server answers is already scoped to the
// reader: a partner sees only what is shared with it.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { h, fill, saveBlob } from '../dom.js';
import { label, language, locale, onLanguage, t } from '../i18n.js';
import { formatDateTime, ZONE } from '../time.js';
import { errorDetail } from '../format.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip);

const ROUTE = /^#hotspots(?:\/([\w-]+))?$/;
// Changes of these kinds may move a fiche's figures: the open view is read again, at most this often.
const WATCHED = new Set(['incident', 'zone', 'task', 'police_measure', 'hotspot_note']);
const RELOAD_MS = 2000;
const INK = '#0b3d91';

/** A week's Monday (YYYY-MM-DD) as the reader's short date. */
export function weekLabel(day, loc = locale()) {
  return new Intl.DateTimeFormat(loc, { day: '2-digit', month: '2-digit', timeZone: ZONE }).format(new Date(`${day}T12:00:00Z`));
}

/** A date (YYYY-MM-DD) as the reader's medium date. */
function dayLabel(day, loc = locale()) {
  return day ? new Intl.DateTimeFormat(loc, { dateStyle: 'medium', timeZone: ZONE }).format(new Date(`${day}T12:00:00Z`)) : '';
}

function signed(n) {
  return n > 0 ? `+${n}` : String(n);
}

export class Hotspots {
  constructor(app, { win = globalThis } = {}) {
    this.app = app;
    this.win = win;
    this.el = app.root.querySelector('#hotspots');
    this.layout = app.root.querySelector('.layout');
    this.legend = app.root.querySelector('#legend');
    this.isOpen = false;
    this.zoneId = null;
    this.period = { from: '', to: '' };
    this.charts = [];
    this.timer = null;
    this.loaded = null; // what the view shows, for tests: {kind, data}
    const link = app.root.querySelector('#hotspots-link');
    if (link) {
      link.hidden = false;
      link.addEventListener('click', () => this.go(null));
    }
    this._onHash = () => this.route();
    win.addEventListener?.('hashchange', this._onHash);
    app.cleanups.push(() => {
      win.removeEventListener?.('hashchange', this._onHash);
      clearTimeout(this.timer);
      this._destroyCharts();
    });
    onLanguage(() => this.isOpen && this.load());
    app.store.subscribe((event) => {
      if (!this.isOpen || event.type !== 'change' || !WATCHED.has(event.entity)) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.load(), RELOAD_MS);
    });
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !e.defaultPrevented) {
        e.preventDefault();
        this.close();
      }
    });
  }

  /** Show the comparison (zoneId null) or one hotspot's fiche, through the address. */
  go(zoneId) {
    this.win.location.hash = zoneId ? `#hotspots/${zoneId}` : '#hotspots';
  }

  route() {
    const m = ROUTE.exec(this.win.location?.hash || '');
    if (m) this.open(m[1] || null);
    else if (this.isOpen) this.close({ fromRoute: true });
  }

  open(zoneId) {
    this.zoneId = zoneId;
    this.isOpen = true;
    this.el.hidden = false;
    this.layout?.classList.add('board-open', 'hotspots-open');
    if (this.legend) this.legend.hidden = true;
    const zone = zoneId ? this.app.store.get('zone', zoneId) : null;
    if (zone?.geometry) this.app.mapView?.flyTo(zone);
    return this.load();
  }

  close({ fromRoute = false } = {}) {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.zoneId = null;
    clearTimeout(this.timer);
    this._destroyCharts();
    this.el.hidden = true;
    fill(this.el);
    this.layout?.classList.remove('hotspots-open');
    // The activation board shares the wide column: it may have opened as this closed.
    if (this.app.root.querySelector('#board')?.hidden !== false) {
      this.layout?.classList.remove('board-open');
      if (this.legend) this.legend.hidden = false;
    }
    if (!fromRoute && this.win.location?.hash) this.win.history?.pushState(null, '', this.win.location.pathname + this.win.location.search);
  }

  _query(extra = {}) {
    const params = new URLSearchParams();
    if (this.period.from) params.set('from', this.period.from);
    if (this.period.to) params.set('to', this.period.to);
    for (const [k, v] of Object.entries(extra)) params.set(k, v);
    const text = params.toString();
    return text ? `?${text}` : '';
  }

  async load() {
    const zoneId = this.zoneId;
    try {
      if (zoneId) {
        const data = await this.app.api.get(`/api/hotspots/${encodeURIComponent(zoneId)}${this._query()}`);
        if (this.isOpen && this.zoneId === zoneId) this._renderFiche(data);
      } else {
        const data = await this.app.api.get(`/api/hotspots${this._query()}`);
        if (this.isOpen && !this.zoneId) this._renderComparison(data);
      }
    } catch (error) {
      this.app.apiError(error);
      if (error.status === 404 || error.status === 422) fill(this.el, this._head(t('hotspots.title'), null), h('p', { class: 'error', role: 'alert' }, errorDetail(error)));
    }
  }

  _destroyCharts() {
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
  }

  _chart(canvas, config) {
    try {
      this.charts.push(new Chart(canvas, config));
    } catch {
      // No canvas (a test's DOM): the figures stay in the table beside it.
    }
  }

  async _download(path, filename) {
    try {
      saveBlob(await this.app.api.blob(path), filename);
    } catch (error) {
      this.app.apiError(error);
    }
  }

  _exports(base, name) {
    const lang = language();
    return h(
      'div',
      { class: 'hotspots-exports' },
      h('button', { type: 'button', dataset: { action: 'pdf' }, onclick: () => this._download(`${base}/export.pdf${this._query({ lang })}`, `${name}-${lang}.pdf`) }, t('hotspots.pdf')),
      h('button', { type: 'button', dataset: { action: 'csv' }, onclick: () => this._download(`${base}/export.csv${this._query({ lang })}`, `${name}.csv`) }, t('hotspots.csv')),
    );
  }

  _head(title, subtitle, extra = null) {
    return h(
      'div',
      { class: 'board-head' },
      h('div', {}, h('h2', { id: 'hotspots-title', tabindex: '-1' }, title), subtitle ? h('p', { class: 'muted' }, subtitle) : null),
      h('div', { class: 'hotspots-actions' }, extra, h('button', { type: 'button', class: 'close', dataset: { action: 'close-hotspots' }, onclick: () => this.close() }, t('hotspots.close'))),
    );
  }

  _periodForm(period) {
    const from = h('input', { type: 'date', name: 'from', value: this.period.from || period.from, required: true });
    const to = h('input', { type: 'date', name: 'to', value: this.period.to || period.to, required: true });
    return h(
      'form',
      {
        class: 'hotspots-period',
        onsubmit: (e) => {
          e.preventDefault();
          this.period = { from: from.value, to: to.value };
          this.load();
        },
      },
      h('label', {}, t('hotspots.from'), ' ', from),
      h('label', {}, t('hotspots.to'), ' ', to),
      h('button', { type: 'submit' }, t('hotspots.apply')),
    );
  }

  _periodText(period) {
    return t('hotspots.period', {
      from: dayLabel(period.from),
      to: dayLabel(period.to),
      prev_from: dayLabel(period.previous_from),
      prev_to: dayLabel(period.previous_to),
    });
  }

  _renderComparison(data) {
    this._destroyCharts();
    this.loaded = { kind: 'comparison', data };
    const rows = data.hotspots.map((row) => {
      const canvas = h('canvas', { width: 96, height: 26, role: 'img', 'aria-label': t('hotspots.sparkline', { counts: row.weekly.join(', ') }) });
      const tr = h(
        'tr',
        { dataset: { id: row.id, trend: row.trend } },
        h('th', { scope: 'row' }, h('a', { href: `#hotspots/${row.id}` }, row.title), h('div', { class: 'muted small' }, row.ref)),
        h('td', {}, (row.municipalities || []).map((m) => (language() === 'nl' ? m.name_nl : m.name_fr)).join(', ')),
        h('td', { class: 'n', dataset: { field: 'current' } }, String(row.current)),
        h('td', { class: 'n' }, String(row.previous)),
        h('td', { class: 'n' }, signed(row.change)),
        h('td', { class: `trend trend-${row.trend}` }, label('trend', row.trend)),
        h('td', { class: 'spark' }, canvas),
        h('td', { class: 'n' }, String(row.measures_in_force), row.measures_expiring ? h('span', { class: 'badge expiring' }, t('hotspots.expiring_n', { n: row.measures_expiring })) : null),
        h('td', { class: 'n' }, String(row.open_tasks)),
      );
      this._chart(canvas, {
        type: 'line',
        data: { labels: data.period.weeks.map((w) => weekLabel(w)), datasets: [{ data: row.weekly, borderColor: INK, borderWidth: 1.5, pointRadius: 0, tension: 0.2 }] },
        options: { responsive: false, animation: false, events: [], plugins: { legend: { display: false }, tooltip: { enabled: false } }, scales: { x: { display: false }, y: { display: false, beginAtZero: true } } },
      });
      return tr;
    });
    const head = ['hotspot', 'municipality', 'current', 'previous', 'change', 'trend', 'weekly', 'measures', 'open_tasks'];
    fill(
      this.el,
      this._head(t('hotspots.title'), this._periodText(data.period), this._exports('/api/hotspots', 'hotspots')),
      this._periodForm(data.period),
      h(
        'div',
        { class: 'hotspots-scroll' },
        h(
          'table',
          { class: 'hotspots-table' },
          h('thead', {}, h('tr', {}, head.map((k) => h('th', { scope: 'col' }, t(`hotspots.col.${k}`))))),
          h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: head.length }, t('hotspots.none')))),
        ),
      ),
      h('p', { class: 'muted small' }, t('hotspots.counted')),
    );
  }

  _renderFiche(data) {
    this._destroyCharts();
    this.loaded = { kind: 'fiche', data };
    const { hotspot, incidents, period } = data;
    const canvas = h('canvas', { height: 180, role: 'img', 'aria-label': t('hotspots.chart', { counts: incidents.weekly.join(', ') }) });
    const back = h('a', { href: '#hotspots', class: 'button' }, t('hotspots.back'));
    fill(
      this.el,
      this._head(hotspot.title, `${hotspot.ref} · ${this._periodText(period)}`, [back, this._exports(`/api/hotspots/${hotspot.id}`, hotspot.ref)]),
      this._periodForm(period),
      h(
        'dl',
        { class: 'board-summary' },
        h('div', {}, h('dt', {}, t('hotspots.col.current')), h('dd', { dataset: { field: 'current' } }, String(incidents.current))),
        h('div', {}, h('dt', {}, t('hotspots.col.previous')), h('dd', {}, String(incidents.previous))),
        h('div', {}, h('dt', {}, t('hotspots.col.change')), h('dd', {}, signed(incidents.change))),
        h('div', {}, h('dt', {}, t('hotspots.col.trend')), h('dd', { class: `trend-${incidents.trend}` }, label('trend', incidents.trend))),
      ),
      h('section', { class: 'board-section' }, h('h3', {}, t('hotspots.per_week')), h('div', { class: 'hotspots-chart' }, canvas)),
      this._measures(data.measures),
      this._tasks(data.tasks),
      this._notes(data.notes, hotspot.id),
    );
    this._chart(canvas, {
      type: 'bar',
      data: { labels: period.weeks.map((w) => weekLabel(w)), datasets: [{ label: t('hotspots.per_week'), data: incidents.weekly, backgroundColor: INK }] },
      options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    this.el.querySelector('#hotspots-title')?.focus();
  }

  _measures(measures) {
    const items = measures.map((m) =>
      h(
        'li',
        { class: ['hotspot-measure', `validity-${m.validity}`], dataset: { id: m.id, validity: m.validity } },
        h('div', {}, h('strong', {}, label('measure_kind', m.kind)), ' — ', m.title, ' ', h('span', { class: `badge validity ${m.validity}` }, label('measure_validity', m.validity))),
        h('div', { class: 'small' }, [m.reference, m.legal_basis, m.authority].filter(Boolean).join(' · ')),
        h('div', { class: 'small' }, t('hotspots.valid', { from: formatDateTime(m.valid_from), until: m.valid_until ? formatDateTime(m.valid_until) : t('hotspots.until_revoked') })),
        m.extensions.map((e) => h('div', { class: 'small muted' }, t('hotspots.extension', { until: formatDateTime(e.until), reference: e.reference, decided: formatDateTime(e.decided_at) }))),
      ),
    );
    return h('section', { class: 'board-section' }, h('h3', {}, t('hotspots.measures')), items.length ? h('ul', { class: 'board-rows' }, items) : h('p', { class: 'muted' }, t('hotspots.none')));
  }

  _tasks(tasks) {
    const items = tasks.map((task) =>
      h(
        'li',
        { dataset: { id: task.id, status: task.status }, class: task.overdue ? 'overdue' : null },
        h('span', { class: 'badge' }, label('task_status', task.status)),
        ' ',
        task.title,
        h('div', { class: 'small muted' }, [task.ref, task.owner_organisation ? this.app.organisationName(task.owner_organisation) : task.owner_user, task.due_at ? t('hotspots.due', { when: formatDateTime(task.due_at) }) : null, task.overdue ? t('hotspots.overdue') : null].filter(Boolean).join(' · ')),
      ),
    );
    return h('section', { class: 'board-section' }, h('h3', {}, t('hotspots.tasks')), items.length ? h('ul', { class: 'board-rows' }, items) : h('p', { class: 'muted' }, t('hotspots.none')));
  }

  _notes(notes, zoneId) {
    const items = notes.map((n) =>
      h(
        'li',
        { dataset: { id: n.id } },
        h('div', {}, h('strong', {}, formatDateTime(n.noted_at)), ' — ', n.title),
        n.text ? h('p', { class: 'note-text' }, n.text) : null,
        h('div', { class: 'small muted' }, t('hotspots.note_by', { author: n.author, recorder: n.recorded_by, when: formatDateTime(n.recorded_at) }), n.corrects_id ? ` · ${t('hotspots.correction')}` : ''),
      ),
    );
    return h(
      'section',
      { class: 'board-section' },
      h('h3', {}, t('hotspots.notes')),
      this.app.can('hotspot_note:create') ? this._noteForm(zoneId) : null,
      items.length ? h('ul', { class: 'board-rows' }, items) : h('p', { class: 'muted' }, t('hotspots.none')),
    );
  }

  _noteForm(zoneId) {
    const title = h('input', { name: 'title', required: true, maxlength: 200 });
    const text = h('textarea', { name: 'text', rows: 3, maxlength: 10000 });
    const submit = h('button', { type: 'submit' }, t('hotspots.add_note'));
    return h(
      'form',
      {
        class: 'hotspots-note-form',
        onsubmit: async (e) => {
          e.preventDefault();
          submit.disabled = true;
          try {
            const properties = { title: title.value.trim(), zone_ids: [zoneId] };
            if (text.value.trim()) properties.description = text.value.trim();
            await this.app.api.request('POST', '/api/hotspot_notes', { body: { type: 'Feature', geometry: null, properties } });
            this.app.toast(t('hotspots.note_added'), 'info');
            await this.load();
          } catch (error) {
            this.app.apiError(error);
            submit.disabled = false;
          }
        },
      },
      h('label', {}, t('hotspots.note_title'), ' ', title),
      h('label', {}, t('hotspots.note_text'), ' ', text),
      submit,
    );
  }
}
