// Dates and times are shown in Europe/Brussels, whatever the browser's zone, in the user's locale
// format. Formatters are cached: building an Intl.DateTimeFormat is costly in a busy feed.
import { locale } from './i18n.js';

export const ZONE = 'Europe/Brussels';
const cache = new Map();

function formatter(kind, loc = locale()) {
  const key = `${kind}|${loc}`;
  let f = cache.get(key);
  if (!f) {
    const options = {
      datetime: { dateStyle: 'short', timeStyle: 'short' },
      date: { dateStyle: 'medium' },
      time: { hour: '2-digit', minute: '2-digit' },
      clock: { hour: '2-digit', minute: '2-digit', second: '2-digit' },
      long: { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' },
    }[kind];
    f = new Intl.DateTimeFormat(loc, { ...options, timeZone: ZONE });
    cache.set(key, f);
  }
  return f;
}

function toDate(value) {
  if (value == null || value === '') return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatDateTime(value, loc) {
  const d = toDate(value);
  return d ? formatter('datetime', loc).format(d) : '';
}

export function formatTime(value, loc) {
  const d = toDate(value);
  return d ? formatter('time', loc).format(d) : '';
}

export function formatClock(value, loc) {
  const d = toDate(value);
  return d ? formatter('clock', loc).format(d) : '';
}

export function formatLongDate(value, loc) {
  const d = toDate(value);
  return d ? formatter('long', loc).format(d) : '';
}

const dayFormatter = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE });

/** Time of day if the moment is today in Brussels, else date and time. */
export function formatWhen(value, loc, now = new Date()) {
  const d = toDate(value);
  if (!d) return '';
  return dayFormatter.format(d) === dayFormatter.format(now) ? formatTime(d, loc) : formatDateTime(d, loc);
}

const partsFormatter = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function brusselsParts(d) {
  const parts = Object.fromEntries(partsFormatter.formatToParts(d).map((p) => [p.type, p.value]));
  return parts;
}

/** The value of an <input type="datetime-local"> showing this moment in Brussels time. */
export function toLocalInput(value) {
  const d = toDate(value);
  if (!d) return '';
  const p = brusselsParts(d);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

// Brussels' offset from UTC, in minutes, at moment d.
function offsetAt(d) {
  const p = brusselsParts(d);
  const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return Math.round((asUtc - Math.floor(d.getTime() / 1000) * 1000) / 60000);
}

/** An ISO 8601 time with the Brussels offset from a datetime-local value (read as Brussels time). */
export function fromLocalInput(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(text || '');
  if (!m) return null;
  const naive = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  // Two passes settle the offset across a daylight-saving change.
  let offset = offsetAt(new Date(naive));
  offset = offsetAt(new Date(naive - offset * 60000));
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00${sign}${hh}:${mm}`;
}
