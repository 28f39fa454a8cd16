// The operational objects as the API defines them: the enum values, each kind's rules (path,
// statuses, transitions, initial statuses, geometry types, field limits and defaults) come from
// the server's declarations (vocabulary.js); this module adds what only a form needs (which
// fields it shows, with which control) and the cross-field checks of app/domain/<kind>.py, so
// that a form refuses what the API would.
import { ENUMS, RULES } from './vocabulary.js';

export { ENUMS };

export const SEVERITY_RANK = Object.fromEntries(ENUMS.severity.map((s, i) => [s, i]));

function later(startField, endField, strict) {
  return (v) => {
    const a = v[startField];
    const b = v[endField];
    if (!a || !b) return null;
    const bad = strict ? Date.parse(b) <= Date.parse(a) : Date.parse(b) < Date.parse(a);
    return bad ? { field: endField, key: strict ? 'validation.after' : 'validation.not_before', params: { other: startField } } : null;
  };
}

function together(idField, entityField) {
  return (v) => (!v[idField] !== !v[entityField] ? { field: idField, key: 'validation.together', params: { other: entityField } } : null);
}

// What each form shows, in order, and with which control; a `parent` names the property that
// holds the parent's entity. Limits, enum groups, initial statuses and defaults are the API's.
const COMMON_TAIL = [
  { name: 'description', type: 'textarea' },
  { name: 'visibility', type: 'enum' },
  { name: 'exercise', type: 'bool' },
];
const FORMS = {
  incident: [
    { name: 'title', type: 'text' },
    { name: 'category', type: 'enum' },
    { name: 'severity', type: 'enum' },
    { name: 'status', type: 'enum' },
    { name: 'place', type: 'text' },
    { name: 'occurred_at', type: 'datetime' },
    ...COMMON_TAIL,
  ],
  planned_event: [
    { name: 'title', type: 'text' },
    { name: 'kind', type: 'enum' },
    { name: 'status', type: 'enum' },
    { name: 'starts_at', type: 'datetime' },
    { name: 'ends_at', type: 'datetime' },
    { name: 'venue', type: 'text' },
    { name: 'expected_attendance', type: 'int' },
    { name: 'risk_level', type: 'enum' },
    { name: 'organiser', type: 'text' },
    ...COMMON_TAIL,
  ],
  demonstration: [
    { name: 'title', type: 'text' },
    { name: 'organiser', type: 'text' },
    { name: 'expected_participants', type: 'int' },
    { name: 'starts_at', type: 'datetime' },
    { name: 'ends_at', type: 'datetime' },
    { name: 'authorisation', type: 'enum' },
    { name: 'status', type: 'enum' },
    ...COMMON_TAIL,
  ],
  zone: [
    { name: 'title', type: 'text' },
    { name: 'kind', type: 'enum' },
    { name: 'status', type: 'enum' },
    { name: 'valid_from', type: 'datetime' },
    { name: 'valid_to', type: 'datetime' },
    { name: 'parent_id', type: 'parent', entityField: 'parent_entity' },
    ...COMMON_TAIL,
  ],
  activation: [
    { name: 'title', type: 'text' },
    { name: 'level', type: 'enum' },
    { name: 'coordinator', type: 'enum' },
    { name: 'status', type: 'enum' },
    { name: 'subject_id', type: 'parent', entityField: 'subject_entity' },
    { name: 'members', type: 'list' },
    ...COMMON_TAIL,
  ],
  logbook_entry: [
    { name: 'title', type: 'text' },
    { name: 'kind', type: 'enum' },
    { name: 'occurred_at', type: 'datetime' },
    { name: 'description', type: 'textarea' },
    { name: 'subject_id', type: 'parent', entityField: 'subject_entity' },
    { name: 'visibility', type: 'enum' },
  ],
  plan: [
    { name: 'title', type: 'text' },
    { name: 'kind', type: 'enum' },
    { name: 'discipline', type: 'enum' },
    { name: 'status', type: 'enum' },
    { name: 'subject_id', type: 'parent', entityField: 'subject_entity' },
    { name: 'review_due', type: 'datetime' },
    ...COMMON_TAIL,
  ],
};

