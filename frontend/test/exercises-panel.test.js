// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Exercises, currentRun, localText } from '../src/panels/exercises.js';
import { setLanguage } from '../src/i18n.js';
import { FakeApp } from './fakes.js';

const SCENARIO = { id: 's1', key: 'gas-shortage', title: { fr: 'Pénurie de gaz', nl: 'Gastekort' }, injects: 3, duration: '1:00:00', players: [] };

function run(status, injects) {
  return {
    id: 'r1',
    scenario: SCENARIO,
    status,
    speed: 60,
    elapsed: '0:31:00',
    progress: { played: 2, failed: 0, total: 3 },
    injects,
    calls: injects.filter((i) => i.kind === 'call'),
    log: [],
  };
}

const INJECTS = [
  { index: 0, at: '0:01:00', kind: 'create', label: 'Fuite de gaz', state: 'played', played_at: '2026-12-07T10:01:00Z', error: null },
  { index: 1, at: '0:30:00', kind: 'message', label: 'Coupure de gaz', state: 'played', played_at: '2026-12-07T10:30:00Z', error: null },
  { index: 2, at: '0:40:00', kind: 'call', label: 'Sibelga → SITCEN', state: 'upcoming', played_at: null, error: null, call: { caller: 'Sibelga', callee: 'SITCEN', note: { fr: 'Appeler le SITCEN', nl: 'SITCEN bellen' } } },
];

let app;

function panel(status = 'running') {
  app = new FakeApp({ store: null, permissions: ['exercises:control'] });
  app.root.insertAdjacentHTML('beforeend', '<section id="panel-exercises"></section>');
  app.apiError = (error) => app.toast(String(error), 'error');
  app.api.reads['/api/exercise-scenarios'] = { scenarios: [SCENARIO], examples: ['gas-shortage'] };
  app.api.reads['/api/exercise-runs'] = { runs: [run(status, INJECTS)] };
  app.api.reads['/api/exercise-runs/r1'] = run(status, INJECTS);
  return new Exercises(app, { refreshMs: 60_000 });
}

beforeEach(() => setLanguage('fr'));
afterEach(() => {
  app?.stop();
  setLanguage('fr');
});

describe('the exercise panel', () => {
  it('reads a scenario’s texts in the reader’s language, French by default', () => {
    expect(localText({ fr: 'Pénurie', nl: 'Tekort' }, 'nl')).toBe('Tekort');
    expect(localText({ fr: 'Pénurie', nl: 'Tekort' }, 'en')).toBe('Pénurie');
  });

  it('shows the chosen run, else the live one, else the latest', () => {
    const runs = [{ id: 'a', status: 'stopped' }, { id: 'b', status: 'paused' }];
    expect(currentRun(runs, 'a').id).toBe('a');
    expect(currentRun(runs, null).id).toBe('b');
    expect(currentRun([{ id: 'c', status: 'finished' }], null).id).toBe('c');
    expect(currentRun([], null)).toBeNull();
  });

  it('follows a live run: its clock, injects, the calls to make, and pauses it', async () => {
    const p = panel();
    await p.load();
    const el = app.root.querySelector('#panel-exercises');
    expect(el.querySelector('.exercise-run').dataset.status).toBe('running');
    expect(el.textContent).toContain('T+0:31:00 à ×60');
    expect([...el.querySelectorAll('.exercise-injects li')].map((li) => li.dataset.state)).toEqual(['played', 'played', 'upcoming']);
    expect(el.querySelector('.exercise-calls').textContent).toContain('Appeler le SITCEN');
    setLanguage('nl');
    expect(el.querySelector('.exercise-calls').textContent).toContain('SITCEN bellen');
    const pause = [...el.querySelectorAll('button')].find((b) => b.textContent === 'Pauzeren');
    pause.click();
    await Promise.resolve();
    expect(app.api.requests.filter((r) => r.method === 'POST')).toEqual([
      { method: 'POST', path: '/api/exercise-runs/r1/control', body: { action: 'pause' } },
    ]);
  });

  it('starts a scenario at the chosen speed, and offers the report once a run has ended', async () => {
    const p = panel('finished');
    await p.load();
    const el = app.root.querySelector('#panel-exercises');
    expect(el.textContent).toContain('Rapport après exercice (PDF)');
    const speed = el.querySelector('.exercise-speed select');
    speed.value = '600';
    speed.dispatchEvent(new Event('change'));
    const start = [...el.querySelectorAll('.exercise-scenarios button')][0];
    expect(start.disabled).toBe(false);
    app.api.answer({ id: 'r2' });
    start.click();
    await Promise.resolve();
    expect(app.api.requests.find((r) => r.method === 'POST')).toEqual({ method: 'POST', path: '/api/exercise-scenarios/s1/runs', body: { speed: 600 } });
  });
});
