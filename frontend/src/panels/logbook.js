// The logbook (main courante): the latest entries, newest first, and a form to add one, about
// the object open in the detail panel or about nothing in particular.
import { h, fill, $ } from '../dom.js';
import { label, onLanguage, t } from '../i18n.js';
import { ENTITIES, ENUMS, validate } from '../model.js';
import { formatDateTime } from '../time.js';
import { ApiError } from '../api.js';

const SHOWN = 150;

export class Logbook {
  constructor(app) {
    this.app = app;
    this.el = $('#panel-logbook', app.root);
    this.kind = '';
    this.subject = null;
    this.raf = null;
    this.render();
    app.store.subscribe((event) => {
      if (event.type === 'snapshot' || (event.type === 'change' && event.entity === 'logbook_entry')) this.schedule();
    });
    onLanguage(() => this.render());
  }

  schedule() {
    if (!this.raf) this.raf = requestAnimationFrame(() => {
      this.raf = null;
      this.renderList();
    });
  }

  /** The dashboard turned read-only (a replay) or back: the form comes and goes with it. */
  permissionsChanged() {
    this.render();
  }

  /** Open the form with an object as the entry's subject. */
  compose(entity, id) {
    this.subject = { entity, id };
    this.app.showTab('logbook');
    this.render();
    this.el.querySelector('input[name="title"]')?.focus();
  }

  render() {
    const app = this.app;
    this.list = h('ol', { class: 'logbook-list' });
    const canWrite = app.can('logbook_entry:create');
    const subject = this.subject ? app.store.get(this.subject.entity, this.subject.id) : null;
    this.form = canWrite
      ? h(
          'form',
          { class: 'logbook-form', onsubmit: (e) => this.submit(e) },
          h('h2', {}, t('logbook.new')),
          subject
            ? h('p', { class: 'subject' }, t('logbook.subject', { title: subject.properties.title }), ' ',
                h('button', { type: 'button', class: 'link', 'aria-label': t('editor.cancel'), onclick: () => { this.subject = null; this.render(); } }, '×'))
            : null,
          h('label', { class: 'field' }, h('span', {}, t('logbook.kind')),
            h('select', { name: 'kind' }, ENUMS.logbook_kind.map((k) => h('option', { value: k }, label('logbook_kind', k))))),
          h('label', { class: 'field' }, h('span', {}, t('fields.title')),
            h('input', { name: 'title', maxlength: 200, required: true, placeholder: t('logbook.placeholder_title') })),
          h('label', { class: 'field' }, h('span', {}, t('fields.description')),
            h('textarea', { name: 'description', rows: 3, maxlength: 10000, placeholder: t('logbook.placeholder_text') })),
          h('p', { class: 'error', role: 'alert', hidden: true }),
          h('button', { type: 'submit', class: 'primary' }, t('logbook.add')),
        )
      : null;
    fill(
      this.el,
      this.form,
      h('div', { class: 'logbook-head' },
        h('h2', {}, t('logbook.title')),
        h('label', { class: 'field' }, h('span', {}, t('logbook.kind')),
          h('select', { onchange: (e) => { this.kind = e.target.value; this.renderList(); } },
            h('option', { value: '' }, t('logbook.all_kinds')),
            ENUMS.logbook_kind.map((k) => h('option', { value: k, selected: this.kind === k }, label('logbook_kind', k)))))),
      this.list,
    );
    this.renderList();
  }

  renderList() {
    const app = this.app;
    const entries = [...app.store.all('logbook_entry')]
      .filter((f) => !this.kind || f.properties.kind === this.kind)
      .sort((a, b) => Date.parse(b.properties.occurred_at) - Date.parse(a.properties.occurred_at))
      .slice(0, SHOWN);
    fill(
      this.list,
      entries.length
        ? entries.map((f) => {
            const p = f.properties;
            const subject = p.subject_id ? app.store.get(p.subject_entity, p.subject_id) : null;
            return h(
              'li',
              { class: ['log', `log-${p.kind}`] },
              h('time', { datetime: p.occurred_at }, formatDateTime(p.occurred_at)), ' ',
              h('span', { class: 'tag' }, label('logbook_kind', p.kind)), ' ',
              h('button', { type: 'button', class: 'link', onclick: () => app.openDetail(subject ? p.subject_entity : 'logbook_entry', subject ? p.subject_id : f.id) }, p.title),
              h('span', { class: 'muted' }, ` — ${p.created_by}`),
              p.description ? h('p', {}, p.description) : null,
            );
          })
        : h('li', { class: 'muted' }, t('logbook.none')),
    );
  }

  async submit(event) {
    event.preventDefault();
    const form = event.target;
    const error = form.querySelector('.error');
    // form.elements, not form.title: a form's own `title` property is its title attribute.
    const field = (name) => form.elements.namedItem(name).value.trim();
    const values = { kind: field('kind'), title: field('title'), description: field('description') || null };
    if (this.subject) {
      values.subject_entity = this.subject.entity;
      values.subject_id = this.subject.id;
      // Entries about a shared object are shared too only when the agent says so: internal by default.
    }
    // A note on an exercise, or written in the exercise picture, belongs to the exercise.
    const about = this.subject ? this.app.store.get(this.subject.entity, this.subject.id) : null;
    if (this.app.sync?.picture === 'exercise' || about?.properties?.exercise) values.exercise = true;
    const problems = validate('logbook_entry', values);
    if (problems.length) {
      error.hidden = false;
      error.textContent = problems.map((p) => `${t(`fields.${p.field}`)}: ${t(p.key, p.params)}`).join(' ');
      return;
    }
    try {
      const feature = await this.app.api.request('POST', `/api/${ENTITIES.logbook_entry.path}`, {
        body: { type: 'Feature', geometry: null, properties: values },
      });
      this.app.store.applyFeature('logbook_entry', feature);
      form.reset();
      error.hidden = true;
      this.app.toast(t('editor.created', { ref: feature.properties.ref }), 'info', { timeout: 4000 });
    } catch (e) {
      error.hidden = false;
      error.textContent = e instanceof ApiError ? [e.detail, ...e.fieldErrors().map((f) => `${f.field}: ${f.msg}`)].join(' ') : String(e);
    }
  }
}