// The cross-field checks of each kind's `check` in app/domain/<kind>.py (code, not data).
const CHECKS = {
  incident: [later('occurred_at', 'closed_at', false)],
  planned_event: [later('starts_at', 'ends_at', true)],
  demonstration: [later('starts_at', 'ends_at', true)],
  zone: [later('valid_from', 'valid_to', true), together('parent_id', 'parent_entity')],
  activation: [later('opened_at', 'closed_at', false), together('subject_id', 'subject_entity')],
  logbook_entry: [together('subject_id', 'subject_entity')],
  plan: [
    together('subject_id', 'subject_entity'),
    (v) => (v.kind === 'intervention' && !v.discipline ? { field: 'discipline', key: 'validation.required', params: {} } : null),
  ],
};

/** A form field with the API's limits for it; a field the API does not take is a bug here. */
function formField(entity, { name, type, entityField }) {
  const rules = RULES[entity];
  const limits = rules.fields[name];
  if (!limits) throw new Error(`model.js: the API takes no ${entity}.${name}`);
  const field = { name, type, required: limits.required };
  if (limits.enum) field.enum = limits.enum;
  if (limits.max_length != null) field.max = limits.max_length;
  if (type === 'int') Object.assign(field, { min: limits.min, max: limits.max });
  if (type === 'list') Object.assign(field, { max: limits.item_max_length, maxItems: limits.max_items });
  if (type === 'parent') Object.assign(field, { entityField, entities: rules.fields[entityField].values });
  if (rules.initial[name]) field.initial = rules.initial[name];
  return field;
}

export const ENTITIES = Object.fromEntries(
  Object.entries(RULES).map(([entity, rules]) => [entity, {
    path: rules.path,
    kindField: rules.kind_field,
    kindEnum: rules.kind_enum,
    statusEnum: rules.status_enum,
    window: rules.window,
    geometryTypes: rules.geometry_types, // null: any GeoJSON type
    geometryRequired: rules.geometry_required,
    geometryByKind: rules.geometry_by_kind,
    transitions: rules.transitions,
    // A kind without a form here (the crisis cell's positions, tasks…) is read and shown, not
    // created from the map's editor.
    fields: (FORMS[entity] || []).map((f) => formField(entity, f)),
    checks: CHECKS[entity] || [],
  }]),
);

// The crisis cell's kinds the activation board reads. A kind this build's vocabulary does not
// declare yet (a server older or newer than the dashboard) is still read from its collection:
// the vocabulary's path wins when it declares one.
export const CELL_PATHS = { position: 'positions', task: 'tasks', checklist: 'checklists', decision: 'decisions', document: 'documents' };

/** Every collection the picture is read from, by entity: the declared kinds and the cell's. */
export const COLLECTIONS = { ...CELL_PATHS, ...Object.fromEntries(Object.entries(ENTITIES).map(([e, spec]) => [e, spec.path])) };

/** The values a new object of `entity` starts with, as the API would fill them in. */
export function defaultsOf(entity) {
  const fields = RULES[entity].fields;
  return Object.fromEntries(Object.entries(fields).filter(([, f]) => 'default' in f).map(([name, f]) => [name, f.default]));
}

/** The kinds of `entity` an object of this geometry type may have (all when any shape goes). */
export function kindsFor(entity, geometryType) {
  const { kindEnum, geometryByKind } = ENTITIES[entity];
  return ENUMS[kindEnum].filter((k) => !geometryByKind[k] || geometryByKind[k].includes(geometryType));
}

export function zoneKindsFor(geometryType) {
  return kindsFor('zone', geometryType);
}

