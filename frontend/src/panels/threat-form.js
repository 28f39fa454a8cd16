// Recording the national threat level as OCAM/CUTA set it (POST /api/threat-level): the general
// level, or a sector's or a named target's own level (which may also be lifted, so that the
// general level applies to it again), with the assessment's reference and why. The watch
// transcribes OCAM/CUTA's decision; the badge follows from the feed, and every partner is
// alerted by the server in the same transaction (docs/threat-level.md).
import { h, fill, $ } from '../dom.js';
import { label, onLanguage, t } from '../i18n.js';
import { ApiError } from '../api.js';
import { ENUMS } from '../vocabulary.js';
import { errorDetail } from '../format.js';
import { showProblems } from '../forms.js';

// The lengths the API accepts (app/threat/service.py), checked here first for a clear message.
export const THREAT_LIMITS = { target: 200, reason: 2000, source_reference: 200 };
const LIFT = 'lift';

/** The request body of a filled form's values (strings), or the problems to show first. */
export function threatBody(values) {
  const problems = [];
  const sector = values.sector || null;
  const target = values.target?.trim() || null;
  const lift = values.level === LIFT;
  if (lift && !sector && !target) problems.push({ field: 'level', key: 'threat.form.lift_general' });
  if (!values.level) problems.push({ field: 'level', key: 'threat.form.required' });
  for (const field of ['reason', 'source_reference']) {
    if (!values[field]?.trim()) problems.push({ field, key: 'threat.form.required' });
  }
  for (const [field, max] of Object.entries(THREAT_LIMITS)) {
    if ((values[field]?.trim().length || 0) > max) problems.push({ field, key: 'threat.form.too_long', params: { max } });
  }
  if (problems.length) return { problems };
  return {
    body: {
      level: lift ? null : Number(values.level),
      sector,
      target,
      reason: values.reason.trim(),
      source_reference: values.source_reference.trim(),
    },
  };
}

export class ThreatForm {
  constructor(app) {
    this.app = app;
    this.dialog = $('#threat-form', app.root);
    this.errors = {};
    onLanguage(() => this.dialog?.open && this.render());
  }

  open() {
    if (!this.dialog || !this.app.can('threat_level:create')) return;
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
    this.form.elements.namedItem('level').focus();
  }

  close() {
    if (this.dialog?.open) this.dialog.close();
  }

  _slot(field) {
    const slot = h('p', { class: 'field-error', id: `tf-${field}-error`, role: 'alert' });
    this.errors[field] = slot;
    return slot;
  }

  _field(field, control, required = false) {
    return h('div', { class: 'field' },
      h('label', { for: `tf-${field}` }, t(`threat.form.${field}`), required ? ' *' : ''),
      control,
      this._slot(field));
  }

  render() {
    this.errors = {};
    this.general = h('p', { class: 'error', role: 'alert', hidden: true });
    const described = (field) => ({ id: `tf-${field}`, name: field, 'aria-describedby': `tf-${field}-error` });
    const levels = ENUMS.threat_level.map((v) => h('option', { value: v }, `${v} — ${label('threat_level', v)}`));
    this.form = h(
      'form',
      { method: 'dialog', class: 'threat-form', novalidate: true, onsubmit: (e) => this._submit(e) },
      h('h2', {}, t('threat.form.title')),
      h('p', { class: 'muted small' }, t('threat.form.hint')),
      h('div', { class: 'form-grid' },
        this._field('level', h('select', { ...described('level'), required: true },
          h('option', { value: '' }, '—'), levels, h('option', { value: LIFT }, t('threat.form.lift'))), true),
        this._field('sector', h('select', described('sector'),
          h('option', { value: '' }, t('threat.general')),
          ENUMS.threat_sector.map((v) => h('option', { value: v }, label('threat_sector', v))))),
        this._field('target', h('input', { ...described('target'), maxlength: THREAT_LIMITS.target, placeholder: t('threat.form.target_hint') })),
        this._field('source_reference', h('input', { ...described('source_reference'), maxlength: THREAT_LIMITS.source_reference, required: true }), true),
        h('div', { class: 'field field-wide' },
          h('label', { for: 'tf-reason' }, t('threat.form.reason'), ' *'),
          h('textarea', { ...described('reason'), rows: 3, maxlength: THREAT_LIMITS.reason, required: true }),
          this._slot('reason'))),
      this.general,
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => this.close() }, t('editor.cancel')),
        h('button', { type: 'submit', class: 'primary', id: 'tf-submit' }, t('threat.form.submit'))),
    );
    fill(this.dialog, this.form);
  }

  _values() {
    const value = (name) => this.form.elements.namedItem(name)?.value ?? '';
    return Object.fromEntries(['level', 'sector', 'target', 'reason', 'source_reference'].map((n) => [n, value(n)]));
  }

  _show(problems, detail = null) {
    showProblems(this.form, this.errors, this.general, problems, detail);
  }

  async _submit(event) {
    event.preventDefault();
    const { body, problems } = threatBody(this._values());
    if (problems) {
      this._show(problems, t('editor.invalid'));
      return;
    }
    const submit = $('#tf-submit', this.dialog);
    submit.disabled = true;
    try {
      await this.app.api.request('POST', '/api/threat-level', { body });
      this.close();
      this.app.toast(t('threat.form.recorded'), 'info', { timeout: 6000 });
    } catch (error) {
      submit.disabled = false;
      if (error instanceof ApiError && error.errors.length) {
        this._show(error.fieldErrors().map((e) => ({ field: e.field, text: e.msg })), t('editor.invalid'));
      } else {
        this._show([], errorDetail(error));
      }
    }
  }
}
