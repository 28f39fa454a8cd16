// The shift handover (docs/reports.md "Shift handover"): opened from the header's button, which
// turns into a prompt as the shift change nears and until the incoming team acknowledges. It shows
// what the shift left (built by the server from the change feed and the picture), lets the
// outgoing team write its notes and hand over, and the incoming team acknowledge. Times are
// Brussels'. Another dashboard's hand-over or acknowledgement arrives as the logbook entry it
// writes, on the change feed, and refreshes this one.
import { h, fill, $ } from '../dom.js';
import { label, language, onLanguage, t } from '../i18n.js';
import { formatDateTime, formatTime } from '../time.js';
import { errorDetail } from '../format.js';
import { ENUMS } from '../model.js';

// The prompt follows the clock: the server is asked again this often (and on every handover
// entry of the logbook).
const CHECK_MS = 60_000;
const GROUPS = ['new', 'changed', 'closed', 'deleted'];

export class Handover {
  constructor(app) {
    this.app = app;
    this.button = $('#handover-open', app.root);
    this.dialog = $('#handover', app.root);
    this.state = null; // the answer of GET /api/handovers/current
    this.busy = false;
    this.opening = false;
    this.error = null;
    this.button.hidden = false;
    this.button.addEventListener('click', () => this.open());
    this.dialog.addEventListener('close', () => { this.error = null; });
    app.store.subscribe((event) => {
      if (event.type === 'change' && event.entity === 'logbook_entry' && event.feature?.properties?.kind === 'handover') this.check();
    });
    const tick = setInterval(() => this.check(), CHECK_MS);
    app.cleanups.push(() => clearInterval(tick));
    app.cleanups.push(onLanguage(() => { this.renderButton(); if (this.dialog.open) this.render(); }));
    this.check();
  }

  get handover() {
    return this.state?.handover || null;
  }

  async check() {
    // What the shift left is built only for an open panel: the prompt needs the shift alone.
    const preview = this.dialog.open || this.opening ? 'true' : 'false';
    try {
      this.state = await this.app.api.get(`/api/handovers/current?preview=${preview}`);
    } catch (error) {
      if (this.dialog.open) this.error = errorDetail(error);
      return;
    }
    this.renderButton();
    if (this.dialog.open && !this.busy) this.render();
  }

  renderButton() {
    const s = this.state;
    const due = Boolean(s?.prompt) && Date.parse(s.shift.end) - Date.now() <= 60 * 60_000;
    this.button.classList.toggle('due', due);
    this.button.classList.toggle('late', due && Boolean(s.escalated_at));
    const text = due ? t('handover.prompt', { time: formatTime(s.shift.end) }) : t('handover.open');
    fill(this.button, text);
    this.button.title = text;
  }