/** A geometry the kind (or its kind of object) does not take, as a problem; null if fine. */
function geometryProblem(entity, v) {
  const spec = ENTITIES[entity];
  const type = v._geometry_type;
  if (!type) return null;
  if (spec.geometryTypes && !spec.geometryTypes.includes(type)) {
    return { field: 'geometry', key: 'validation.geometry_type', params: { geometry: type } };
  }
  const allowed = spec.kindField ? spec.geometryByKind[v[spec.kindField]] : null;
  if (allowed && !allowed.includes(type)) {
    return { field: spec.kindField, key: 'validation.geometry_kind', params: { geometry: type } };
  }
  return null;
}

export const MAP_ENTITIES = ['incident', 'planned_event', 'demonstration', 'zone', 'activation'];

/** The statuses (or other lifecycle values) a field may take next, the present one first. */
export function allowedNext(entity, field, current) {
  const table = ENTITIES[entity].transitions[field];
  if (!table || current == null) return null;
  return [current, ...(table[current] || [])];
}

/**
 * Check form values as the API would: required fields, lengths, enum values, ranges, time order,
 * allowed transitions (against `current`, the object as it stands) and initial states.
 * Answers a list of {field, key, params}; `key` is a catalogue key.
 */
export function validate(entity, values, { current = null } = {}) {
  const spec = ENTITIES[entity];
  const problems = [];
  const creating = current == null;
  for (const f of spec.fields) {
    const v = values[f.name];
    const empty = v == null || v === '' || (Array.isArray(v) && v.length === 0);
    if (f.required && empty && (creating || f.name in values)) {
      problems.push({ field: f.name, key: 'validation.required' });
      continue;
    }
    if (empty) continue;
    if ((f.type === 'text' || f.type === 'textarea') && String(v).trim().length > f.max) {
      problems.push({ field: f.name, key: 'validation.too_long', params: { max: f.max } });
    }
    if (f.type === 'text' && f.required && String(v).trim() === '') {
      problems.push({ field: f.name, key: 'validation.required' });
    }
    if (f.type === 'enum' && !ENUMS[f.enum].includes(v)) {
      problems.push({ field: f.name, key: 'validation.choice' });
    }
    if (f.type === 'int') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < f.min || n > f.max) {
        problems.push({ field: f.name, key: 'validation.range', params: { min: f.min, max: f.max } });
      }
    }
    if (f.type === 'datetime' && Number.isNaN(Date.parse(v))) {
      problems.push({ field: f.name, key: 'validation.time' });
    }
    if (f.type === 'list') {
      if (v.length > f.maxItems) problems.push({ field: f.name, key: 'validation.too_many', params: { max: f.maxItems } });
      if (v.some((item) => !item || item.length > f.max)) problems.push({ field: f.name, key: 'validation.too_long', params: { max: f.max } });
    }
    if (creating && f.initial && !f.initial.includes(v)) {
      problems.push({ field: f.name, key: 'validation.initial', params: { allowed: f.initial } });
    }
  }
  if (!creating) {
    for (const [field, table] of Object.entries(spec.transitions)) {
      const from = current.properties[field];
      const to = values[field];
      if (to == null || to === from) continue;
      if (!(table[from] || []).includes(to)) {
        problems.push({ field, key: 'validation.transition', params: { from, allowed: table[from] || [] } });
      }
    }
  }
  const merged = creating ? values : { ...current.properties, ...values };
  for (const check of [...spec.checks, (v) => geometryProblem(entity, v)]) {
    const p = check(merged);
    if (p && !problems.some((q) => q.field === p.field)) problems.push(p);
  }
  return problems;
}

/** [start, end] of an object's validity window in epoch ms (end Infinity when open). */
export function windowOf(entity, props) {
  const [startField, endField] = ENTITIES[entity]?.window || [];
  let start = startField ? Date.parse(props[startField]) : NaN;
  if (Number.isNaN(start) && entity === 'incident') start = Date.parse(props.occurred_at);
  if (Number.isNaN(start)) start = -Infinity;
  let end = endField && props[endField] ? Date.parse(props[endField]) : Infinity;
  if (entity === 'logbook_entry') end = start;
  if (Number.isNaN(end)) end = Infinity;
  return [start, end];
}
