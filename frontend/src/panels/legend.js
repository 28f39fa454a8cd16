// The legend: one toggle per layer (each zone kind on its own), with how many objects it holds
// and how many of them fall in the time window; the severity key; the optional online base map.
import { h, fill, $ } from '../dom.js';
import { label, onLanguage, t } from '../i18n.js';
import { ENUMS } from '../model.js';
import { pictogramUrl, severitySwatchUrl, zoneSwatchUrl } from '../icons.js';
import { SEVERITY_COLOUR, EVENT_COLOUR, DEMONSTRATION_COLOUR, ACTIVATION_COLOUR } from '../layers.js';
import { onTheme, resolvedTheme } from '../theme.js';

const COUNT_EVERY_MS = 250;
const SWATCHES = new Map();
const SEVERITY_SWATCHES = ENUMS.severity.map((s, rank) => () => severitySwatchUrl(rank, SEVERITY_COLOUR[s]));

export class Legend {
  constructor(app) {
    this.app = app;
    this.el = $('#legend', app.root);
    this.counts = {};
    this.pending = null;
    this.render();
    app.mapView.on('counts', () => this.countsChanged());
    onLanguage(() => this.render());
    onTheme(() => this.render());
  }

  // Swatches are drawn once per theme: redrawing them on each language switch costs canvases.
  _swatch(group) {
    const key = `${group}|${resolvedTheme()}`;
    if (!SWATCHES.has(key)) SWATCHES.set(key, this._draw(group));
    return SWATCHES.get(key);
  }

  _draw(group) {
    if (group === 'incident') return severitySwatchUrl(1, SEVERITY_COLOUR.moderate);
    if (group === 'planned_event') return pictogramUrl('planned_event', { size: 12, badge: EVENT_COLOUR });
    if (group === 'demonstration') return pictogramUrl('demonstration', { size: 12, badge: DEMONSTRATION_COLOUR });
    if (group === 'activation') return pictogramUrl('activation', { size: 12, badge: ACTIVATION_COLOUR });
    if (group.startsWith('zone:')) return zoneSwatchUrl(group.slice(5), resolvedTheme());
    return null;
  }

  _toggle(group, text, { counted = true } = {}) {
    const map = this.app.mapView;
    const input = h('input', {
      type: 'checkbox',
      checked: map.isGroupVisible(group),
      dataset: { group },
      onchange: (e) => map.setGroupVisible(group, e.target.checked),
    });
    const src = this._swatch(group);
    return h(
      'li',
      { class: 'legend-item' },
      h(
        'label',
        {},
        input,
        src ? h('img', { class: 'swatch', src, alt: '' }) : h('span', { class: `swatch swatch-${group.replace(':', '-')}`, 'aria-hidden': 'true' }),
        h('span', { class: 'legend-label' }, text),
        counted ? h('span', { class: 'count', dataset: { count: group } }) : null,
      ),
    );
  }

  render() {
    const objectGroups = ['incident', 'planned_event', 'demonstration', 'activation'];
    fill(
      this.el,
      h('h2', { id: 'legend-title' }, t('legend.title')),
      h('ul', { class: 'legend-list' }, objectGroups.map((g) => this._toggle(g, label('entity_plural', g)))),
      h('h3', {}, t('legend.zones')),
      h('ul', { class: 'legend-list' }, ENUMS.zone_kind.map((k) => this._toggle(`zone:${k}`, label('zone_kind', k)))),
      h('h3', {}, t('legend.reference')),
      h(
        'ul',
        { class: 'legend-list' },
        this._toggle('ref:municipality', t('legend.municipality'), { counted: false }),
        this._toggle('ref:police_zone', t('legend.police_zone'), { counted: false }),
        this._toggle('ref:landmark', t('legend.landmark'), { counted: false }),
      ),
      this.app.mapView.basemapUrl
        ? h(
            'label',
            { class: 'check basemap' },
            h('input', { type: 'checkbox', id: 'basemap', checked: this.app.mapView.basemapOn, onchange: (e) => this._basemap(e.target) }),
            t('legend.basemap'),
          )
        : null,
      h('h3', {}, t('legend.severity')),
      h(
        'ul',
        { class: 'legend-key' },
        ENUMS.severity.map((s, rank) => h('li', {}, h('img', { class: 'swatch', src: this._cached(`sev-${s}`, SEVERITY_SWATCHES[rank]), alt: '' }), label('severity', s))),
        h('li', { class: 'legend-out' }, h('span', { class: 'swatch swatch-out', 'aria-hidden': 'true' }), t('legend.out_of_window')),
      ),
    );
    this._paintCounts();
  }

  async _basemap(input) {
    try {
      await this.app.mapView.setBasemap(input.checked);
    } catch (error) {
      input.checked = false;
      this.app.toast(t('legend.basemap_failed', { detail: error.message }), 'error');
    }
  }

  _cached(key, draw) {
    if (!SWATCHES.has(key)) SWATCHES.set(key, draw());
    return SWATCHES.get(key);
  }

  countsChanged() {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.counts = this.app.mapView.counts();
      this.app.metrics.counts = this.counts;
      this._paintCounts();
    }, COUNT_EVERY_MS);
  }

  _paintCounts() {
    for (const el of this.el.querySelectorAll('[data-count]')) {
      const c = this.counts[el.dataset.count] || { total: 0, shown: 0 };
      el.textContent = t('legend.count', c);
      el.title = t('legend.count_title', c);
    }
  }
}
