// The year's figures (docs/reports.md "Annual figures"): the crisis centre's annual table as
// GET /api/stats gives it, with charts per month and per municipality (Chart.js, bundled), for
// the roles that may read it (administrators, coordinators, the High Official).
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Tooltip,
} from 'chart.js';
import { h, fill, saveBlob, $ } from '../dom.js';
import { label, language, locale, onLanguage, t } from '../i18n.js';
import { onTheme } from '../theme.js';
import { formatSeconds } from './campaigns.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export const FIRST_YEAR = 2000;
// The published table's figures, in its order.
export const HEADLINE = [
  'activations',
  'activations_coordinated_by_sitcen',
  'planned_events',
  'demonstrations',
  'summits',
  'delegation_visits',
  'field_exercises',
  'incidents',
  'alerts_sent',
  'alerts_acknowledged',
  'alerts_median_seconds_to_ack',
  'alarm_tests',
  'alarm_test_answer_rate',
];
// The series drawn, each in its colour (distinct in light and dark themes, and in grey).
export const SERIES = {
  activations: '#c0392b',
  planned_events: '#2471a3',
  summits: '#7d3c98',
  delegation_visits: '#148f77',
  field_exercises: '#7f8c8d',
  demonstrations: '#d68910',
  incidents: '#34495e',
};
const BREAKDOWNS = [
  ['planned_events_by_kind', 'event_kind'],
  ['incidents_by_category', 'category'],
  ['incidents_by_severity', 'severity'],
];

/** A figure as the table shows it: a count, a rate in %, or a time to acknowledge. */
export function formatFigure(key, value, loc = locale()) {
  if (value == null) return '—';
  if (key.endsWith('_rate')) return new Intl.NumberFormat(loc, { style: 'percent', maximumFractionDigits: 1 }).format(value);
  if (key.endsWith('_seconds_to_ack')) return formatSeconds(value);
  return new Intl.NumberFormat(loc).format(value);
}

/** The twelve months' short names, in the reader's language. */
export function monthNames(year, loc = locale()) {
  const format = new Intl.DateTimeFormat(loc, { month: 'short', timeZone: 'Europe/Brussels' });
  return Array.from({ length: 12 }, (_, m) => format.format(new Date(Date.UTC(year, m, 15))));
}

/** A municipality's name in the reader's language (Dutch for nl, French otherwise). */
export function municipalityName(m, lang = language()) {
  return (lang === 'nl' ? m.name_nl : m.name_fr) || m.code;
}

/** Whether the year holds anything to chart. */
export function anything(table) {
  return Object.values(table.by_month).some((months) => months.some((n) => n > 0));
}

/** Chart.js datasets: one per series that has anything this year. */
export function datasets(valuesOf, names = Object.keys(SERIES)) {
  return names
    .map((name) => ({ name, data: valuesOf(name) }))
    .filter(({ data }) => data.some((n) => n > 0))
    .map(({ name, data }) => ({ label: t(`stats.figure.${name}`), data, backgroundColor: SERIES[name], dataKey: name }));
}

export class Stats {
  constructor(app, { now = () => new Date() } = {}) {
    this.app = app;
    this.el = $('#panel-stats', app.root);
    const thisYear = Number(new Intl.DateTimeFormat('en', { year: 'numeric', timeZone: 'Europe/Brussels' }).format(now()));
    this.lastYear = thisYear + 1;
    // The annual report is about the year gone by.
    this.year = thisYear - 1;
    this.table = null;
    this.charts = [];
    this.render();
    onLanguage(() => this.render());
    onTheme(() => this.render());
  }

  /** The tab is shown: the figures are read the first time only (a year is a closed book). */
  shown() {
    if (!this.requested) this.load();
  }

  async load(year = this.year) {
    this.requested = true;
    this.year = year;
    this.table = null;
    this.render();
    try {
      this.table = await this.app.api.get(`/api/stats?year=${year}`);
    } catch (error) {
      this.app.apiError(error);
    }
    this.render();
  }

