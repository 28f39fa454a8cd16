// Creating and editing objects: place an incident by a click or a search, draw zones, routes,
// perimeters and points with terra-draw, edit properties in a form checked as the API checks
// them. Every edit sends If-Match; a 412 opens the conflict dialog, where the user sees both
// versions and chooses: nothing is overwritten silently.
import { h, fill, $ } from '../dom.js';
import { label, onLanguage, t } from '../i18n.js';
import { ENTITIES, ENUMS, allowedNext, defaultsOf, kindsFor, validate } from '../model.js';
import { fromLocalInput, toLocalInput } from '../time.js';
import { ApiError, newIdempotencyKey } from '../api.js';
import { conflictRows, edits, resolve } from '../conflict.js';
import { errorDetail, fieldLabel, formatValue } from '../format.js';

const MODE_OF = { Polygon: 'polygon', LineString: 'linestring', Point: 'point' };
const HOUR = 3600 * 1000;

// What the "New" menu offers: entity and how its geometry is given.
const CREATE_ITEMS = [
  { entity: 'incident', how: 'pick', key: 'editor.new_incident' },
  { entity: 'zone', how: 'polygon', key: 'editor.new_zone', sub: 'editor.draw_polygon' },
  { entity: 'zone', how: 'linestring', key: 'editor.new_zone', sub: 'editor.draw_line' },
  { entity: 'zone', how: 'point', key: 'editor.new_zone', sub: 'editor.draw_point' },
  { entity: 'planned_event', how: 'polygon', key: 'editor.new_event', sub: 'editor.draw_polygon' },
  { entity: 'planned_event', how: 'point', key: 'editor.new_event', sub: 'editor.draw_point' },
  { entity: 'demonstration', how: 'linestring', key: 'editor.new_demonstration', sub: 'editor.draw_line' },
  { entity: 'demonstration', how: 'point', key: 'editor.new_demonstration', sub: 'editor.draw_point' },
  { entity: 'activation', how: 'none', key: 'editor.new_activation' },
];

