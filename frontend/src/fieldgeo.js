// Field use (issue 21): where the user stands against the picture's zones and the reference
// outlines, computed in the browser: the position never leaves it for this. Pure, no DOM.
// Distances are on a local plane around the user (an equirectangular projection at their
// latitude): within the few kilometres this is asked over, the error is far below a metre.

const EARTH_RADIUS_M = 6371008.8;
const RAD = Math.PI / 180;

/** Great-circle distance in metres between two [lon, lat] points (haversine). */
export function distanceMetres([lon1, lat1], [lon2, lat2]) {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(s)));
}

/** A projection of [lon, lat] to metres east and north of `origin`. */
function plane([lon0, lat0]) {
  const kx = Math.cos(lat0 * RAD) * RAD * EARTH_RADIUS_M;
  const ky = RAD * EARTH_RADIUS_M;
  return ([lon, lat]) => [(lon - lon0) * kx, (lat - lat0) * ky];
}

/** Distance from the origin (0, 0) to the segment a-b, on the plane. */
function toSegment([ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const len = dx * dx + dy * dy;
  const k = len === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len));
  return Math.hypot(ax + k * dx, ay + k * dy);
}

/** Whether the origin lies inside a ring (even-odd rule), on the plane. */
function inRing(ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > 0 !== yj > 0 && 0 < ((xj - xi) * (0 - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function toLine(points) {
  if (points.length === 1) return Math.hypot(...points[0]);
  let best = Infinity;
  for (let i = 1; i < points.length; i++) best = Math.min(best, toSegment(points[i - 1], points[i]));
  return best;
}

/** Polygons (as rings of projected points) and lines of a geometry. */
function parts(geometry, project) {
  const polygons = [];
  const lines = [];
  const walk = (g) => {
    if (!g) return;
    const ring = (r) => r.map(project);
    if (g.type === 'Polygon') polygons.push(g.coordinates.map(ring));
    else if (g.type === 'MultiPolygon') for (const p of g.coordinates) polygons.push(p.map(ring));
    else if (g.type === 'LineString') lines.push(ring(g.coordinates));
    else if (g.type === 'MultiLineString') for (const l of g.coordinates) lines.push(ring(l));
    else if (g.type === 'Point') lines.push([project(g.coordinates)]);
    else if (g.type === 'MultiPoint') for (const p of g.coordinates) lines.push([project(p)]);
    else if (g.type === 'GeometryCollection') for (const c of g.geometries) walk(c);
  };
  walk(geometry);
  return { polygons, lines };
}

/**
 * How `point` ([lon, lat]) stands to `geometry`: {inside, distance} with distance in metres to
 * its nearest edge (0 inside an area). Null for a geometry with no coordinates.
 */
export function relate(point, geometry) {
  const { polygons, lines } = parts(geometry, plane(point));
  if (!polygons.length && !lines.length) return null;
  let distance = Infinity;
  for (const rings of polygons) {
    // Inside the outer ring and outside every hole.
    if (inRing(rings[0]) && !rings.slice(1).some(inRing)) return { inside: true, distance: 0 };
    for (const ring of rings) distance = Math.min(distance, toLine(ring));
  }
  for (const line of lines) distance = Math.min(distance, toLine(line));
  return { inside: false, distance };
}

/**
 * The features around `point`: those containing it, then those within `radius` metres, the
 * nearest first, at most `limit`. Each as {feature, inside, distance}.
 */
export function around(point, features, { radius = 2000, limit = 20 } = {}) {
  const found = [];
  for (const feature of features) {
    const r = feature?.geometry ? relate(point, feature.geometry) : null;
    if (r && (r.inside || r.distance <= radius)) found.push({ feature, ...r });
  }
  found.sort((a, b) => a.distance - b.distance || Number(b.inside) - Number(a.inside));
  return found.slice(0, limit);
}

/** A distance as people read it on a phone: "40 m", "1.2 km" (the number in `locale`). */
export function formatDistance(metres, locale = 'fr') {
  if (metres < 100) return `${Math.round(metres)} m`;
  if (metres < 1000) return `${Math.round(metres / 10) * 10} m`;
  const km = new Intl.NumberFormat(locale, { maximumFractionDigits: metres < 10000 ? 1 : 0 }).format(metres / 1000);
  return `${km} km`;
}
