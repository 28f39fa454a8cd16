// The national threat level (OCAM/CUTA) on every screen: the header's badge and the wall's. What
// stands is the server's answer to GET /api/threat-level (the general level and each sector's or
// target's own); it is read again whenever a `threat_level` change reaches the store, so the
// badge follows the feed live. `threatAt(at)` reads what stood at a past instant, and
// `ThreatBadge.show(at)` draws it, marked as the past: the replay calls them with its instant
// and `live()` to come back.
import { h, fill } from './dom.js';
import { label, onLanguage, t } from './i18n.js';
import { formatDateTime } from './time.js';

const THREAT_URL = '/api/threat-level';
let boundApi = null;

/** What stood at `at` (a Date or an ISO time; null: now): `{at, general, specific}`. */
export function threatAt(at = null, api = boundApi) {
  if (!api) throw new Error('threatAt: no API client bound yet (ThreatBadge binds it)');
  const when = at == null ? null : at instanceof Date ? at.toISOString() : String(at);
  return api.get(when ? `${THREAT_URL}?at=${encodeURIComponent(when)}` : THREAT_URL);
}

/** What a setting grades, in the current language: its sector and target, or "general". */
export function subjectOf(record) {
  const parts = [label('threat_sector', record.sector), record.target || ''].filter(Boolean);
  return parts.join(' · ') || t('threat.general');
}

/** The words of a level: `3 — Grave`. */
export function levelText(level) {
  return level == null ? t('threat.none') : `${level} — ${label('threat_level', String(level))}`;
}

/** The lines a screen shows of a standing answer: the general level first, then the others. */
export function describeStanding(standing) {
  const lines = [];
  if (standing?.general) lines.push({ record: standing.general, subject: t('threat.general'), text: levelText(standing.general.level) });
  for (const record of standing?.specific || []) lines.push({ record, subject: subjectOf(record), text: levelText(record.level) });
  return lines;
}

/** A setting's provenance: set when, by whom, on what OCAM/CUTA reference, and why. */
export function provenance(record) {
  return t('threat.provenance', {
    at: formatDateTime(record.set_at),
    by: record.set_by,
    reference: record.source_reference,
    reason: record.reason,
  });
}

export class ThreatBadge {
  /**
   * @param app      the dashboard (its api and store)
   * @param element  where the badge is drawn
   * @param details  where the sector levels are listed (the wall), or null (the header's
   *                 tooltip lists them)
   */
  constructor(app, element, { details = null } = {}) {
    this.app = app;
    this.element = element;
    this.details = details;
    this.standing = null;
    this.at = null; // null: live; else the past instant shown
    // While the past shows: a replayed record changed a level since it was read at `at`.
    this.pastChanged = false;
    this.reading = 0;
    boundApi = app.api;
    app.cleanups.push(
      app.store.subscribe((event) => {
        const changed = event.type === 'change' && event.entity === 'threat_level' && event.outcome === 'applied';
        // The past: whoever shows it (the replay) reads it again at its own instant.
        if (this.at != null) this.pastChanged ||= changed;
        else if (event.type === 'snapshot' || changed) this.refresh();
      }),
    );
    app.cleanups.push(onLanguage(() => this.render()));
    if (app.replay) app.cleanups.push(this.follow(app.replay));
    this.refresh();
  }

  /**
   * Follow a replay (replay.js): the level that stood at its instant, read again when the play
   * head stops somewhere (a seek, a step, a pause) and, while it plays, when a replayed record
   * changed a level (not at every tick); back to the live level when it stops.
   */
  follow(replay) {
    return replay.subscribe((event) => {
      if (event.type === 'stopped') {
        if (this.at != null) this.live();
        return;
      }
      if (!replay.active || replay.time == null) return;
      const moved = event.type === 'time' && (!replay.playing || this.pastChanged || this.at == null);
      const halted = event.type === 'playing' && !event.playing;
      if (moved || halted) this.show(new Date(replay.time));
    });
  }

  /** Read what stands (or stood at the instant shown) and draw it; the last read wins. */
  async refresh() {
    const reading = ++this.reading;
    try {
      const standing = await threatAt(this.at, this.app.api);
      if (reading !== this.reading) return;
      this.standing = standing;
      this.failed = false;
    } catch (error) {
      if (reading !== this.reading) return;
      this.failed = true;
    }
    this.render();
  }

  /** Show the level that stood at `at` (the replay's instant), marked as the past. */
  show(at) {
    this.at = at instanceof Date ? at.toISOString() : at;
    this.pastChanged = false;
    return this.refresh();
  }

  /** Back to the live level. */
  live() {
    this.at = null;
    this.pastChanged = false;
    return this.refresh();
  }

  render() {
    const el = this.element;
    if (!el) return;
    const lines = describeStanding(this.standing);
    const general = this.standing?.general;
    el.dataset.level = general ? String(general.level) : '';
    el.dataset.past = this.at ? 'true' : 'false';
    const others = lines.length - (general ? 1 : 0);
    const caption = this.failed && !this.standing ? t('threat.unknown') : general ? levelText(general.level) : t('threat.none');
    fill(
      el,
      h('span', { class: 'threat-name' }, t('threat.label')),
      ' ',
      h('span', { class: 'threat-level' }, caption),
      others > 0 ? h('span', { class: 'threat-more' }, ` +${others}`) : null,
      this.at ? h('span', { class: 'threat-past' }, ` (${formatDateTime(this.at)})`) : null,
    );
    const summary = lines.map((l) => `${l.subject}: ${l.text}`).join('\n');
    const tip = [t('threat.title'), summary, general ? provenance(general) : ''].filter(Boolean).join('\n');
    el.title = tip;
    el.setAttribute('aria-label', tip);
    if (this.details) {
      fill(
        this.details,
        lines
          .filter((l) => l.record !== general)
          .map((l) => h('li', { 'data-level': String(l.record.level) }, h('span', {}, l.subject), ' ', h('b', {}, l.text))),
      );
    }
  }
}
