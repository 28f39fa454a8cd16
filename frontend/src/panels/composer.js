// Composing an alert to partners (CAP 1.2 fields, texts in FR/NL/EN): the area is the Region,
// the object open in the detail panel, a polygon drawn on the map (the editor's terra-draw), or
// for an Update the earlier alert's area; the recipients are chosen partners or all. Checked as
// the API checks it; the API's own problem+json errors are shown beside the fields they name.
// The draft survives closing the dialog to draw, and a failed send.
import { h, fill, $ } from '../dom.js';
import { label, language, onLanguage, t } from '../i18n.js';
import { ApiError } from '../api.js';
import { CAP, LIMITS, TEXT_FIELDS, TEXT_LANGUAGES, alertBody, capSeverity, draftFrom, emptyDraft, fieldOf, validateAlert } from '../cap.js';
import { textOf } from '../alerts.js';
import { errorDetail } from '../format.js';
import { showProblems } from '../forms.js';

export class Composer {
  constructor(app) {
    this.app = app;
    this.dialog = $('#composer', app.root);
    this.draft = null;
    this.errors = {};
    this.organisations = null;
    this.dialog.addEventListener('close', () => this.dialog.open || this._read());
    onLanguage(() => this.dialog.open && this.render());
  }

  async _organisations() {
    if (!this.organisations) {
      const answer = await this.app.api.get('/api/organisations');
      this.organisations = answer.organisations;
    }
    return this.organisations;
  }

  /** A new alert; its area the object open in the detail panel, if any. */
  newAlert() {
    this.draft = emptyDraft();
    const selected = this._selected();
    if (selected) this.draft.area = { kind: 'object', object: selected, geometry: null, description: '' };
    if (selected?.severity) this.draft.severity = selected.severity;
    return this.open();
  }

  /** An Update or Cancel of an earlier alert. */
  reply(alert, msgType) {
    this.draft = draftFrom(alert, msgType);
    return this.open();
  }

