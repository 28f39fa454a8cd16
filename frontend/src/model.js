// The operational objects as the API defines them (app/domain/*.py): enum values, the fields a
// form edits, lifecycles and the checks the API makes, so that a form refuses what the API would.
// test/model.test.js compares the enums with app/domain/enums.py.

export const ENUMS = {
  entity: ['incident', 'planned_event', 'demonstration', 'zone', 'activation', 'logbook_entry'],
  op: ['created', 'updated', 'deleted'],
  category: [
    'public_order', 'fire', 'explosion', 'shooting_stabbing', 'traffic', 'hazmat',
    'flooding_storm', 'utility_outage', 'suspicious_package', 'threat', 'health',
    'transport_disruption', 'other',
  ],
  severity: ['minor', 'moderate', 'severe', 'extreme'],
  incident_status: ['reported', 'confirmed', 'ongoing', 'resolved', 'closed', 'false_alarm'],
  visibility: ['internal', 'shared'],
  event_kind: [
    'mass_event', 'festival', 'sports_match', 'official_visit', 'papal_visit', 'summit',
    'delegation_visit', 'election', 'commemoration', 'exercise',
  ],
  risk_level: ['low', 'medium', 'high', 'very_high'],
  event_status: ['planned', 'confirmed', 'ongoing', 'ended', 'cancelled'],
  authorisation: ['requested', 'authorised', 'refused', 'tolerated'],
  zone_kind: [
    'security_perimeter', 'red_zone', 'drone_ban', 'traffic_restriction', 'route',
    'assembly_point', 'staging_area', 'first_aid_post', 'hotspot',
  ],
  zone_status: ['active', 'lifted'],
  activation_level: ['monitoring', 'pre_alert', 'coordination', 'crisis_cell'],
  coordinator: ['sitcen', 'high_official'],
  activation_status: ['open', 'closed'],
  logbook_kind: ['note', 'action', 'decision', 'communication', 'sitrep', 'handover'],
  role: ['operator', 'coordinator', 'official', 'partner', 'dispatch', 'admin'],
};

export const SEVERITY_RANK = Object.fromEntries(ENUMS.severity.map((s, i) => [s, i]));

const EVENT_TRANSITIONS = {
  planned: ['confirmed', 'ongoing', 'cancelled'],
  confirmed: ['planned', 'ongoing', 'cancelled'],
  ongoing: ['ended'],
  ended: ['ongoing'],
  cancelled: ['planned'],
};

const AREAL = ['Polygon', 'MultiPolygon'];
// Which geometries a zone of each kind takes (app/domain/zone.py GEOMETRY_BY_KIND).
export const ZONE_GEOMETRY = {
  route: ['LineString', 'MultiLineString'],
  assembly_point: [...AREAL, 'Point'],
  first_aid_post: [...AREAL, 'Point'],
  staging_area: [...AREAL, 'Point'],
  traffic_restriction: [...AREAL, 'LineString', 'MultiLineString'],
};

export function zoneKindsFor(geometryType) {
  return ENUMS.zone_kind.filter((k) => (ZONE_GEOMETRY[k] || AREAL).includes(geometryType));
}

const COMMON_TAIL = [
  { name: 'description', type: 'textarea', max: 10000 },
  { name: 'visibility', type: 'enum', enum: 'visibility' },
  { name: 'exercise', type: 'bool' },
];

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

