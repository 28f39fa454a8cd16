// The exercise controller's panel (docs/replay-and-exercises.md "Exercises"): the scenarios kept
// and the examples shipped, a run started at a chosen speed, then followed and controlled
// (pause, resume, speed, stop) with its injects' progress and the phone calls to make; once
// ended, its after-action report (PDF) and response times (CSV). Coordinators and administrators
// only (`exercises:control`): a scenario tells the players what is coming.
import { h, fill, saveBlob, $ } from '../dom.js';
import { language, onLanguage, t } from '../i18n.js';
import { formatTime } from '../time.js';

export const SPEEDS = [1, 5, 10, 60, 600];
const LIVE = ['running', 'paused'];
const REFRESH_MS = 5000;

/** A text the scenario gives in FR and NL (and maybe EN): the reader's, else French. */
export function localText(texts, lang = language()) {
  if (!texts) return '';
  return texts[lang] || texts.fr || texts.nl || '';
}

/** The run to show: the one chosen if still listed, else the first live one, else the latest. */
export function currentRun(runs, chosen) {
  return runs.find((r) => r.id === chosen) || runs.find((r) => LIVE.includes(r.status)) || runs[0] || null;
}

export class Exercises {
  constructor(app, { refreshMs = REFRESH_MS } = {}) {
    this.app = app;
    this.el = $('#panel-exercises', app.root);
    this.scenarios = [];
    this.examples = [];
    this.runs = [];
    this.run = null;
    this.chosen = null;
    this.speed = 1;
    this.refreshMs = refreshMs;
    this.timer = null;
    this.render();
    app.cleanups.push(onLanguage(() => this.render()));
    app.cleanups.push(() => this._stopRefresh());
  }

  shown() {
    this.load();
  }

  async load() {
    try {
      const [kept, runs] = await Promise.all([
        this.app.api.get('/api/exercise-scenarios'),
        this.app.api.get('/api/exercise-runs'),
      ]);
      this.scenarios = kept.scenarios;
      this.examples = kept.examples;
      this.runs = runs.runs;
      const current = currentRun(this.runs, this.chosen);
      this.run = current ? await this.app.api.get(`/api/exercise-runs/${current.id}`) : null;
    } catch (error) {
      this.app.apiError(error);
    }
    this.render();
    this._refreshWhileLive();
  }

  _refreshWhileLive() {
    this._stopRefresh();
    if (this.run && LIVE.includes(this.run.status) && !this.el.hidden) {
      this.timer = setTimeout(() => this.load(), this.refreshMs);
    }
  }

  _stopRefresh() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  async _act(go) {
    try {
      await go();
    } catch (error) {
      this.app.apiError(error);
    }
    await this.load();
  }

  start(scenario) {
    return this._act(async () => {
      const run = await this.app.api.request('POST', `/api/exercise-scenarios/${scenario.id}/runs`, { body: { speed: this.speed } });
      this.chosen = run.id;
    });
  }

  control(action, speed = undefined) {
    const body = speed === undefined ? { action } : { action, speed };
    return this._act(() => this.app.api.request('POST', `/api/exercise-runs/${this.run.id}/control`, { body }));
  }

  keepExample(name) {
    return this._act(() => this.app.api.request('POST', `/api/exercise-scenarios/examples/${encodeURIComponent(name)}`));
  }

  async upload(file) {
    const data = await file.text();
    const type = file.name.endsWith('.json') ? 'application/json' : 'application/yaml';
    return this._act(() => this.app.api.request('POST', '/api/exercise-scenarios', { raw: { data, type } }));
  }

  async download(path, filename) {
    try {
      saveBlob(await this.app.api.blob(path), filename);
    } catch (error) {
      this.app.apiError(error);
    }
  }

  render() {
    fill(
      this.el,
      h('div', { class: 'panel-head' }, h('h2', {}, t('exercise.title'))),
      this.run ? this.runView(this.run) : h('p', { class: 'muted' }, t('exercise.no_run')),
      h('h3', {}, t('exercise.scenarios')),
      this.scenarioList(),
      h('div', { class: 'exercise-keep' },
        this.examples.map((name) => h('button', { type: 'button', onclick: () => this.keepExample(name) }, t('exercise.keep_example', { name }))),
        h('label', { class: 'button' }, t('exercise.upload'),
          h('input', { type: 'file', accept: '.yaml,.yml,.json', hidden: true, onchange: (e) => e.target.files[0] && this.upload(e.target.files[0]) }))),
    );
  }