  async open() {
    if (!this.draft) this.draft = emptyDraft();
    try {
      await this._organisations();
    } catch (error) {
      this.app.apiError(error);
      return;
    }
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
    this.dialog.querySelector('select, input')?.focus();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  _selected() {
    const current = this.app.panels.detail?.current;
    const feature = current && this.app.store.get(current.entity, current.id);
    if (!feature || !feature.geometry) return null;
    const p = feature.properties;
    return { entity: current.entity, id: current.id, title: p.title, ref: p.ref, severity: capSeverity(p.severity) };
  }

  // ---- the form

  _errorSlot(field) {
    const slot = h('span', { class: 'field-error', id: `ce-${field.replaceAll('.', '-')}-error`, role: 'alert' });
    this.errors[field] = slot;
    return slot;
  }

  _select(name, options, value, group) {
    const id = `ce-${name}`;
    return h('div', { class: 'field' },
      h('label', { for: id }, t(`alerts.composer.${name}`)),
      h('select', { id, name, 'aria-describedby': `${id}-error` },
        name === 'severity' && !value ? h('option', { value: '' }, '—') : null,
        options.map((o) => h('option', { value: o, selected: o === value }, label(group, o)))),
      this._errorSlot(name));
  }

  _references() {
    const d = this.draft;
    const candidates = this.app.alerts.list().filter((a) => a.msg_type !== 'Cancel');
    if (d.references && !candidates.some((a) => a.id === d.references)) {
      const held = this.app.alerts.get(d.references);
      if (held) candidates.unshift(held);
    }
    return h('div', { class: 'field field-wide', hidden: d.msg_type === 'Alert' },
      h('label', { for: 'ce-references' }, t('alerts.composer.references')),
      h('select', { id: 'ce-references', name: 'references', 'aria-describedby': 'ce-references-error' },
        h('option', { value: '' }, '—'),
        candidates.map((a) => h('option', { value: a.id, selected: a.id === d.references }, `${a.ref} — ${textOf(a, language()).headline}`))),
      this._errorSlot('references'));
  }

  _texts() {
    const d = this.draft;
    return TEXT_LANGUAGES.map((lang) => h('fieldset', { class: 'composer-text', lang },
      h('legend', {}, t(`alerts.composer.text_${lang}`)),
      TEXT_FIELDS.map((f) => {
        const id = `ce-texts-${lang}-${f}`;
        const attrs = { id, name: `texts.${lang}.${f}`, maxlength: LIMITS[f], 'aria-describedby': `${id}-error` };
        const control = f === 'headline' ? h('input', { ...attrs, type: 'text', value: d.texts[lang][f] }) : h('textarea', { ...attrs, rows: 2 }, d.texts[lang][f]);
        return h('div', { class: 'field' }, h('label', { for: id }, t(`alerts.composer.${f}`), f === 'headline' && lang === 'fr' ? ' *' : ''), control, this._errorSlot(`texts.${lang}.${f}`));
      })));
  }

  _area() {
    const d = this.draft;
    const selected = this._selected();
    const object = d.area.kind === 'object' && d.area.object ? d.area.object : selected;
    const choice = (kind, text, enabled = true) => h('label', { class: 'check' },
      h('input', { type: 'radio', name: 'area-kind', value: kind, checked: d.area.kind === kind, disabled: !enabled }), ' ', text);
    return h('fieldset', { class: 'composer-area', 'aria-describedby': 'ce-area-error' },
      h('legend', {}, t('alerts.composer.area')),
      choice('region', t('alerts.composer.area_region')),
      choice('object', object ? t('alerts.composer.area_object', { title: `${object.ref || ''} ${object.title || ''}`.trim() }) : t('alerts.composer.area_no_object'), Boolean(object)),
      h('span', { class: 'area-drawn' },
        choice('geometry', d.area.geometry && d.area.kind === 'geometry' ? t('alerts.composer.area_drawn', { type: d.area.geometry.type }) : t('alerts.composer.area_draw'), Boolean(d.area.geometry && d.area.kind === 'geometry')),
        ' ',
        h('button', { type: 'button', id: 'ce-draw', onclick: () => this.draw() }, t('alerts.composer.draw'))),
      d.area.kind === 'referenced' || (d.references && d.area.geometry && d.area.kind !== 'geometry')
        ? choice('referenced', t('alerts.composer.area_referenced'), Boolean(d.area.geometry))
        : null,
      h('div', { class: 'field' },
        h('label', { for: 'ce-area-description' }, t('alerts.composer.area_description')),
        h('input', { id: 'ce-area-description', name: 'area.description', maxlength: LIMITS.area_description, value: d.area.description, placeholder: t('alerts.composer.area_description_hint') })),
      this._errorSlot('area'));
  }

  _recipients() {
    const d = this.draft;
    const all = d.organisations === 'all';
    const chosen = new Set(all ? [] : d.organisations);
    const name = (o) => (language() === 'nl' ? o.name_nl : o.name_fr) || o.code;
    return h('fieldset', { class: 'composer-recipients', 'aria-describedby': 'ce-organisations-error' },
      h('legend', {}, t('alerts.composer.organisations')),
      d.msg_type !== 'Alert' ? h('p', { class: 'muted small' }, t('alerts.composer.same_partners')) : null,
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'organisations-all', checked: all, onchange: (e) => this._toggleAll(e.target.checked) }), ' ', h('strong', {}, t('alerts.composer.all_partners'))),
      h('div', { class: 'org-choices' },
        this.organisations.map((o) => h('label', { class: 'check' },
          h('input', { type: 'checkbox', name: 'organisation', value: o.code, checked: chosen.has(o.code), disabled: all }),
          ' ', name(o), h('span', { class: 'muted small' }, ` ${o.code}`)))),
      this._errorSlot('organisations'));
  }

  _toggleAll(on) {
    for (const box of this.form.querySelectorAll('input[name="organisation"]')) box.disabled = on;
  }

  render() {
    const d = this.draft;
    this.errors = {};
    const general = h('p', { class: 'error', role: 'alert', hidden: true });
    this.general = general;
    this.form = h(
      'form',
      { method: 'dialog', class: 'composer-form', novalidate: true, onsubmit: (e) => this._submit(e) },
      h('h2', {}, t(`alerts.composer.title_${d.msg_type}`)),
      h('div', { class: 'form-grid' },
        this._select('msg_type', CAP.msg_type, d.msg_type, 'cap_msg_type'),
        this._select('status', CAP.status, d.status, 'cap_status'),
        this._references(),
        this._select('severity', CAP.severity, d.severity, 'cap_severity'),
        this._select('urgency', CAP.urgency, d.urgency, 'cap_urgency'),
        this._select('certainty', CAP.certainty, d.certainty, 'cap_certainty'),
        h('div', { class: 'field' },
          h('label', { for: 'ce-expires_at' }, t('alerts.composer.expires_at')),
          h('input', { id: 'ce-expires_at', name: 'expires_at', type: 'datetime-local', value: d.expires_at, 'aria-describedby': 'ce-expires_at-error' }),
          this._errorSlot('expires_at')),
        h('div', { class: 'field field-wide' },
          h('label', { for: 'ce-event' }, t('alerts.composer.event'), ' *'),
          h('input', { id: 'ce-event', name: 'event', maxlength: LIMITS.event, value: d.event, placeholder: t('alerts.composer.event_hint'), 'aria-describedby': 'ce-event-error' }),
          this._errorSlot('event')),
        h('fieldset', { class: 'field-wide composer-categories', 'aria-describedby': 'ce-categories-error' },
          h('legend', {}, t('alerts.composer.categories')),
          CAP.category.map((c) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'category', value: c, checked: d.categories.includes(c) }), ' ', label('cap_category', c))),
          this._errorSlot('categories'))),
      this._texts(),
      this._area(),
      this._recipients(),
      general,
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => this.close() }, t('editor.cancel')),
        h('button', { type: 'submit', class: 'primary', id: 'ce-send' }, t(`alerts.composer.send_${d.msg_type}`))),
    );
    // A new message type changes the title, the reference and the recipients' note.
    this.form.elements.namedItem('msg_type').addEventListener('change', () => {
      this._read();
      if (this.draft.msg_type === 'Alert') this.draft.references = '';
      this.render();
      this.form.elements.namedItem('msg_type').focus();
    });
    this.form.elements.namedItem('references').addEventListener('change', (e) => {
      const alert = this.app.alerts.get(e.target.value);
      if (!alert) return;
      this._read();
      this.draft = { ...draftFrom(alert, this.draft.msg_type), status: this.draft.status };
      this.render();
      this.form.elements.namedItem('references').focus();
    });
    fill(this.dialog, this.form);
  }

  /** The form's values into the draft. */
  _read() {
    const form = this.form;
    if (!form || !this.draft) return;
    const d = this.draft;
    const value = (name) => form.elements.namedItem(name)?.value ?? '';
    for (const name of ['msg_type', 'status', 'references', 'severity', 'urgency', 'certainty', 'event', 'expires_at']) d[name] = value(name);
    for (const lang of TEXT_LANGUAGES) for (const f of TEXT_FIELDS) d.texts[lang][f] = value(`texts.${lang}.${f}`);
    d.categories = [...form.querySelectorAll('input[name="category"]:checked')].map((b) => b.value);
    const kind = form.querySelector('input[name="area-kind"]:checked')?.value || 'region';
    // The object offered is the draft's own, else the one open in the detail panel.
    const object = d.area.kind === 'object' && d.area.object ? d.area.object : this._selected();
    d.area = { ...d.area, kind, object: kind === 'object' ? object : d.area.object, description: value('area.description') };
    d.organisations = form.querySelector('input[name="organisations-all"]')?.checked
      ? 'all'
      : [...form.querySelectorAll('input[name="organisation"]:checked')].map((b) => b.value);
  }

  /** Close the dialog, draw a polygon on the map, and come back with it as the area. */
  async draw() {
    this._read();
    this.close();
    const back = () => this.open();
    await this.app.panels.editor.startDrawing('polygon', (geometry) => {
      this.draft.area = { ...this.draft.area, kind: 'geometry', geometry };
      back();
    }, back);
  }

  _show(problems, detail = null) {
    showProblems(this.form, this.errors, this.general, problems, detail);
  }

  async _submit(event) {
    event.preventDefault();
    this._read();
    const problems = validateAlert(this.draft);
    if (problems.length) {
      this._show(problems, t('editor.invalid'));
      return;
    }
    const send = $('#ce-send', this.dialog);
    send.disabled = true;
    try {
      const alert = await this.app.api.request('POST', '/api/alerts', { body: alertBody(this.draft) });
      this.app.alerts.load([alert]);
      this.draft = null;
      this.close();
      this.app.toast(t('alerts.composer.sent', { ref: alert.ref, n: alert.recipients.length }), 'info', { timeout: 6000 });
      this.app.panels.alerts?.open(alert.id);
    } catch (error) {
      send.disabled = false;
      if (error instanceof ApiError && error.errors.length) {
        // Each error beside its field; the API's summary only for what has no field.
        this._show(error.errors.map((e) => ({ field: fieldOf(e), text: e.msg })), t('editor.invalid'));
      } else {
        this._show([], errorDetail(error));
      }
    }
  }
}
