// From operational Features to the small features the map sources hold: a few properties the
// styles read (kind, severity rank, outside the time window) and, for incidents, a point that
// can be clustered. Pure functions, no MapLibre.
import { ENTITIES, SEVERITY_RANK, windowOf } from './model.js';

const HOUR = 3600 * 1000;
// "Now" is recomputed every minute: an object that starts within the minute after (a new
// incident reported a few seconds after the last tick) counts as now, not as future.
export const NOW_SLACK_MS = 60 * 1000;

/** The time window a filter mode means at `now`: {from, to} in epoch ms, or null for all times. */
export function timeWindow(mode, custom = {}, now = Date.now()) {
  switch (mode) {
    case 'now':
      return { from: now, to: now + NOW_SLACK_MS };
    case 'next24':
      return { from: now, to: now + 24 * HOUR };
    case 'custom': {
      const from = Date.parse(custom.from);
      const to = Date.parse(custom.to);
      return { from: Number.isNaN(from) ? -Infinity : from, to: Number.isNaN(to) ? Infinity : to };
    }
    default:
      return null;
  }
}

/** True when an object's validity window does not meet the time window. */
export function isOutside(entity, props, win) {
  if (!win) return false;
  const [start, end] = windowOf(entity, props);
  return end < win.from || start > win.to;
}

/** A point that stands for a geometry: the point itself, a middle vertex, or a ring's centroid. */
export function representativePoint(geometry) {
  if (!geometry) return null;
  const { type, coordinates } = geometry;
  switch (type) {
    case 'Point':
      return coordinates;
    case 'MultiPoint':
      return coordinates[0];
    case 'LineString':
      return coordinates[Math.floor(coordinates.length / 2)];
    case 'MultiLineString':
      return representativePoint({ type: 'LineString', coordinates: coordinates[0] });
    case 'Polygon': {
      const ring = coordinates[0].slice(0, -1);
      const sum = ring.reduce((acc, [x, y]) => [acc[0] + x, acc[1] + y], [0, 0]);
      return [sum[0] / ring.length, sum[1] / ring.length];
    }
    case 'MultiPolygon':
      return representativePoint({ type: 'Polygon', coordinates: coordinates[0] });
    case 'GeometryCollection':
      return representativePoint(geometry.geometries[0]);
    default:
      return null;
  }
}

export function boundsOf(geometry) {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      minX = Math.min(minX, c[0]);
      maxX = Math.max(maxX, c[0]);
      minY = Math.min(minY, c[1]);
      maxY = Math.max(maxY, c[1]);
    } else c.forEach(walk);
  };
  if (geometry?.type === 'GeometryCollection') geometry.geometries.forEach((g) => walk(g.coordinates));
  else if (geometry?.coordinates) walk(geometry.coordinates);
  return minX === Infinity ? null : [[minX, minY], [maxX, maxY]];
}

function props(entity, feature, win) {
  const p = feature.properties || {};
  const kindField = ENTITIES[entity]?.kindField;
  return {
    oid: feature.id,
    entity,
    kind: kindField ? p[kindField] : null,
    sev: p.severity != null ? SEVERITY_RANK[p.severity] ?? -1 : -1,
    out: isOutside(entity, p, win),
  };
}

/**
 * The map features of one object, by source: {source: feature}. `lookup(entity, id)` finds
 * another object (an activation without geometry is shown at its subject).
 */
export function mapFeatures(entity, feature, win, lookup = () => null) {
  const out = {};
  const p = props(entity, feature, win);
  const g = feature.geometry;
  if (entity === 'incident') {
    if (!g) return out;
    const point = representativePoint(g);
    if (point) out.incident = { type: 'Feature', geometry: { type: 'Point', coordinates: point }, properties: p };
    if (g.type !== 'Point') out['incident-shape'] = { type: 'Feature', geometry: g, properties: p };
    return out;
  }
  if (entity === 'activation') {
    let geometry = g;
    if (!geometry && feature.properties?.subject_id) {
      geometry = lookup(feature.properties.subject_entity, feature.properties.subject_id)?.geometry;
    }
    const point = representativePoint(geometry);
    if (point) out.activation = { type: 'Feature', geometry: { type: 'Point', coordinates: point }, properties: p };
    return out;
  }
  if (entity === 'logbook_entry' || !g) return out;
  out[entity] = { type: 'Feature', geometry: g, properties: p };
  return out;
}

// Every n-th vertex of a ring (and its closing one): enough to place a label, and a full-
// precision municipality outline has thousands of vertices.
function thin(ring, most = 160) {
  if (ring.length <= most) return ring;
  const step = Math.ceil(ring.length / most);
  const out = ring.filter((_, i) => i % step === 0);
  out.push(ring[ring.length - 1]);
  return out;
}

/** A point inside a polygon far from its edges (grid search): where an area's label goes. */
export function labelPoint(geometry) {
  const polygons = (geometry.type === 'MultiPolygon' ? geometry.coordinates : [geometry.coordinates]).map((poly) => poly.map((ring) => thin(ring)));
  // The largest polygon by bounding-box area holds the label.
  let best = polygons[0];
  let bestArea = -1;
  for (const poly of polygons) {
    const b = boundsOf({ type: 'Polygon', coordinates: poly });
    const area = (b[1][0] - b[0][0]) * (b[1][1] - b[0][1]);
    if (area > bestArea) [best, bestArea] = [poly, area];
  }
  const [[x0, y0], [x1, y1]] = boundsOf({ type: 'Polygon', coordinates: best });
  const n = 16;
  let bestPoint = representativePoint({ type: 'Polygon', coordinates: best });
  let bestDistance = -1;
  for (let i = 1; i < n; i += 1) {
    for (let j = 1; j < n; j += 1) {
      const p = [x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * j) / n];
      if (!inPolygon(p, best)) continue;
      const d = edgeDistance(p, best);
      if (d > bestDistance) [bestPoint, bestDistance] = [p, d];
    }
  }
  return bestPoint;
}

function inPolygon([x, y], rings) {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
      const xi = ring[i][0];
      const yi = ring[i][1];
      const xj = ring[j][0];
      const yj = ring[j][1];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

function edgeDistance([x, y], rings) {
  let best = Infinity;
  const k = Math.cos((y * Math.PI) / 180);
  for (const ring of rings) {
    for (let i = 0; i < ring.length - 1; i += 1) {
      const ax = ring[i][0];
      const ay = ring[i][1];
      const bx = ring[i + 1][0];
      const by = ring[i + 1][1];
      const dx = (bx - ax) * k;
      const dy = by - ay;
      const len = dx * dx + dy * dy;
      let t = len ? (((x - ax) * k) * dx + (y - ay) * dy) / len : 0;
      t = Math.max(0, Math.min(1, t));
      const ex = (x - ax) * k - t * dx;
      const ey = y - ay - t * dy;
      best = Math.min(best, ex * ex + ey * ey);
    }
  }
  return best;
}