export class Editor {
  constructor(app) {
    this.app = app;
    this.dialog = $('#editor', app.root);
    this.conflictDialog = $('#conflict', app.root);
    this.banner = $('#banner', app.root);
    this.menu = $('#create-menu', app.root);
    this.draw = null;
    this.placing = false;
    this.session = null;
    this.renderMenu();
    onLanguage(() => this.renderMenu());
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && (this.placing || this.drawing)) this.cancelMode(true);
    });
    app.store.subscribe((event) => this._watchEdited(event));
  }

  renderMenu() {
    const items = CREATE_ITEMS.filter((i) => this.app.can(`${i.entity}:create`));
    if (!items.length) {
      fill(this.menu);
      this.menu.hidden = true;
      return;
    }
    const details = h(
      'details',
      { class: 'menu' },
      h('summary', {}, t('header.menu_new')),
      h('ul', { role: 'menu' }, items.map((item) => h('li', { role: 'none' },
        h('button', {
          type: 'button',
          role: 'menuitem',
          dataset: { create: `${item.entity}:${item.how}` },
          onclick: () => {
            details.open = false;
            this.create(item.entity, item.how);
          },
        }, t(item.key), item.sub ? h('span', { class: 'sub' }, ` — ${t(item.sub)}`) : null)))),
    );
    fill(this.menu, details);
    this.menu.hidden = false;
  }

  // ---- modes: placing a point, drawing a geometry, editing one

  showBanner(text, actions = []) {
    fill(this.banner, h('span', {}, text), actions.map(([key, fn, primary]) => h('button', { type: 'button', class: primary ? 'primary' : null, onclick: fn }, t(key))));
    this.banner.hidden = false;
  }

  hideBanner() {
    this.banner.hidden = true;
    fill(this.banner);
  }

  async create(entity, how) {
    this.cancelMode();
    if (how === 'none') {
      this.openForm(entity, { geometry: null });
      return;
    }
    if (how === 'pick') {
      this.placing = true;
      this.showBanner(t('editor.pick'), [['editor.cancel', () => this.cancelMode()]]);
      const point = await this.app.mapView.pick();
      this.placing = false;
      this.hideBanner();
      if (point) this.openForm(entity, { geometry: { type: 'Point', coordinates: point.map((c) => round(c)) } });
      return;
    }
    await this.startDrawing(how, (geometry) => this.openForm(entity, { geometry }));
  }

  /** A place chosen by search while an incident is being placed. */
  placeAt(point) {
    this.app.mapView.map.flyTo({ center: point, zoom: 16 });
    this.app.mapView.cancelPick(point);
  }

  // terra-draw is loaded when first needed: the page starts faster, and the wall never needs it.
  async _ensureDraw() {
    if (this.draw) return this.draw;
    const [{ TerraDraw, TerraDrawLineStringMode, TerraDrawPointMode, TerraDrawPolygonMode, TerraDrawSelectMode }, { TerraDrawMapLibreGLAdapter }] =
      await Promise.all([import('terra-draw'), import('terra-draw-maplibre-gl-adapter')]);
    if (this.draw) return this.draw;
    const map = this.app.mapView.map;
    this.draw = new TerraDraw({
      adapter: new TerraDrawMapLibreGLAdapter({ map, prefixId: 'td' }),
      modes: [
        new TerraDrawPolygonMode(),
        new TerraDrawLineStringMode(),
        new TerraDrawPointMode(),
        new TerraDrawSelectMode({
          flags: {
            polygon: { feature: { draggable: true, coordinates: { midpoints: true, draggable: true, deletable: true } } },
            linestring: { feature: { draggable: true, coordinates: { midpoints: true, draggable: true, deletable: true } } },
            point: { feature: { draggable: true } },
          },
        }),
      ],
    });
    this.draw.on('finish', (id, context) => this._finished(id, context));
    return this.draw;
  }

  /** Draw one geometry and pass it to `done`; `cancelled` is called if the user gives up. */
  async startDrawing(mode, done, cancelled = null) {
    const draw = await this._ensureDraw();
    if (!draw.enabled) draw.start();
    draw.clear();
    draw.setMode(mode);
    this.drawing = { mode, done, cancelled };
    this.app.mapView.drawing = true;
    this.showBanner(t(`editor.hint_${mode}`), [['editor.cancel', () => this.cancelMode(true)]]);
  }

  _finished(id, context) {
    if (!this.drawing || context.action !== 'draw') return;
    const feature = this.draw.getSnapshotFeature(id);
    const { done } = this.drawing;
    this.stopDrawing();
    if (feature) done(roundGeometry(feature.geometry));
  }

  stopDrawing() {
    this.drawing = null;
    this.app.mapView.drawing = false;
    if (this.draw?.enabled) {
      this.draw.clear();
      this.draw.stop();
    }
    this.hideBanner();
  }

  /** Leave placing or drawing; `byUser` (Escape, Cancel) tells whoever asked for the drawing. */
  cancelMode(byUser = false) {
    if (this.placing) {
      this.placing = false;
      this.app.mapView.cancelPick(null);
    }
    const cancelled = this.drawing?.cancelled;
    if (this.drawing || this.draw?.enabled) this.stopDrawing();
    this.hideBanner();
    if (byUser) cancelled?.();
  }

  /** Move the vertices of an object's geometry on the map, then save it with If-Match. */
  async editGeometry(entity, id) {
    const base = this.app.store.get(entity, id);
    let geometry = base?.geometry;
    if (geometry?.type?.startsWith('Multi') && geometry.coordinates.length === 1) {
      geometry = { type: geometry.type.slice(5), coordinates: geometry.coordinates[0] };
    }
    const mode = MODE_OF[geometry?.type];
    if (!mode) {
      this.app.toast(t('editor.geometry_type', { type: geometry?.type || '—' }), 'error');
      return;
    }
    this.cancelMode();
    const draw = await this._ensureDraw();
    draw.start();
    draw.clear();
    const [added] = draw.addFeatures([{ type: 'Feature', geometry, properties: { mode } }]);
    draw.setMode('select');
    if (added?.id) draw.selectFeature(added.id);
    this.drawing = { mode: 'select', done: () => {} };
    this.app.mapView.drawing = true;
    this.showBanner(t('editor.hint_select'), [
      ['editor.save_geometry', () => {
        const edited = draw.getSnapshot().find((f) => f.id === added?.id) || draw.getSnapshot()[0];
        this.stopDrawing();
        if (edited) this.save(entity, base, { geometry: roundGeometry(edited.geometry) });
      }, true],
      ['editor.cancel', () => this.cancelMode()],
    ]);
  }

  // ---- the form

  edit(entity, id) {
    const base = this.app.store.get(entity, id);
    if (base) this.openForm(entity, { base });
  }

  openForm(entity, { geometry = null, base = null, preset = {} } = {}) {
    const spec = ENTITIES[entity];
    const app = this.app;
    const creating = !base;
    const props = base ? { ...base.properties, ...preset } : { ...this._defaults(entity), ...preset };
    const gtype = (base ? base.geometry : geometry)?.type;
    this.session = { entity, base, geometry, fields: {} };
    const inputs = spec.fields.map((field) => this._input(entity, field, props, { creating, base, gtype }));
    const notice = h('p', { class: 'notice', role: 'status', hidden: true });
    const general = h('p', { class: 'error', role: 'alert', hidden: true });
    const form = h(
      'form',
      { method: 'dialog', class: 'editor-form', novalidate: true, onsubmit: (e) => this._submit(e) },
      h('h2', {}, creating ? t('editor.create_title', { entity: label('entity', entity) }) : t('editor.edit_title', { ref: base.properties.ref })),
      gtype ? h('p', { class: 'muted' }, t('editor.geometry_type', { type: gtype })) : null,
      notice,
      h('div', { class: 'form-grid' }, inputs),
      general,
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => this.closeForm() }, t('editor.cancel')),
        h('button', { type: 'submit', class: 'primary', value: 'save' }, t('editor.save'))),
    );
    this.session.notice = notice;
    this.session.general = general;
    this.session.form = form;
    fill(this.dialog, form);
    if (!this.dialog.open) this.dialog.showModal();
    form.querySelector('input, select, textarea')?.focus();
  }

  closeForm() {
    this.session = null;
    if (this.dialog.open) this.dialog.close();
  }

  /** The dashboard turned read-only (a replay) or back: no form stays open, the menu follows. */
  permissionsChanged() {
    if (this.placing || this.drawing) this.cancelMode();
    this.closeForm();
    this.renderMenu();
  }

  /** A new object's values: the API's defaults, and a few hours from now for a planned window. */
  _defaults(entity) {
    const now = Date.now();
    const hours = { planned_event: 4, demonstration: 3 }[entity];
    const window = hours ? { starts_at: new Date(now).toISOString(), ends_at: new Date(now + hours * HOUR).toISOString() } : {};
    return { ...defaultsOf(entity), ...window };
  }

  _input(entity, field, props, { creating, base, gtype }) {
    const name = field.name;
    const value = props[name];
    const id = `f-${name}`;
    let control;
    switch (field.type) {
      case 'textarea':
        control = h('textarea', { id, name, rows: 3, maxlength: field.max }, value ?? '');
        break;
      case 'enum': {
        let options = ENUMS[field.enum];
        if (!creating && allowedNext(entity, name, base.properties[name])) options = allowedNext(entity, name, base.properties[name]);
        else if (creating && field.initial) options = field.initial;
        if (name === ENTITIES[entity].kindField && gtype) options = kindsFor(entity, gtype);
        control = h('select', { id, name, required: field.required },
          field.required && (value == null || creating) ? h('option', { value: '' }, '—') : null,
          options.map((o) => h('option', { value: o, selected: o === value }, label(field.enum, o))));
        if (value != null && options.includes(value)) control.value = value;
        break;
      }
      case 'datetime':
        control = h('input', { id, name, type: 'datetime-local', value: toLocalInput(value), required: field.required });
        break;
      case 'int':
        control = h('input', { id, name, type: 'number', min: field.min, max: field.max, step: 1, value: value ?? '' });
        break;
      case 'bool':
        control = h('input', { id, name, type: 'checkbox', checked: Boolean(value) });
        break;
      case 'list':
        control = h('textarea', { id, name, rows: 3, placeholder: t('editor.list_hint') }, (value || []).join('\n'));
        break;
      case 'parent': {
        const current = value ? `${props[field.entityField]}:${value}` : '';
        const candidates = field.entities.flatMap((e) => [...this.app.store.all(e)].map((f) => [`${e}:${f.id}`, `${label('entity', e)} — ${f.properties.title}`]));
        control = h('select', { id, name },
          h('option', { value: '' }, t('editor.none')),
          candidates.map(([v, text]) => h('option', { value: v, selected: v === current }, text)));
        break;
      }
      default:
        control = h('input', { id, name, type: 'text', maxlength: field.max, required: field.required, value: value ?? '' });
    }
    const error = h('span', { class: 'field-error', id: `${id}-error`, role: 'alert' });
    control.setAttribute('aria-describedby', `${id}-error`);
    this.session.fields[name] = { control, error, field };
    return h('div', { class: ['field', `field-${field.type}`] }, h('label', { for: id }, fieldLabel(name), field.required ? ' *' : ''), control, error);
  }

  _collect() {
    const { base } = this.session;
    const values = {};
    for (const [name, { control, field }] of Object.entries(this.session.fields)) {
      switch (field.type) {
        case 'bool':
          values[name] = control.checked;
          break;
        case 'int':
          values[name] = control.value === '' ? null : Number(control.value);
          break;
        case 'datetime': {
          const before = base?.properties[name];
          // An untouched time keeps the stored value (inputs hold minutes, the API seconds).
          values[name] = before && toLocalInput(before) === control.value ? before : control.value ? fromLocalInput(control.value) : null;
          break;
        }
        case 'list':
          values[name] = control.value.split('\n').map((s) => s.trim()).filter(Boolean);
          break;
        case 'parent': {
          const [entity, id] = control.value ? control.value.split(':') : [null, null];
          values[name] = id || null;
          values[field.entityField] = entity || null;
          break;
        }
        default:
          values[name] = control.value.trim() === '' ? null : control.value.trim();
      }
    }
    return values;
  }

  _showProblems(problems, detail = null) {
    for (const { error } of Object.values(this.session.fields)) error.textContent = '';
    let unplaced = [];
    for (const p of problems) {
      const slot = this.session.fields[p.field];
      if (slot) slot.error.textContent = p.text || t(p.key, p.params);
      else unplaced.push(p.text || `${fieldLabel(p.field)}: ${t(p.key, p.params)}`);
    }
    const general = this.session.general;
    unplaced = [detail, ...unplaced].filter(Boolean);
    general.hidden = !unplaced.length;
    general.textContent = unplaced.join(' ');
    this.session.form.querySelector('.field-error:not(:empty)')?.previousElementSibling?.focus();
  }

  async _submit(event) {
    event.preventDefault();
    const { entity, base, geometry } = this.session;
    const values = this._collect();
    if (!base) {
      const props = Object.fromEntries(Object.entries(values).filter(([, v]) => v != null && !(Array.isArray(v) && !v.length)));
      // Created in the exercise picture, an object is part of the exercise: it stays there.
      if (this.app.sync?.picture === 'exercise') props.exercise = true;
      const problems = validate(entity, { ...props, _geometry_type: geometry?.type });
      if (ENTITIES[entity].geometryRequired && !geometry) problems.push({ field: 'geometry', key: 'validation.geometry' });
      if (problems.length) {
        this._showProblems(problems, t('editor.invalid'));
        return;
      }
      const body = { type: 'Feature', geometry, properties: props };
      try {
        const feature = await this.app.api.request('POST', `/api/${ENTITIES[entity].path}`, { body, headers: { 'Idempotency-Key': this._createKey(body) } });
        this.app.store.applyFeature(entity, feature);
        this.closeForm();
        this.app.toast(t('editor.created', { ref: feature.properties.ref }), 'info', { timeout: 5000 });
        this.app.openDetail(entity, feature.id);
      } catch (error) {
        this._apiProblem(error);
      }
      return;
    }
    const changes = edits(base, values);
    if (!Object.keys(changes).length) {
      this.closeForm();
      return;
    }
    const problems = validate(entity, { ...changes, _geometry_type: base.geometry?.type }, { current: base });
    if (problems.length) {
      this._showProblems(problems, t('editor.invalid'));
      return;
    }
    this.closeForm();
    await this.save(entity, base, changes);
  }

  /**
   * The Idempotency-Key of a create: the same while the same form is sent again unchanged. A
   * create whose answer was lost (the network, a 503) may have been saved; sent again with its
   * key it answers the first object instead of making a second one.
   */
  _createKey(body) {
    const sent = JSON.stringify(body);
    if (this.session.create?.sent !== sent) this.session.create = { sent, key: newIdempotencyKey() };
    return this.session.create.key;
  }

  _apiProblem(error) {
    if (!(error instanceof ApiError)) {
      this._showProblems([], errorDetail(error));
      return;
    }
    const problems = error.fieldErrors().map((e) => ({ field: e.field, text: e.msg }));
    if (error.body?.field) problems.push({ field: error.body.field, text: error.detail });
    this._showProblems(problems, errorDetail(error));
  }

  /**
   * PATCH the user's changes (properties and/or `geometry`) against the version they edited.
   * A 412 opens the conflict dialog; nothing is sent again without the user's choice.
   */
  async save(entity, base, changes) {
    const { geometry, ...properties } = changes;
    const body = { type: 'Feature', properties };
    if (geometry) body.geometry = geometry;
    try {
      const feature = await this.app.api.request('PATCH', `/api/${ENTITIES[entity].path}/${base.id}`, { body, ifMatch: base.properties.version });
      this.app.store.applyFeature(entity, feature);
      this.app.toast(t('editor.saved', { ref: feature.properties.ref }), 'info', { timeout: 4000 });
      return feature;
    } catch (error) {
      if (error instanceof ApiError && error.status === 412 && error.body?.current) {
        this.app.store.applyFeature(entity, error.body.current);
        this.showConflict(entity, base, changes, error.body.current);
        return null;
      }
      // Refused (422, 409) or not answered (503, the network): the form comes back with what
      // was typed, to correct or send again; If-Match keeps a repeat from applying twice.
      this.openForm(entity, { base, preset: properties });
      this._apiProblem(error);
      return null;
    }
  }

  showConflict(entity, base, mine, theirs) {
    const rows = conflictRows(base, mine, theirs);
    const p = theirs.properties;
    const dialog = this.conflictDialog;
    const cell = (field, value) => (field === 'geometry' ? (value?.type || '—') : formatValue(entity, field, value));
    fill(
      dialog,
      h('form', { method: 'dialog', class: 'conflict-form' },
        h('h2', {}, t('conflict.title')),
        h('p', {}, t('conflict.explain', { who: p.updated_by || p.created_by, ref: p.ref, version: p.version, base: base.properties.version })),
        h('table', { class: 'conflict-table' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('conflict.field')), h('th', { scope: 'col' }, t('conflict.yours')), h('th', { scope: 'col' }, t('conflict.theirs')))),
          h('tbody', {}, rows.map((r) => h('tr', { class: r.clash ? 'clash' : null, dataset: { field: r.field } },
            h('th', { scope: 'row' }, fieldLabel(r.field), r.clash ? h('span', { class: 'tag' }, t('conflict.both')) : null),
            h('td', { class: r.mineChanged ? 'changed' : null }, cell(r.field, r.mine)),
            h('td', { class: r.theirsChanged ? 'changed' : null }, cell(r.field, r.theirs)))))),
        h('div', { class: 'actions' },
          h('button', { type: 'button', dataset: { choice: 'theirs' }, onclick: () => {
            dialog.close();
            this.app.openDetail(entity, theirs.id, { fly: false });
          } }, t('conflict.keep_theirs')),
          h('button', { type: 'button', dataset: { choice: 'edit' }, onclick: () => {
            dialog.close();
            const { geometry, ...props } = mine;
            this.openForm(entity, { base: theirs, preset: props });
          } }, t('conflict.edit_again')),
          h('button', { type: 'button', class: 'primary', dataset: { choice: 'mine' }, onclick: async () => {
            dialog.close();
            const { patch } = resolve(mine, theirs);
            if (!Object.keys(patch).length) {
              this.app.toast(t('conflict.nothing_left'), 'info');
              return;
            }
            await this.save(entity, theirs, patch);
          } }, t('conflict.apply_mine')))),
    );
    if (!dialog.open) dialog.showModal();
  }

  // While a form is open, say so if someone else changes the object.
  _watchEdited(event) {
    const s = this.session;
    if (!s?.base || event.type !== 'change' || event.entity !== s.entity || event.id !== s.base.id || !event.entry) return;
    if ((event.entry.version ?? 0) <= s.base.properties.version) return;
    s.notice.hidden = false;
    s.notice.textContent = t('editor.changed_meanwhile', { who: event.entry.by, version: event.entry.version });
  }
}

function round(x) {
  return Math.round(x * 1e6) / 1e6;
}

function roundGeometry(geometry) {
  const walk = (c) => (typeof c[0] === 'number' ? c.map(round) : c.map(walk));
  return { type: geometry.type, coordinates: walk(geometry.coordinates) };
}
