// Edit conflicts: the user edited version N, someone else wrote N+1 first, and the API answered
// 412 with the current Feature. Nothing is overwritten silently: these functions lay out both
// versions field by field, and build the patch that applies the user's choice on top of the
// current version (sent again with If-Match: the current version).

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function valueOf(feature, field) {
  return field === 'geometry' ? feature?.geometry ?? null : feature?.properties?.[field] ?? null;
}

/** What the user changed: the fields of `edited` that differ from `base` (the version edited). */
export function edits(base, edited) {
  const out = {};
  for (const [field, value] of Object.entries(edited)) {
    if (!same(valueOf(base, field), value)) out[field] = value;
  }
  return out;
}

/**
 * One row per field that either side changed since `base`: the value each side has, and
 * whether they clash (both changed it, to different values).
 */
export function conflictRows(base, mine, theirs) {
  const fields = new Set(Object.keys(mine));
  const skip = new Set(['version', 'updated_at', 'updated_by']);
  for (const field of Object.keys(theirs?.properties || {})) {
    if (!skip.has(field) && !same(valueOf(base, field), valueOf(theirs, field))) fields.add(field);
  }
  if (!same(base?.geometry, theirs?.geometry)) fields.add('geometry');
  return [...fields].map((field) => {
    const mineChanged = field in mine;
    const theirsChanged = !same(valueOf(base, field), valueOf(theirs, field));
    const mineValue = mineChanged ? mine[field] : valueOf(base, field);
    const theirsValue = valueOf(theirs, field);
    return {
      field,
      base: valueOf(base, field),
      mine: mineValue,
      theirs: theirsValue,
      mineChanged,
      theirsChanged,
      clash: mineChanged && theirsChanged && !same(mineValue, theirsValue),
    };
  });
}

/**
 * The patch that makes the object what the user chose, on top of `theirs`. `choice` maps a field
 * to 'mine' or 'theirs' (default: 'mine' for fields the user changed). Answers {ifMatch, patch};
 * an empty patch means the current version already is what the user wants.
 */
export function resolve(mine, theirs, choice = {}) {
  const patch = {};
  for (const [field, value] of Object.entries(mine)) {
    if ((choice[field] || 'mine') !== 'mine') continue;
    if (!same(valueOf(theirs, field), value)) patch[field] = value;
  }
  return { ifMatch: theirs.properties.version, patch };
}
