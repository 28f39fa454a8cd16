// The detail of one object: its properties, its history (who changed what, when), the logbook
// entries about it, the zones of an event, the activations opened for it and the documents
// attached to it (attaching one from here too). It follows the store: a change of the object, or
// of anything linked to it, is shown in place.
import { h, fill, $ } from '../dom.js';
import { label, onLanguage, t } from '../i18n.js';
import { ENTITIES } from '../model.js';
import { formatDateTime } from '../time.js';
import { changedFields } from '../store.js';
import { describeChange, fieldLabel, formatValue } from '../format.js';
import { KeyedList } from '../keyed.js';
import { compareDocuments } from '../board-model.js';
import { DocumentShelf } from './documents.js';

const COMMON = ['ref', 'status', 'municipality', 'police_zone', 'visibility', 'exercise', 'created_at', 'created_by', 'updated_at', 'updated_by', 'version'];
const HISTORY_LIMIT = 100;

export class Detail {
  constructor(app) {
    this.app = app;
    this.el = $('#panel-detail', app.root);
    this.current = null;
    this.history = [];
    this.raf = null;
    this.documents = new DocumentShelf(app, 'detail');
    this.renderEmpty();
    app.store.subscribe((event) => this._onStore(event));
    onLanguage(() => this.current && this.render());
  }

  renderEmpty() {
    fill(this.el, h('p', { class: 'muted' }, t('detail.pick')));
  }

  async open(entity, id) {
    this.current = { entity, id };
    this.lastLive = null;
    this.history = [];
    this.historyLoaded = false;
    this.render();
    this.el.querySelector('h2')?.focus();
    this._complete(entity, id);
    try {
      const answer = await this.app.api.get(`/api/${ENTITIES[entity].path}/${id}/history`);
      if (this.current?.id !== id) return;
      const seen = new Set(this.history.map((c) => c.seq));
      this.history = [...answer.changes.filter((c) => !seen.has(c.seq)), ...this.history].sort((a, b) => a.seq - b.seq);
    } catch {
      // No history for this reader (or the object is gone): the properties still show.
    }
    this.historyLoaded = true;
    if (this.current?.id === id) this.renderSection('history');
  }

  /** An object held compact (a big collection's first load) is read whole when it opens. */
  async _complete(entity, id) {
    if (!this.app.store.get(entity, id)?._compact) return;
    try {
      const full = await this.app.api.get(`/api/${ENTITIES[entity].path}/${id}`);
      this.app.store.complete(entity, full);
    } catch {
      // Gone or no longer visible: the change feed says so; the compact state still shows.
    }
  }

  close() {
    this.current = null;
    this.app.mapView.select(null);
    this.renderEmpty();
    this.app.showTab('feed');
  }

  _onStore(event) {
    if (!this.current || event.type === 'feed') return;
    const { entity, id } = this.current;
    if (event.type === 'snapshot' || (event.type === 'completed' && event.entity === entity && event.id === id)) {
      this.schedule('all');
      return;
    }
    if (event.type !== 'change') return;
    if (event.entity === entity && event.id === id) {
      if (event.entry && !this.history.some((c) => c.seq === event.entry.seq)) {
        this.history.push(event.entry);
        if (this.history.length > HISTORY_LIMIT) this.history.shift();
      }
      // Someone else's change is said so; one's own needs no note.
      const mine = event.entry?.by === this.app.user?.username;
      this.lastLive = event.entry && !mine ? event.entry.by : null;
      this.schedule('all');
      return;
    }
    const p = event.feature?.properties || event.previous?.properties || {};
    if (p.subject_id === id || p.parent_id === id) this.schedule('links');
  }

