import { describe, expect, it } from 'vitest';
import { buildLayers } from '../src/layers.js';
import { tileOutside, tileTwin, tileAddress, tiledCollections } from '../src/tiles.js';

const layer = (id) => buildLayers('light').find((l) => l.id === id);
const text = (value) => JSON.stringify(value);

describe('tile twins', () => {
  it('read the tile layer of the same name, with the same paint, less the objects changed since', () => {
    const twin = tileTwin(layer('incident-point'), { win: null, hideOutside: false, stale: ['a', 'b'] });
    expect(twin.id).toBe('incident-point-tiles');
    expect(twin.source).toBe('tiles-incident');
    expect(twin['source-layer']).toBe('incident');
    expect(text(twin.filter)).toContain(text(['!', ['in', ['get', 'oid'], ['literal', ['a', 'b']]]]));
    expect(twin.paint['circle-radius']).toEqual(layer('incident-point').paint['circle-radius']);
    expect(twin.metadata.group).toBe('incident');
  });

  it("draw a tile's clusters from its cluster layer", () => {
    const twin = tileTwin(layer('incident-cluster'), { win: null, hideOutside: false, stale: [] });
    expect(twin['source-layer']).toBe('incident-cluster');
    expect(twin.filter).toEqual(['has', 'point_count']);
    expect(tileTwin(layer('incident-shape-line'), { win: null, hideOutside: false, stale: [] })['source-layer']).toBe('incident-shape');
    expect(tileTwin(layer('zone-red_zone-line'), { win: null, hideOutside: false, stale: [] }).source).toBe('tiles-zone');
  });

  it('fade what lies outside the time window from the tile times, as the GeoJSON layers do from `out`', () => {
    const win = { from: 1_000_000, to: 2_000_000 };
    const out = tileOutside(win);
    expect(out).toEqual(['any', ['<', ['coalesce', ['get', 'end'], 1e12], 1000], ['>', ['coalesce', ['get', 'start'], -1e12], 2000]]);
    expect(tileOutside(null)).toBe(false);
    expect(tileOutside({ from: -Infinity, to: Infinity })).toBe(false);
    const twin = tileTwin(layer('incident-point'), { win, hideOutside: true, stale: [] });
    expect(text(twin.paint)).not.toContain('"out"');
    expect(text(twin.paint)).toContain(text(out));
    expect(text(twin.filter)).toContain(text(['!', out]));
  });
});

describe('which tiles the map reads', () => {
  it("reads the tiles of the picture shown: the real picture's without exercise objects, or the exercise picture's", () => {
    expect(tileAddress('https://sitcen.test', 'incidents')).toBe('https://sitcen.test/api/tiles/incidents/{z}/{x}/{y}.mvt?exercise=false');
    expect(tileAddress('https://sitcen.test', 'incidents', 'real')).toBe('https://sitcen.test/api/tiles/incidents/{z}/{x}/{y}.mvt?exercise=false');
    expect(tileAddress('https://sitcen.test', 'zones', 'exercise')).toBe('https://sitcen.test/api/tiles/zones/{z}/{x}/{y}.mvt?exercise=true');
  });

  it('draws the big collections from tiles live, and every collection from the store in a replay', () => {
    const big = new Set(['incident', 'zone', 'position']);
    expect([...tiledCollections(big)].sort()).toEqual(['incident', 'zone']);
    expect([...tiledCollections(big, { replaying: false })].sort()).toEqual(['incident', 'zone']);
    expect(tiledCollections(big, { replaying: true }).size).toBe(0);
    expect(tiledCollections(big, { tiles: false }).size).toBe(0);
    expect(tiledCollections(new Set()).size).toBe(0);
  });
});
