// Vector tiles for big collections: the twin of each GeoJSON layer that reads the server's
// tiles (/api/tiles) instead. Pure functions, no MapLibre.
export const SOURCES_OF = {
  incident: ['incident', 'incident-shape'],
  planned_event: ['planned_event'],
  demonstration: ['demonstration'],
  zone: ['zone'],
  activation: ['activation'],
};

// A big collection is drawn from vector tiles (/api/tiles): each of its GeoJSON layers gets a
// twin reading the tile layer of the same name, under it; the GeoJSON source then holds only
// the objects changed since their tiles were read (the overlay), and the twins hide those.
export const TILE_LAYER_OF = { incident: 'incident', 'incident-shape': 'incident-shape', planned_event: 'planned_event', demonstration: 'demonstration', zone: 'zone', activation: 'activation' };
export const ENTITY_OF = Object.fromEntries(Object.entries(SOURCES_OF).flatMap(([entity, sources]) => sources.map((s) => [s, entity])));
// The GeoJSON layers' "outside the time window" test, and a tile's (start and end in epoch
// seconds: the window's test is written into the style and renewed with the window).
const OUT_GEOJSON = JSON.stringify(['boolean', ['get', 'out'], false]);
const FAR = 1e12;

/** The style expression true for a tile feature outside the window `win` (null: none is). */
export function tileOutside(win) {
  if (!win) return false;
  const parts = [];
  if (Number.isFinite(win.from)) parts.push(['<', ['coalesce', ['get', 'end'], FAR], win.from / 1000]);
  if (Number.isFinite(win.to)) parts.push(['>', ['coalesce', ['get', 'start'], -FAR], win.to / 1000]);
  return parts.length ? ['any', ...parts] : false;
}

function replaceOut(value, out) {
  if (!Array.isArray(value)) {
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceOut(v, out)]));
    return value;
  }
  if (JSON.stringify(value) === OUT_GEOJSON) return out;
  return value.map((v) => replaceOut(v, out));
}

/**
 * The twin of a GeoJSON layer reading the tiles of its entity: same paint and layout (the time
 * window written in), the same filter, less the objects the overlay holds (`stale` ids).
 */
export function tileTwin(layer, { win, hideOutside, stale }) {
  const entity = ENTITY_OF[layer.source];
  const clusters = layer.source === 'incident' && JSON.stringify(layer.filter || []).includes('point_count') && !JSON.stringify(layer.filter).includes('"!"');
  const out = tileOutside(win);
  const filters = [];
  if (layer.filter) filters.push(replaceOut(layer.filter, out));
  if (!clusters) {
    filters.push(['!', ['in', ['get', 'oid'], ['literal', [...stale]]]]);
    if (hideOutside && out) filters.push(['!', out]);
  }
  const twin = {
    ...layer,
    id: `${layer.id}-tiles`,
    source: `tiles-${entity}`,
    'source-layer': clusters ? 'incident-cluster' : TILE_LAYER_OF[layer.source],
    filter: filters.length > 1 ? ['all', ...filters] : filters[0] || true,
  };
  if (layer.paint) twin.paint = replaceOut(layer.paint, out);
  if (layer.layout) twin.layout = replaceOut(layer.layout, out);
  return twin;
}

/**
 * The address of a collection's tiles for the picture shown: the real picture's (no exercise
 * object) or the exercise picture's (only them), as the lists read them (`exercise=`).
 */
export function tileAddress(origin, path, picture = 'real') {
  return `${origin}/api/tiles/${path}/{z}/{x}/{y}.mvt?exercise=${picture === 'exercise'}`;
}

/**
 * The collections the map draws from vector tiles: those the store says are big (`big`), unless
 * the map shows the past (a replay: the tiles are today's picture, so every collection is drawn
 * from the replayed store) or it has no tile address.
 */
export function tiledCollections(big, { replaying = false, tiles = true } = {}) {
  if (replaying || !tiles) return new Set();
  return new Set([...big].filter((entity) => SOURCES_OF[entity]));
}