  async open() {
    this.opening = true;
    await this.check();
    this.opening = false;
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  render() {
    const s = this.state;
    const ho = this.handover;
    const content = ho?.content || s?.preview || null;
    fill(
      this.dialog,
      h('div', { class: 'handover-head' },
        h('h2', { id: 'handover-title' }, t('handover.title')),
        h('button', { type: 'button', class: 'close', onclick: () => this.close() }, t('detail.close'))),
      s ? this.summary(s, ho) : h('p', { class: 'muted' }, t('detail.loading')),
      this.error ? h('p', { class: 'error', role: 'alert' }, this.error) : null,
      s ? this.actions(s, ho) : null,
      content ? this.contents(content) : null,
    );
  }

  summary(s, ho) {
    const facts = [
      [t('handover.shift'), `${formatDateTime(s.shift.start)} → ${formatDateTime(s.shift.end)}`],
      [t('handover.status'), ho ? label('handover_status', ho.status) : t('handover.not_started')],
    ];
    if (ho?.team) facts.push([t('handover.team'), ho.team]);
    if (ho?.incoming_team) facts.push([t('handover.incoming_team'), ho.incoming_team]);
    if (ho?.handed_over_at) facts.push([t('handover.handed_over'), t('handover.by_at', { who: ho.handed_over_by, time: formatDateTime(ho.handed_over_at) })]);
    if (ho?.acknowledged_at) facts.push([t('handover.acknowledged'), t('handover.by_at', { who: ho.acknowledged_by, time: formatDateTime(ho.acknowledged_at) })]);
    if (ho?.acknowledgement_note) facts.push([t('handover.ack_note'), ho.acknowledgement_note]);
    if (ho?.status !== 'acknowledged') {
      facts.push([t('handover.escalation'), s.escalated_at
        ? t('handover.escalated', { time: formatDateTime(s.escalated_at) })
        : t('handover.escalates_at', { time: formatDateTime(s.escalation_due_at) })]);
    }
    return h('dl', { class: 'handover-facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  }

  actions(s, ho) {
    const app = this.app;
    const me = app.user?.username;
    if (!ho || ho.status === 'draft') {
      if (!app.can('handovers:write')) return ho?.notes ? h('p', { class: 'handover-notes' }, ho.notes) : null;
      return h('form', { class: 'handover-form', onsubmit: (e) => { e.preventDefault(); this.save(e.target, false); } },
        h('div', { class: 'form-grid' },
          h('label', { class: 'field' }, h('span', {}, t('handover.team')),
            h('input', { name: 'team', maxlength: 32, value: ho?.team || '' })),
          h('label', { class: 'field' }, h('span', {}, t('handover.incoming_team')),
            h('input', { name: 'incoming_team', maxlength: 32, value: ho?.incoming_team || '' }))),
        h('label', { class: 'field' }, h('span', {}, t('handover.notes')),
          h('textarea', { name: 'notes', rows: 5, maxlength: 20000, placeholder: t('handover.notes_hint') }, ho?.notes || '')),
        h('div', { class: 'actions' },
          h('button', { type: 'submit', dataset: { action: 'save-handover' } }, t('handover.save')),
          h('button', { type: 'button', class: 'primary', dataset: { action: 'hand-over' }, onclick: (e) => this.save(e.target.form, true) }, t('handover.hand_over'))));
    }
    if (ho.notes) {
      const notes = h('div', { class: 'handover-notes' }, h('h3', {}, t('handover.notes')), h('p', {}, ho.notes));
      if (ho.status !== 'handed_over') return notes;
      return [notes, this.acknowledgeForm(ho, me)];
    }
    return ho.status === 'handed_over' ? this.acknowledgeForm(ho, me) : null;
  }

  acknowledgeForm(ho, me) {
    if (!this.app.can('handovers:acknowledge')) return null;
    if (ho.handed_over_by === me) return h('p', { class: 'muted' }, t('handover.wait_incoming'));
    return h('form', { class: 'handover-form', onsubmit: (e) => { e.preventDefault(); this.acknowledge(e.target); } },
      h('label', { class: 'field' }, h('span', {}, t('handover.ack_note')),
        h('input', { name: 'note', maxlength: 5000 })),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', dataset: { action: 'acknowledge-handover' } }, t('handover.acknowledge'))));
  }

  contents(c) {
    const kinds = Object.entries(c.changes.kinds);
    const inc = c.incidents;
    return h('div', { class: 'handover-content' },
      h('p', { class: 'muted' }, t('handover.window', { from: formatDateTime(c.from), until: formatDateTime(c.until) })),
      h('h3', {}, t('handover.changes', { n: c.changes.objects })),
      kinds.length
        ? h('table', { class: 'handover-changes' },
            h('thead', {}, h('tr', {}, h('th', {}, ''), GROUPS.map((g) => h('th', {}, t(`handover.${g}`))))),
            h('tbody', {}, kinds.map(([entity, groups]) => h('tr', {},
              h('th', { scope: 'row' }, label('entity_plural', entity)),
              GROUPS.map((g) => h('td', {}, groups.counts[g] ? this.items(groups[g], groups.counts[g]) : '0'))))))
        : h('p', { class: 'muted' }, t('handover.no_changes')),
      h('h3', {}, t('handover.open_incidents', { n: inc.total })),
      h('ul', { class: 'handover-severity' }, [...ENUMS.severity].reverse().map((sev) =>
        h('li', { class: `sev-${sev}` }, label('severity', sev), ' ', h('strong', {}, String(inc.by_severity[sev] ?? 0))))),
      this.list(inc.items.filter((i) => i.severity === 'severe' || i.severity === 'extreme'), (i) => `${i.ref} — ${i.title} (${label('severity', i.severity)})`),
      h('h3', {}, t('handover.activations', { n: c.activations.length })),
      this.list(c.activations, (a) => `${a.ref} — ${a.title} (${label('activation_level', a.level)})`),
      h('h3', {}, t('handover.tasks', { open: c.tasks.open, overdue: c.tasks.overdue })),
      this.list(c.tasks.items.filter((x) => x.overdue), (x) => `${x.ref} — ${x.title} (${formatDateTime(x.due_at)})`),
      h('h3', {}, t('handover.alerts', { n: c.alerts.total })),
      this.list(c.alerts.items, (a) => `${a.ref} — ${a.organisation} — ${(a.headline[language()] || a.headline.fr || '')} (${formatDateTime(a.sent_at)})`),
    );
  }

  items(items, count) {
    return h('details', {},
      h('summary', {}, String(count)),
      h('ul', {}, items.map((i) => h('li', {},
        h('button', { type: 'button', class: 'link', onclick: () => { this.close(); this.app.openDetail(i.entity, i.id); } }, `${i.ref || ''} ${i.title || ''}`.trim()),
        i.by ? h('span', { class: 'muted' }, ` — ${i.by}, ${formatTime(i.at)}`) : null))));
  }

  list(items, text) {
    if (!items.length) return h('p', { class: 'muted' }, t('detail.none'));
    return h('ul', { class: 'handover-list' }, items.map((i) => h('li', {}, text(i))));
  }

  async run(work) {
    this.busy = true;
    this.error = null;
    try {
      await work();
      await this.check();
    } catch (error) {
      this.error = errorDetail(error);
    } finally {
      this.busy = false;
      this.render();
    }
  }

  save(form, handOver) {
    const field = (name) => form.elements.namedItem(name).value.trim() || null;
    const values = { team: field('team'), incoming_team: field('incoming_team'), notes: field('notes') };
    if (handOver && !window.confirm(t('handover.confirm'))) return;
    return this.run(async () => {
      const api = this.app.api;
      let ho = this.handover;
      if (!ho) {
        ho = await api.request('POST', '/api/handovers', { body: { shift_end: this.state.shift.end, ...values } });
      } else {
        ho = await api.request('PATCH', `/api/handovers/${ho.id}`, { body: values, ifMatch: ho.version });
      }
      if (handOver) {
        ho = await api.request('POST', `/api/handovers/${ho.id}/hand-over`, { ifMatch: ho.version });
        this.app.toast(t('handover.done', { ref: ho.ref }), 'info', { timeout: 4000 });
      }
    });
  }

  acknowledge(form) {
    const note = form.elements.namedItem('note').value.trim() || null;
    return this.run(async () => {
      const ho = await this.app.api.request('POST', `/api/handovers/${this.handover.id}/acknowledge`, { body: { note } });
      this.app.toast(t('handover.acknowledged_toast', { ref: ho.ref }), 'info', { timeout: 4000 });
    });
  }
}
