// How a property value reads in the UI: enum values by their label, times in Brussels time,
// areas by their name in the current language.
import { ApiError } from './api.js';
import { label, language, locale, t } from './i18n.js';
import { ENTITIES } from './model.js';
import { RULES } from './vocabulary.js';
import { formatDateTime } from './time.js';

const TIME_FIELDS = new Set([
  'occurred_at', 'reported_at', 'closed_at', 'created_at', 'updated_at', 'starts_at', 'ends_at',
  'valid_from', 'valid_to', 'valid_until', 'opened_at',
]);

/** The enum group a field's values belong to, for an entity; null for free values. */
export function enumGroup(entity, field) {
  // What the server declares first (a position's presence, role, discipline…).
  const declared = RULES[entity]?.fields?.[field]?.enum;
  if (declared) return declared;
  const spec = ENTITIES[entity] || {};
  switch (field) {
    case 'status':
      return spec.statusEnum;
    case 'kind':
    case 'category':
    case 'level':
      return spec.kindEnum;
    case 'severity':
    case 'visibility':
    case 'risk_level':
    case 'authorisation':
    case 'coordinator':
      return field;
    case 'subject_entity':
    case 'parent_entity':
    case 'entity':
      return 'entity';
    default:
      return null;
  }
}

export function areaName(area) {
  if (!area) return '';
  if (typeof area !== 'object') return String(area);
  const name = language() === 'nl' ? area.name_nl || area.name_fr : area.name_fr || area.name_nl;
  return name || area.code;
}

export function formatValue(entity, field, value) {
  if (value == null || value === '' || (Array.isArray(value) && !value.length)) return t('detail.empty_value');
  if (field === 'geometry') return value.type || '';
  const group = enumGroup(entity, field);
  if (group) return label(group, value);
  if (TIME_FIELDS.has(field) || field.endsWith('_at')) return formatDateTime(value);
  if (typeof value === 'boolean') return value ? t('detail.yes') : t('detail.no');
  if (typeof value === 'number') return new Intl.NumberFormat(locale()).format(value);
  if (field === 'municipality' || field === 'police_zone') return areaName(value);
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' ? areaName(v) : String(v))).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function fieldLabel(field) {
  return t(`fields.${field}`);
}

/** "status: Ongoing → Resolved" for one changed field (without values for long text). */
export function describeChange(entity, field, before, after) {
  const name = fieldLabel(field);
  if (field === 'description' || field === 'geometry' || field === 'municipalities' || field === 'police_zones') return name;
  const from = formatValue(entity, field, before?.properties?.[field]);
  const to = formatValue(entity, field, after?.properties?.[field]);
  return `${name}: ${t('detail.from_to', { from, to })}`;
}

/** What an operator reads about a failed request: the server's own detail, or, in their
 * language, what the server cannot say itself (its database is down, or it is unreachable). */
export function errorDetail(error) {
  if (error instanceof ApiError) return error.status === 503 ? t('alert.unavailable') : error.detail;
  // fetch() rejects with a TypeError when no answer came at all.
  if (error instanceof TypeError) return t('alert.offline');
  return String(error?.message || error);
}