export const ENTITIES = {
  incident: {
    path: 'incidents',
    kindField: 'category',
    kindEnum: 'category',
    statusEnum: 'incident_status',
    window: ['reported_at', 'closed_at'],
    geometry: ['Point', 'LineString', 'Polygon', 'MultiPoint', 'MultiLineString', 'MultiPolygon'],
    geometryRequired: true,
    fields: [
      { name: 'title', type: 'text', required: true, max: 200 },
      { name: 'category', type: 'enum', enum: 'category', required: true },
      { name: 'severity', type: 'enum', enum: 'severity', required: true },
      { name: 'status', type: 'enum', enum: 'incident_status', initial: ['reported', 'confirmed', 'ongoing'] },
      { name: 'place', type: 'text', max: 300 },
      { name: 'occurred_at', type: 'datetime' },
      ...COMMON_TAIL,
    ],
    transitions: {
      status: {
        reported: ['confirmed', 'ongoing', 'resolved', 'false_alarm'],
        confirmed: ['ongoing', 'resolved', 'false_alarm'],
        ongoing: ['resolved'],
        resolved: ['ongoing', 'closed'],
        false_alarm: ['confirmed', 'closed'],
        closed: [],
      },
    },
    checks: [later('occurred_at', 'closed_at', false)],
  },
  planned_event: {
    path: 'events',
    kindField: 'kind',
    kindEnum: 'event_kind',
    statusEnum: 'event_status',
    window: ['starts_at', 'ends_at'],
    geometry: ['Point', 'Polygon', 'MultiPolygon', 'LineString'],
    geometryRequired: true,
    fields: [
      { name: 'title', type: 'text', required: true, max: 200 },
      { name: 'kind', type: 'enum', enum: 'event_kind', required: true },
      { name: 'status', type: 'enum', enum: 'event_status', initial: ['planned', 'confirmed', 'ongoing'] },
      { name: 'starts_at', type: 'datetime', required: true },
      { name: 'ends_at', type: 'datetime', required: true },
      { name: 'venue', type: 'text', max: 300 },
      { name: 'expected_attendance', type: 'int', min: 0, max: 10000000 },
      { name: 'risk_level', type: 'enum', enum: 'risk_level' },
      { name: 'organiser', type: 'text', max: 300 },
      ...COMMON_TAIL,
    ],
    transitions: { status: EVENT_TRANSITIONS },
    checks: [later('starts_at', 'ends_at', true)],
  },
  demonstration: {
    path: 'demonstrations',
    kindField: null,
    statusEnum: 'event_status',
    window: ['starts_at', 'ends_at'],
    geometry: ['Point', 'Polygon', 'LineString', 'MultiLineString'],
    geometryRequired: true,
    fields: [
      { name: 'title', type: 'text', required: true, max: 200 },
      { name: 'organiser', type: 'text', max: 300 },
      { name: 'expected_participants', type: 'int', min: 0, max: 10000000 },
      { name: 'starts_at', type: 'datetime', required: true },
      { name: 'ends_at', type: 'datetime', required: true },
      { name: 'authorisation', type: 'enum', enum: 'authorisation' },
      { name: 'status', type: 'enum', enum: 'event_status', initial: ['planned', 'confirmed', 'ongoing'] },
      ...COMMON_TAIL,
    ],
    transitions: {
      status: EVENT_TRANSITIONS,
      authorisation: {
        requested: ['authorised', 'refused', 'tolerated'],
        authorised: ['refused', 'tolerated'],
        refused: ['authorised', 'tolerated'],
        tolerated: ['authorised', 'refused'],
      },
    },
    checks: [later('starts_at', 'ends_at', true)],
  },
  zone: {
    path: 'zones',
    kindField: 'kind',
    kindEnum: 'zone_kind',
    statusEnum: 'zone_status',
    window: ['valid_from', 'valid_to'],
    geometry: ['Point', 'Polygon', 'MultiPolygon', 'LineString', 'MultiLineString'],
    geometryRequired: true,
    fields: [
      { name: 'title', type: 'text', required: true, max: 200 },
      { name: 'kind', type: 'enum', enum: 'zone_kind', required: true },
      { name: 'status', type: 'enum', enum: 'zone_status' },
      { name: 'valid_from', type: 'datetime' },
      { name: 'valid_to', type: 'datetime' },
      { name: 'parent_id', type: 'parent', entities: ['planned_event', 'demonstration'], entityField: 'parent_entity' },
      ...COMMON_TAIL,
    ],
    transitions: { status: { active: ['lifted'], lifted: ['active'] } },
    checks: [
      later('valid_from', 'valid_to', true),
      together('parent_id', 'parent_entity'),
      (v) => {
        if (!v._geometry_type || !v.kind) return null;
        const allowed = ZONE_GEOMETRY[v.kind] || AREAL;
        return allowed.includes(v._geometry_type)
          ? null
          : { field: 'kind', key: 'validation.geometry_kind', params: { geometry: v._geometry_type } };
      },
    ],
  },
  activation: {
    path: 'activations',
    kindField: 'level',
    kindEnum: 'activation_level',
    statusEnum: 'activation_status',
    window: ['opened_at', 'closed_at'],
    geometry: ['Point', 'Polygon', 'MultiPolygon'],
    geometryRequired: false,
    fields: [
      { name: 'title', type: 'text', required: true, max: 200 },
      { name: 'level', type: 'enum', enum: 'activation_level', required: true },
      { name: 'coordinator', type: 'enum', enum: 'coordinator' },
      { name: 'status', type: 'enum', enum: 'activation_status', initial: ['open'] },
      { name: 'subject_id', type: 'parent', entities: ['incident', 'planned_event', 'demonstration'], entityField: 'subject_entity' },
      { name: 'members', type: 'list', max: 120, maxItems: 100 },
      ...COMMON_TAIL,
    ],
    transitions: { status: { open: ['closed'], closed: ['open'] } },
    checks: [later('opened_at', 'closed_at', false), together('subject_id', 'subject_entity')],
  },
  logbook_entry: {
    path: 'logbook',
    kindField: 'kind',
    kindEnum: 'logbook_kind',
    statusEnum: null,
    window: ['occurred_at', null],
    geometry: [],
    geometryRequired: false,
    fields: [
      { name: 'title', type: 'text', required: true, max: 200 },
      { name: 'kind', type: 'enum', enum: 'logbook_kind' },
      { name: 'occurred_at', type: 'datetime' },
      { name: 'description', type: 'textarea', max: 10000 },
      { name: 'subject_id', type: 'parent', entities: ['incident', 'planned_event', 'demonstration', 'zone', 'activation'], entityField: 'subject_entity' },
      { name: 'visibility', type: 'enum', enum: 'visibility' },
    ],
    transitions: {},
    checks: [together('subject_id', 'subject_entity')],
  },
};

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
  for (const check of spec.checks) {
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
