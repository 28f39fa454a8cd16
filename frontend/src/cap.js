// The CAP fields of a composed alert (docs/alerts.md §4): the vocabulary in CAP's own spellings
// (the server's, app/alerts/enums.py, through vocabulary.js), the request body, the checks the
// API makes (app/alerts/schemas.py AlertIn), and where an API error's `loc` belongs in the form.
// Pure: the composer panel owns the DOM.
import { fromLocalInput } from './time.js';
import { ENUMS } from './vocabulary.js';

export const CAP = {
  status: ENUMS.cap_status,
  msg_type: ENUMS.cap_msg_type,
  severity: ENUMS.cap_severity,
  urgency: ENUMS.cap_urgency,
  certainty: ENUMS.cap_certainty,
  category: ENUMS.cap_category,
};
export const TEXT_LANGUAGES = ['fr', 'nl', 'en'];
export const TEXT_FIELDS = ['headline', 'description', 'instruction'];
export const LIMITS = { event: 200, headline: 300, description: 10000, instruction: 10000, area_description: 500 };

/** The picture's severity (minor..extreme) in CAP's spelling. */
export function capSeverity(severity) {
  return severity ? severity[0].toUpperCase() + severity.slice(1) : '';
}

export function emptyDraft() {
  return {
    status: 'Actual',
    msg_type: 'Alert',
    references: '',
    severity: '',
    urgency: 'Immediate',
    certainty: 'Observed',
    categories: ['Safety'],
    event: '',
    texts: Object.fromEntries(TEXT_LANGUAGES.map((l) => [l, { headline: '', description: '', instruction: '' }])),
    // kind: region | object | geometry | referenced (the area of the alert an Update refers to)
    area: { kind: 'region', object: null, geometry: null, description: '' },
    // 'all', or partner codes; an Update or Cancel with none goes to the referenced alert's partners
    organisations: [],
    expires_at: '',
  };
}

/** A draft that updates or cancels `alert`: its fields and texts, its area, its partners. */
export function draftFrom(alert, msgType) {
  const draft = emptyDraft();
  Object.assign(draft, {
    status: alert.status,
    msg_type: msgType,
    references: alert.id,
    severity: alert.severity,
    urgency: alert.urgency,
    certainty: alert.certainty,
    categories: [...(alert.categories || ['Safety'])],
    event: alert.event || '',
  });
  for (const lang of TEXT_LANGUAGES) {
    const text = alert.texts?.[lang] || {};
    draft.texts[lang] = { headline: text.headline || '', description: text.description || '', instruction: text.instruction || '' };
  }
  draft.area = alert.area
    ? { kind: 'referenced', object: null, geometry: alert.area, description: alert.area_desc || '' }
    : { kind: 'region', object: null, geometry: null, description: '' };
  return draft;
}

const trimmed = (s) => (s || '').trim();

function filledTexts(draft) {
  const texts = {};
  for (const lang of TEXT_LANGUAGES) {
    const text = draft.texts[lang] || {};
    const values = Object.fromEntries(TEXT_FIELDS.map((f) => [f, trimmed(text[f])]).filter(([, v]) => v));
    if (Object.keys(values).length) texts[lang] = values;
  }
  return texts;
}

/**
 * What the API would refuse, before sending: [{field, key, params}] with `field` a path such as
 * `event` or `texts.nl.headline`, and `key` a catalogue key.
 */
export function validateAlert(draft) {
  const problems = [];
  const need = (ok, field, key, params) => ok || problems.push({ field, key, params });
  need(CAP.status.includes(draft.status), 'status', 'validation.choice');
  need(CAP.msg_type.includes(draft.msg_type), 'msg_type', 'validation.choice');
  need(CAP.severity.includes(draft.severity), 'severity', 'validation.required');
  need(CAP.urgency.includes(draft.urgency), 'urgency', 'validation.choice');
  need(CAP.certainty.includes(draft.certainty), 'certainty', 'validation.choice');
  need(draft.categories.length > 0, 'categories', 'validation.required');
  need(trimmed(draft.event) !== '', 'event', 'validation.required');
  need(trimmed(draft.event).length <= LIMITS.event, 'event', 'validation.too_long', { max: LIMITS.event });
  if (draft.msg_type === 'Alert') {
    need(draft.organisations === 'all' || draft.organisations.length > 0, 'organisations', 'alerts.composer.need_partners');
  } else {
    need(Boolean(draft.references), 'references', 'alerts.composer.need_reference');
  }
  const texts = filledTexts(draft);
  need(Object.keys(texts).length > 0, 'texts.fr.headline', 'alerts.composer.need_text');
  for (const [lang, text] of Object.entries(texts)) {
    need(Boolean(text.headline), `texts.${lang}.headline`, 'validation.required');
    for (const f of TEXT_FIELDS) {
      need((text[f] || '').length <= LIMITS[f], `texts.${lang}.${f}`, 'validation.too_long', { max: LIMITS[f] });
    }
  }
  need(trimmed(draft.area.description).length <= LIMITS.area_description, 'area', 'validation.too_long', { max: LIMITS.area_description });
  if (draft.area.kind === 'object') need(Boolean(draft.area.object), 'area', 'alerts.composer.need_object');
  if (draft.area.kind === 'geometry') need(Boolean(draft.area.geometry), 'area', 'alerts.composer.need_drawing');
  if (draft.expires_at) need(Boolean(fromLocalInput(draft.expires_at)), 'expires_at', 'validation.time');
  return problems;
}

/** The body of POST /api/alerts. */
export function alertBody(draft) {
  const body = {
    status: draft.status,
    msg_type: draft.msg_type,
    severity: draft.severity,
    urgency: draft.urgency,
    certainty: draft.certainty,
    categories: [...draft.categories],
    event: trimmed(draft.event),
    texts: filledTexts(draft),
  };
  if (draft.msg_type !== 'Alert') body.references = draft.references;
  if (draft.organisations === 'all' || draft.organisations.length) body.organisations = draft.organisations === 'all' ? 'all' : [...draft.organisations];
  const description = trimmed(draft.area.description) || undefined;
  const area = draft.area;
  if (area.kind === 'object' && area.object) body.area = { object: { entity: area.object.entity, id: area.object.id }, description };
  else if ((area.kind === 'geometry' || area.kind === 'referenced') && area.geometry) body.area = { geometry: area.geometry, description };
  else if (description) body.area = { description };
  if (draft.expires_at) body.expires_at = fromLocalInput(draft.expires_at);
  return body;
}

/**
 * The form field a problem+json error names: its `loc` without `body`, as a path
 * (`texts.fr.headline`); the area, partners and categories each as one field. A check of the
 * whole body (loc `["body"]`) is placed by what its message speaks of, else nowhere ('').
 */
export function fieldOf(error) {
  const loc = (error.loc || []).filter((p, i) => !(i === 0 && p === 'body')).map(String);
  const head = loc[0] || '';
  if (head === 'texts') return loc.length >= 3 && TEXT_LANGUAGES.includes(loc[1]) ? `texts.${loc[1]}.${loc[2]}` : 'texts.fr.headline';
  if (['area', 'organisations', 'categories'].includes(head)) return head;
  if (head) return head;
  const msg = String(error.msg || '');
  if (/references|Update|Cancel/.test(msg)) return 'references';
  if (/organisations/.test(msg)) return 'organisations';
  if (/area/.test(msg)) return 'area';
  return '';
}