  schedule(what) {
    this.pending = this.pending === 'all' ? 'all' : what;
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = null;
      const what = this.pending;
      this.pending = null;
      if (!this.current) return;
      if (what === 'all') {
        this.renderSection('header');
        this.renderSection('properties');
        this.renderSection('history');
      }
      this.renderSection('links');
      this.renderSection('documents');
    });
  }

  get feature() {
    return this.current ? this.app.store.get(this.current.entity, this.current.id) : null;
  }

  render() {
    const { entity, id } = this.current;
    this.sections = {
      header: h('div', { class: 'detail-header' }),
      properties: h('section', { class: 'detail-properties', 'aria-label': t('detail.properties') }),
      links: h('div', { class: 'detail-links' }),
      documents: this._documentsSection(entity, id),
      history: h('section', { class: 'detail-history', 'aria-label': t('detail.history') }),
    };
    fill(this.el, h('article', { class: ['detail', `ent-${entity}`] }, Object.values(this.sections)));
    for (const name of Object.keys(this.sections)) this.renderSection(name);
  }

  /** The documents attached to the object (any kind takes them but a document), for a reader of documents. */
  _documentsSection(entity, id) {
    this.documentList = null;
    if (entity === 'document' || !this.app.readable('document')) return null;
    const ol = h('ol', { class: 'board-rows detail-documents-list' });
    this.documentList = new KeyedList(ol, (f) => this.documents.row(f));
    this.documentsEmpty = h('p', { class: 'muted' }, t('detail.no_documents'));
    this.documents.setSubject(entity, id);
    const section = h('section', { class: 'detail-list detail-documents', 'aria-labelledby': 'detail-h-documents' },
      h('h3', { id: 'detail-h-documents' }, t('detail.documents')), this.documents.panel, ol, this.documentsEmpty, this.documents.dialog);
    this.documents.acceptDrops(section);
    return section;
  }

  renderSection(name) {
    if (!this.sections?.[name]) return;
    const el = this.sections[name];
    const feature = this.feature;
    const { entity, id } = this.current;
    const app = this.app;
    if (name === 'header') {
      const p = feature?.properties || {};
      fill(
        el,
        h('p', { class: 'detail-kind' }, label('entity', entity), p.severity ? h('span', { class: ['badge', `sev-${p.severity}`] }, label('severity', p.severity)) : null),
        h('h2', { tabindex: '-1' }, p.title || t('detail.gone')),
        this.lastLive ? h('p', { class: 'live-note', role: 'status' }, t('detail.changed_live', { who: this.lastLive })) : null,
        h(
          'div',
          { class: 'actions' },
          feature ? h('button', { type: 'button', onclick: () => app.mapView.flyTo(this._located(feature)) }, t('detail.fly_to')) : null,
          // An activation's board, also from one of its cell's objects (a seat, a task…).
          feature && app.panels.board && (entity === 'activation' || p.activation_id)
            ? h('button', { type: 'button', dataset: { action: 'board' }, onclick: () => app.panels.board.open(entity === 'activation' ? id : p.activation_id) }, t('detail.board'))
            : null,
          // A hotspot's fiche (panels/hotspots.js), also from one of its measures or notes.
          feature && app.panels.hotspots && (p.kind === 'hotspot' || (p.zone_ids?.length && ['police_measure', 'hotspot_note'].includes(entity)))
            ? h('button', { type: 'button', dataset: { action: 'hotspot' }, onclick: () => app.panels.hotspots.go(p.kind === 'hotspot' ? id : p.zone_ids[0]) }, t('hotspots.open'))
            : null,
          feature && app.can(`${entity}:update`) && ENTITIES[entity].fields.length ? h('button', { type: 'button', class: 'primary', onclick: () => app.panels.editor.edit(entity, id) }, t('detail.edit')) : null,
          feature && feature.geometry && app.can(`${entity}:update`) ? h('button', { type: 'button', onclick: () => app.panels.editor.editGeometry(entity, id) }, t('detail.edit_geometry')) : null,
          feature && entity !== 'logbook_entry' && app.can('logbook_entry:create') ? h('button', { type: 'button', onclick: () => app.panels.logbook.compose(entity, id) }, t('detail.add_log')) : null,
          feature && feature.geometry && app.panels.composer ? h('button', { type: 'button', dataset: { action: 'alert' }, onclick: () => app.panels.composer.newAlert() }, t('detail.alert_partners')) : null,
          h('button', { type: 'button', class: 'close', onclick: () => this.close() }, t('detail.close')),
        ),
      );
      return;
    }
    if (name === 'properties') {
      if (!feature) {
        fill(el, h('p', { class: 'muted' }, t('detail.gone')));
        return;
      }
      const p = feature.properties;
      const fields = [...new Set([...ENTITIES[entity].fields.map((f) => f.name), ...COMMON])].filter((f) => f !== 'title' && f in p);
      fill(
        el,
        h('h3', {}, t('detail.properties')),
        h('dl', { class: 'props' }, fields.flatMap((f) => [h('dt', {}, fieldLabel(f)), h('dd', { dataset: { field: f } }, this._value(entity, f, p[f]))])),
      );
      return;
    }
    if (name === 'documents') {
      const docs = [...app.store.all('document')].filter((f) => f.properties.subject_id === id && f.properties.subject_entity === entity).sort(compareDocuments);
      this.documentsEmpty.hidden = docs.length > 0;
      this.documentList.update(docs.map((f) => ({ key: f.id, stamp: f.properties.version, value: f })));
      return;
    }
    if (name === 'history') {
      const items = [...this.history].reverse();
      fill(
        el,
        h('h3', {}, t('detail.history')),
        !this.historyLoaded && !items.length ? h('p', { class: 'muted' }, t('detail.loading')) : null,
        h('ol', { class: 'history' }, items.map((c, i) => {
          const previous = items[i + 1]?.feature || null;
          const fields = c.op === 'updated' ? changedFields(previous, c.feature) : [];
          return h(
            'li',
            { dataset: { seq: c.seq } },
            h('time', { datetime: c.at }, formatDateTime(c.at)),
            ' ',
            h('span', { class: 'who' }, t('detail.change_line', { op: label('op', c.op), who: c.by })),
            fields.length ? h('ul', { class: 'changed' }, fields.map((f) => h('li', {}, describeChange(entity, f, previous, c.feature)))) : null,
          );
        })),
      );
      return;
    }
    if (name === 'links') {
      const store = app.store;
      const logs = [...store.all('logbook_entry')].filter((f) => f.properties.subject_id === id).sort(byTime('occurred_at'));
      const zones = [...store.all('zone')].filter((f) => f.properties.parent_id === id);
      const activations = [...store.all('activation')].filter((f) => f.properties.subject_id === id);
      // A zone opens the plans linked to it (their zone_ids, which hold a site's own zone).
      const plans = entity === 'zone' && app.readable('plan') ? [...store.all('plan')].filter((f) => (f.properties.zone_ids || []).includes(id)) : [];
      const list = (title, items, render) =>
        h('section', { class: 'detail-list' }, h('h3', {}, title), items.length ? h('ul', {}, items.map(render)) : h('p', { class: 'muted' }, t('detail.none')));
      const link = (ent, f, extra) =>
        h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => app.openDetail(ent, f.id) }, extra, f.properties.title));
      fill(
        el,
        entity === 'planned_event' || entity === 'demonstration'
          ? list(t('detail.zones'), zones, (f) => link('zone', f, h('span', { class: 'tag' }, label('zone_kind', f.properties.kind))))
          : null,
        entity === 'zone' && app.readable('plan')
          ? list(t('detail.plans'), plans, (f) => link('plan', f, h('span', { class: 'tag' }, label('plan_kind', f.properties.kind))))
          : null,
        entity !== 'logbook_entry' && entity !== 'zone' && entity !== 'activation'
          ? list(t('detail.activations'), activations, (f) => link('activation', f, h('span', { class: 'tag' }, label('activation_level', f.properties.level))))
          : null,
        entity !== 'logbook_entry' && app.readable('logbook_entry')
          ? list(t('detail.logbook'), logs, (f) =>
              h('li', { class: `log-${f.properties.kind}` },
                h('time', { datetime: f.properties.occurred_at }, formatDateTime(f.properties.occurred_at)), ' ',
                h('span', { class: 'tag' }, label('logbook_kind', f.properties.kind)), ' ',
                h('strong', {}, f.properties.title),
                f.properties.description ? h('p', {}, f.properties.description) : null))
          : null,
      );
    }
  }

  _value(entity, field, value) {
    const p = this.feature?.properties || {};
    if ((field === 'parent_id' || field === 'subject_id') && value) {
      const target = field === 'parent_id' ? p.parent_entity : p.subject_entity;
      const linked = this.app.store.get(target, value);
      return h('button', { type: 'button', class: 'link', onclick: () => this.app.openDetail(target, value) }, linked?.properties.title || value);
    }
    return formatValue(entity, field, value);
  }

  _located(feature) {
    if (feature.geometry) return feature;
    const p = feature.properties;
    const subject = p.subject_id ? this.app.store.get(p.subject_entity, p.subject_id) : null;
    return subject || feature;
  }
}

function byTime(field) {
  return (a, b) => Date.parse(b.properties[field]) - Date.parse(a.properties[field]);
}
