// The time control: pick a window and an instant in it, play it forwards (×1 to ×3600), pause,
// step to the next change, jump to a bookmark, export the window's report, and come back to
// live. While it shows the past, a banner says so with the instant (Europe/Brussels) and the
// dashboard is read-only (App.can). The replay itself is replay.js; switching is App's.
import { h, fill, $, saveBlob } from '../dom.js';
import { language, onLanguage, t } from '../i18n.js';
import { formatDateTime, formatClock, formatLongDate, fromLocalInput, toLocalInput } from '../time.js';
import { SPEEDS } from '../replay.js';

const HOUR = 3600 * 1000;
// The slider moves by minutes: finer instants are reached by stepping from change to change.
const SLIDER_STEP_S = 60;

export class ReplayControl {
  constructor(app) {
    this.app = app;
    this.replay = app.replay;
    this.el = $('#replay', app.root);
    this.banner = $('#replay-banner', app.root);
    this.window = null; // {from, to} epoch ms
    this.bookmarks = [];
    this.render();
    this.replay.subscribe((event) => this.onReplay(event));
    app.cleanups.push(onLanguage(() => this.render()));
  }

  onReplay(event) {
    if (event.type === 'time') this.showTime();
    else if (event.type === 'playing' || event.type === 'speed') this.renderButtons();
    else if (event.type === 'stopped') this.render();
    else if (event.type === 'error') this.app.apiError(event.error);
  }

  /** The default window: the last 24 hours up to now. */
  _defaultWindow() {
    const to = Date.now();
    return { from: to - 24 * HOUR, to };
  }

  async open(at = null) {
    this.window = this.window || this._defaultWindow();
    if (at != null && (at < this.window.from || at > this.window.to)) {
      this.window = { from: Math.min(at, this.window.from), to: Math.max(at, this.window.to) };
    }
    await this.app.enterReplay(at ?? this.window.to, this.window.to);
    this.render();
    this.loadBookmarks();
  }

  async setWindow(from, to) {
    if (!(from < to)) return;
    this.window = { from, to };
    const head = Math.min(Math.max(this.replay.time ?? to, from), to);
    await this.app.enterReplay(head, to);
    this.render();
    this.loadBookmarks();
  }

  async loadBookmarks() {
    if (!this.window) return;
    const { from, to } = this.window;
    try {
      const page = await this.app.api.get(`/api/timeline/bookmarks?start=${encodeURIComponent(new Date(from).toISOString())}&end=${encodeURIComponent(new Date(to).toISOString())}`);
      this.bookmarks = page.bookmarks;
    } catch (error) {
      this.bookmarks = [];
      if (error?.status !== 413) this.app.apiError(error);
    }
    this.renderMarks();
  }

  async report() {
    const { from, to } = this.window;
    const query = `start=${encodeURIComponent(new Date(from).toISOString())}&end=${encodeURIComponent(new Date(to).toISOString())}&format=pdf`;
    try {
      saveBlob(await this.app.api.blob(`/api/replay/report?${query}`), `sitcen-replay-${toLocalInput(from).replace(/[-:]/g, '')}-${language()}.pdf`);
    } catch (error) {
      this.app.apiError(error);
    }
  }

  render() {
    if (!this.replay.active) {
      this.banner.hidden = true;
      fill(this.el, h('button', { type: 'button', id: 'replay-open', class: 'replay-open', onclick: () => this.open() }, t('replay.open')));
      return;
    }
    const { from, to } = this.window;
    this.slider = h('input', {
      type: 'range',
      id: 'replay-slider',
      min: String(Math.floor(from / 1000)),
      max: String(Math.ceil(to / 1000)),
      step: String(SLIDER_STEP_S),
      'aria-label': t('replay.instant'),
      oninput: (e) => this.preview(Number(e.target.value) * 1000),
      onchange: (e) => this.app.replayTo(Number(e.target.value) * 1000),
    });
    this.clock = h('output', { id: 'replay-clock', class: 'replay-clock', for: 'replay-slider' });
    this.marks = h('div', { class: 'replay-marks', role: 'list', 'aria-label': t('replay.bookmarks') });
    const input = (id, value, onchange) => h('input', { id, type: 'datetime-local', value: toLocalInput(value), onchange });
    this.playButton = h('button', { type: 'button', id: 'replay-play', class: 'primary', onclick: () => (this.replay.playing ? this.replay.pause() : this.replay.play()) });
    this.speed = h(
      'select',
      { id: 'replay-speed', 'aria-label': t('replay.speed'), onchange: (e) => this.replay.setSpeed(Number(e.target.value)) },
      SPEEDS.map((s) => h('option', { value: String(s), selected: s === this.replay.speed }, `×${s}`)),
    );
    fill(
      this.el,
      h(
        'div',
        { class: 'replay-control', role: 'group', 'aria-label': t('replay.label') },
        h('label', {}, h('span', {}, t('replay.from')), ' ', input('replay-from', from, (e) => this.setWindow(Date.parse(fromLocalInput(e.target.value)), this.window.to))),
        h('label', {}, h('span', {}, t('replay.to')), ' ', input('replay-to', to, (e) => this.setWindow(this.window.from, Date.parse(fromLocalInput(e.target.value))))),
        h('div', { class: 'replay-track' }, this.slider, this.marks),
        this.clock,
        this.playButton,
        this.speed,
        h('button', { type: 'button', id: 'replay-step', onclick: () => this.app.guard(this.replay.step()) }, t('replay.step')),
        h('button', { type: 'button', id: 'replay-report', onclick: () => this.report() }, t('replay.report')),
        h('button', { type: 'button', id: 'replay-live', class: 'replay-live', onclick: () => this.app.goLive() }, t('replay.live')),
      ),
    );
    this.renderButtons();
    this.renderMarks();
    this.showTime();
  }

  renderButtons() {
    if (!this.playButton) return;
    fill(this.playButton, this.replay.playing ? t('replay.pause') : t('replay.play'));
    this.playButton.setAttribute('aria-pressed', String(this.replay.playing));
    if (this.speed) this.speed.value = String(this.replay.speed);
  }

  renderMarks() {
    if (!this.marks || !this.window) return;
    const { from, to } = this.window;
    fill(
      this.marks,
      this.bookmarks.map((m) => {
        const at = Date.parse(m.at);
        const text = `${formatDateTime(at)} — ${t(`replay.mark_${m.kind}`)}: ${m.title}${m.value ? ` (${m.value})` : ''}`;
        const mark = h('button', {
          type: 'button',
          role: 'listitem',
          class: ['replay-mark', `mark-${m.kind}`],
          title: text,
          'aria-label': text,
          dataset: { seq: m.seq, kind: m.kind },
          onclick: () => this.app.replayTo(at),
        });
        // Where on the track: through the CSSOM, which the page's style policy allows.
        mark.style.setProperty('--at', `${(((at - from) / (to - from)) * 100).toFixed(3)}%`);
        return mark;
      }),
    );
  }

  preview(ms) {
    if (this.clock) fill(this.clock, formatClockLong(ms));
  }

  /** The play head on the slider and in the banner. */
  showTime() {
    const time = this.replay.time;
    if (time == null || !this.slider) return;
    this.slider.value = String(Math.round(time / 1000));
    this.preview(time);
    this.banner.hidden = false;
    this.banner.dataset.at = new Date(time).toISOString();
    fill(this.banner, h('strong', {}, t('replay.banner_title')), ' ', t('replay.banner', { time: formatClockLong(time) }));
  }
}

function formatClockLong(ms) {
  return `${formatLongDate(ms)} ${formatClock(ms)}`;
}