  render() {
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
    const years = [];
    for (let y = this.lastYear; y >= FIRST_YEAR; y -= 1) years.push(y);
    const table = this.table;
    fill(
      this.el,
      h('div', { class: 'panel-head' },
        h('h2', {}, t('stats.title')),
        h('label', { for: 'stats-year' }, t('stats.year')), ' ',
        h('select', { id: 'stats-year', onchange: (e) => this.load(Number(e.target.value)) },
          years.map((y) => h('option', { value: String(y), selected: y === this.year }, String(y))))),
      h('p', { class: 'muted small' }, t('stats.rule')),
      table ? this.figures(table) : h('p', { class: 'muted' }, t('detail.loading')),
    );
    if (table) this.draw(table);
  }

  figures(table) {
    return [
      h('table', { class: 'stats-table', dataset: { year: String(table.year) } },
        h('caption', {}, t('stats.caption', { year: table.year })),
        h('tbody', {}, HEADLINE.map((key) => h('tr', { dataset: { figure: key } },
          h('th', { scope: 'row' }, t(`stats.figure.${key}`)),
          h('td', { class: 'num' }, formatFigure(key, table[key])))))),
      h('h3', {}, t('stats.by_month')),
      anything(table)
        ? h('div', { class: 'stats-chart' }, h('canvas', { id: 'stats-months', role: 'img', 'aria-label': t('stats.by_month') }))
        : h('p', { class: 'muted' }, t('stats.nothing')),
      h('h3', {}, t('stats.by_municipality')),
      table.by_municipality.length ? this.placesChart(table.by_municipality.length) : h('p', { class: 'muted' }, t('stats.nothing')),
      BREAKDOWNS.map(([key, group]) => h('details', { class: 'stats-breakdown', dataset: { breakdown: key } },
        h('summary', {}, t(`stats.figure.${key}`)),
        h('table', {}, h('tbody', {}, Object.entries(table[key]).map(([value, n]) => h('tr', {},
          h('th', { scope: 'row' }, label(group, value)),
          h('td', { class: 'num' }, formatFigure(key, n)))))))),
      h('p', { class: 'muted small' }, t('stats.set_apart', {
        exercise: Object.values(table.exercise_objects).reduce((a, b) => a + b, 0),
        cancelled: Object.values(table.cancelled).reduce((a, b) => a + b, 0),
      })),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => this.download('json') }, t('stats.download_json')),
        h('button', { type: 'button', onclick: () => this.download('csv') }, t('stats.download_csv'))),
    ];
  }

  /** The municipalities' chart: a bar per municipality, so it grows with their number. */
  placesChart(count) {
    const box = h('div', { class: 'stats-chart' },
      h('canvas', { id: 'stats-municipalities', role: 'img', 'aria-label': t('stats.by_municipality') }));
    box.style.height = `${4 + 1.6 * count}rem`;
    return box;
  }

  draw(table) {
    // A canvas not in the page (a year with nothing, a test's DOM) draws nothing.
    const months = $('#stats-months', this.el);
    const places = $('#stats-municipalities', this.el);
    const color = getComputedStyle(this.el).color;
    const options = (indexAxis) => ({
      indexAxis,
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      color,
      scales: {
        // Counts: whole numbers on the value axis.
        x: { stacked: true, ticks: { color, precision: 0 } },
        y: { stacked: true, ticks: { color, precision: 0, autoSkip: false } },
      },
      plugins: { legend: { labels: { color } } },
      locale: locale(),
    });
    if (months?.getContext?.('2d')) this.charts.push(new Chart(months, {
      type: 'bar',
      data: { labels: monthNames(table.year), datasets: datasets((name) => table.by_month[name]) },
      options: options('x'),
    }));
    if (!places?.getContext?.('2d')) return;
    const rows = [...table.by_municipality].sort((a, b) => municipalityName(a).localeCompare(municipalityName(b), locale()));
    this.charts.push(new Chart(places, {
      type: 'bar',
      data: {
        labels: rows.map((m) => municipalityName(m)),
        datasets: datasets((name) => rows.map((m) => m[name])),
      },
      options: options('y'),
    }));
  }

  async download(kind) {
    const path = `/api/stats?year=${this.year}${kind === 'csv' ? '&format=csv' : ''}`;
    try {
      saveBlob(await this.app.api.blob(path), `sitcen-figures-${this.year}.${kind}`);
    } catch (error) {
      this.app.apiError(error);
    }
  }
}
