// The feed's filtered view as a file: the export URL (GET /api/exports/{collection}) with the
// same filters the feed applies, read by the list API's own filters (docs/reports.md, "Exports
// and imports"). The map's time window counts when it hides what falls outside it.
import { COLLECTIONS, ENUMS, SEVERITY_RANK } from './model.js';

export const FORMATS = ['geojson', 'csv', 'kml'];

/**
 * The export of the view: {path, filename}, or null when no type is chosen (an export is of one
 * collection). `filters`: the feed's {entity, severity, municipality, police_zone, text};
 * `win`: the map's time window {from, to} in ms (or null) when it hides what is outside it.
 */
export function exportRequest(filters, format, win = null, now = new Date()) {
  const collection = COLLECTIONS[filters.entity];
  if (!collection || !FORMATS.includes(format)) return null;
  const query = new URLSearchParams({ format });
  if (filters.severity) {
    // The feed shows this severity and above.
    query.set('severity', ENUMS.severity.filter((s) => SEVERITY_RANK[s] >= SEVERITY_RANK[filters.severity]).join(','));
  }
  if (filters.municipality) query.set('municipality', filters.municipality);
  if (filters.police_zone) query.set('police_zone', filters.police_zone);
  if (filters.text && filters.text.trim()) query.set('q', filters.text.trim().slice(0, 200));
  if (win) {
    if (Number.isFinite(win.from)) query.set('start', new Date(win.from).toISOString());
    if (Number.isFinite(win.to)) query.set('end', new Date(win.to).toISOString());
  }
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '');
  return { path: `/api/exports/${collection}?${query}`, filename: `sitcen-${collection}-${stamp}Z.${format}` };
}
