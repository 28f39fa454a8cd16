// Search: landmarks, municipalities, police zones and the objects on the picture. Choosing a
// result flies there, opens the object, or, while an incident is being placed, puts it there.
import { h, fill, $ } from '../dom.js';
import { label, t } from '../i18n.js';
import { matchText, placeName, placeText } from '../gazetteer.js';
import { labelPoint, boundsOf } from '../mapdata.js';
import { MAP_ENTITIES } from '../model.js';
import { areaName } from '../format.js';

const LIMIT = 12;

export class Search {
  constructor(app) {
    this.app = app;
    this.input = $('#search', app.root);
    this.list = $('#search-results', app.root);
    this.areas = [];
    this.landmarks = [];
    this.results = [];
    this.active = -1;
    this.input.addEventListener('input', () => this.update());
    this.input.addEventListener('keydown', (e) => this.key(e));
    this.input.addEventListener('blur', () => setTimeout(() => this.hide(), 150));
  }

  reference(layers) {
    this.landmarks = (layers.landmark?.features || []).map((f) => ({ feature: f, text: placeText(f.properties) }));
    this.areas = [];
    for (const name of ['municipality', 'police_zone']) {
      for (const f of layers[name]?.features || []) {
        this.areas.push({ kind: name, feature: f, text: `${f.properties.code} ${f.properties.name_fr} ${f.properties.name_nl}` });
      }
    }
  }

  find(query) {
    const out = [];
    for (const place of this.landmarks) {
      if (!matchText(place.text, query)) continue;
      out.push({ type: 'landmark', title: placeName(place.feature.properties), tag: t('search.landmark'), point: place.feature.geometry.coordinates });
    }
    for (const area of this.areas) {
      if (!matchText(area.text, query)) continue;
      const p = area.feature.properties;
      out.push({
        type: area.kind,
        title: area.kind === 'police_zone' ? `${p.code} ${areaName(p)}` : areaName(p),
        tag: t(`search.${area.kind}`),
        point: labelPoint(area.feature.geometry),
        bounds: boundsOf(area.feature.geometry),
      });
    }
    for (const entity of MAP_ENTITIES) {
      for (const f of this.app.store.all(entity)) {
        if (out.length > LIMIT * 3) break;
        const p = f.properties;
        if (matchText(`${p.title} ${p.ref} ${p.place || ''} ${p.venue || ''}`, query)) {
          out.push({ type: 'object', entity, id: f.id, title: p.title, tag: `${label('entity', entity)} ${p.ref}` });
        }
      }
    }
    return out.slice(0, LIMIT);
  }

  update() {
    const query = this.input.value.trim();
    this.results = query.length >= 2 ? this.find(query) : [];
    this.active = this.results.length ? 0 : -1;
    this.render(query);
  }

  render(query) {
    if (!query || query.length < 2) {
      this.hide();
      return;
    }
    fill(
      this.list,
      this.results.length
        ? this.results.map((r, i) =>
            h('li', {
              role: 'option',
              id: `search-${i}`,
              class: i === this.active ? 'active' : null,
              'aria-selected': String(i === this.active),
              onmousedown: (e) => {
                e.preventDefault();
                this.choose(r);
              },
            }, h('span', { class: 'tag' }, r.tag), ' ', r.title))
        : h('li', { class: 'muted' }, t('search.none')),
    );
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    this.input.setAttribute('aria-activedescendant', this.active >= 0 ? `search-${this.active}` : '');
  }

  hide() {
    this.list.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
  }

  key(e) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!this.results.length) return;
      this.active = (this.active + (e.key === 'ArrowDown' ? 1 : -1) + this.results.length) % this.results.length;
      this.render(this.input.value.trim());
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (this.results[this.active]) this.choose(this.results[this.active]);
    } else if (e.key === 'Escape') {
      this.hide();
    }
  }

  choose(result) {
    this.hide();
    this.input.value = result.title;
    const app = this.app;
    const point = result.point || app.store.get(result.entity, result.id)?.geometry;
    if (app.panels.editor?.placing && result.point) {
      app.panels.editor.placeAt(result.point);
      return;
    }
    if (result.type === 'object') {
      app.openDetail(result.entity, result.id);
      return;
    }
    if (result.bounds) app.mapView.map.fitBounds(result.bounds, { padding: 40, duration: 800 });
    else if (point) app.mapView.map.flyTo({ center: point, zoom: 16 });
  }
}