  scenarioList() {
    if (!this.scenarios.length) return h('p', { class: 'muted' }, t('exercise.no_scenario'));
    const live = new Set(this.runs.filter((r) => LIVE.includes(r.status)).map((r) => r.scenario.id));
    return [
      h('label', { class: 'exercise-speed' }, t('exercise.speed'), ' ',
        h('select', { onchange: (e) => { this.speed = Number(e.target.value); } },
          SPEEDS.map((s) => h('option', { value: String(s), selected: s === this.speed }, `×${s}`)))),
      h('ul', { class: 'exercise-scenarios' }, this.scenarios.map((s) => h('li', { dataset: { scenario: s.key } },
        h('strong', {}, localText(s.title)), ' ',
        h('span', { class: 'muted small' }, t('exercise.scenario_facts', { injects: s.injects, duration: s.duration })), ' ',
        h('button', { type: 'button', disabled: live.has(s.id), onclick: () => this.start(s) }, t('exercise.start'))))),
    ];
  }

  runView(run) {
    const live = LIVE.includes(run.status);
    const { played, failed, total } = run.progress;
    return h('section', { class: 'exercise-run', dataset: { status: run.status, run: run.id } },
      h('h3', {}, localText(run.scenario.title)),
      h('p', {},
        h('span', { class: `exercise-status status-${run.status}` }, t(`exercise.status.${run.status}`)), ' · ',
        t('exercise.clock', { elapsed: run.elapsed, speed: run.speed }), ' · ',
        t('exercise.progress', { played, failed, total })),
      h('progress', { max: String(total), value: String(played + failed) }),
      live ? this.controls(run) : this.reports(run),
      this.calls(run),
      h('ol', { class: 'exercise-injects' }, run.injects.map((i) => h('li', { class: `inject-${i.state}`, dataset: { state: i.state, index: String(i.index) } },
        h('span', { class: 'num' }, i.at), ' ',
        h('span', { class: 'tag' }, t(`exercise.kind.${i.kind}`)), ' ',
        i.label, ' ',
        h('span', { class: 'muted small' }, t(`exercise.state.${i.state}`), i.played_at ? ` ${formatTime(i.played_at)}` : ''),
        i.error ? h('div', { class: 'error small' }, i.error) : null))),
    );
  }

  controls(run) {
    return h('div', { class: 'exercise-controls' },
      run.status === 'running'
        ? h('button', { type: 'button', onclick: () => this.control('pause') }, t('exercise.pause'))
        : h('button', { type: 'button', class: 'primary', onclick: () => this.control('resume') }, t('exercise.resume')),
      h('label', {}, t('exercise.speed'), ' ',
        h('select', { onchange: (e) => this.control('speed', Number(e.target.value)) },
          SPEEDS.map((s) => h('option', { value: String(s), selected: s === run.speed }, `×${s}`)))),
      h('button', { type: 'button', class: 'danger', onclick: () => this.control('stop') }, t('exercise.stop')));
  }

  reports(run) {
    return h('div', { class: 'exercise-controls' },
      h('button', { type: 'button', onclick: () => this.download(`/api/exercise-runs/${run.id}/report.pdf?lang=${language()}`, `exercise-${run.id}.pdf`) }, t('exercise.report')),
      h('button', { type: 'button', onclick: () => this.download(`/api/exercise-runs/${run.id}/responses.csv`, `exercise-${run.id}.csv`) }, t('exercise.responses')));
  }

  calls(run) {
    if (!run.calls.length) return null;
    return h('div', { class: 'exercise-calls' },
      h('h4', {}, t('exercise.calls')),
      h('ul', {}, run.calls.map((c) => h('li', { class: `call-${c.state}`, dataset: { state: c.state } },
        h('strong', {}, `${c.at} — ${c.call.caller} → ${c.call.callee}`), ' ',
        h('span', { class: 'muted small' }, t(c.state === 'upcoming' ? 'exercise.call_upcoming' : 'exercise.call_due')),
        h('p', {}, localText(c.call.note))))));
  }
}
