import { describe, expect, it } from 'vitest';
import { around, distanceMetres, formatDistance, relate } from '../src/fieldgeo.js';

// Around the Grand-Place: a square of about 140 m a side, and a hole in a second one.
const SQUARE = { type: 'Polygon', coordinates: [[[4.351, 50.846], [4.353, 50.846], [4.353, 50.8473], [4.351, 50.8473], [4.351, 50.846]]] };
const HOLED = {
  type: 'Polygon',
  coordinates: [
    [[4.34, 50.84], [4.36, 50.84], [4.36, 50.85], [4.34, 50.85], [4.34, 50.84]],
    [[4.349, 50.845], [4.355, 50.845], [4.355, 50.849], [4.349, 50.849], [4.349, 50.845]],
  ],
};
const feature = (id, geometry) => ({ type: 'Feature', id, geometry, properties: {} });

describe('distanceMetres', () => {
  it('gives a degree of latitude as about 111 km', () => {
    expect(distanceMetres([4.35, 50], [4.35, 51])).toBeGreaterThan(111000);
    expect(distanceMetres([4.35, 50], [4.35, 51])).toBeLessThan(111400);
  });
  it('is zero from a point to itself', () => {
    expect(distanceMetres([4.35, 50.85], [4.35, 50.85])).toBe(0);
  });
});

describe('relate', () => {
  it('finds a point inside a polygon at distance 0', () => {
    expect(relate([4.352, 50.8465], SQUARE)).toEqual({ inside: true, distance: 0 });
  });
  it('measures a point outside to the nearest edge', () => {
    // 0.001° of longitude east of the edge at 50.8465°N: about 70 m.
    const r = relate([4.354, 50.8465], SQUARE);
    expect(r.inside).toBe(false);
    expect(r.distance).toBeGreaterThan(65);
    expect(r.distance).toBeLessThan(75);
    expect(r.distance).toBeCloseTo(distanceMetres([4.354, 50.8465], [4.353, 50.8465]), 0);
  });
  it('does not count a point in a hole as inside', () => {
    const r = relate([4.352, 50.847], HOLED);
    expect(r.inside).toBe(false);
    expect(r.distance).toBeGreaterThan(100);
  });
  it('takes any part of a multipolygon', () => {
    const multi = { type: 'MultiPolygon', coordinates: [HOLED.coordinates, SQUARE.coordinates] };
    expect(relate([4.352, 50.8465], multi).inside).toBe(true);
  });
  it('measures to lines and points', () => {
    const line = { type: 'LineString', coordinates: [[4.35, 50.85], [4.36, 50.85]] };
    expect(relate([4.355, 50.851], line).distance).toBeCloseTo(distanceMetres([4.355, 50.851], [4.355, 50.85]), 0);
    const point = { type: 'Point', coordinates: [4.35, 50.85] };
    expect(relate([4.35, 50.85], point)).toEqual({ inside: false, distance: 0 });
  });
  it('answers null for a geometry with nothing in it', () => {
    expect(relate([4.35, 50.85], null)).toBeNull();
    expect(relate([4.35, 50.85], { type: 'GeometryCollection', geometries: [] })).toBeNull();
  });
});

describe('around', () => {
  const here = [4.352, 50.8465];
  const features = [
    feature('far', { type: 'Point', coordinates: [4.40, 50.90] }),
    feature('near', { type: 'Point', coordinates: [4.354, 50.8465] }),
    feature('containing', SQUARE),
    feature('hole', HOLED),
    feature('none', null),
  ];
  it('lists what contains the point first, then the nearest, within the radius', () => {
    const found = around(here, features, { radius: 500 });
    expect(found.map((f) => f.feature.id)).toEqual(['containing', 'near', 'hole']);
    expect(found[0].inside).toBe(true);
    expect(found[1].distance).toBeLessThan(found[2].distance);
  });
  it('keeps to the limit', () => {
    expect(around(here, features, { radius: 500, limit: 1 }).map((f) => f.feature.id)).toEqual(['containing']);
  });
});

describe('formatDistance', () => {
  it('gives metres below a kilometre and kilometres above, in the language', () => {
    expect(formatDistance(7.4)).toBe('7 m');
    expect(formatDistance(346)).toBe('350 m');
    expect(formatDistance(1234, 'fr')).toBe('1,2 km');
    expect(formatDistance(1234, 'en')).toBe('1.2 km');
    expect(formatDistance(12345, 'en')).toBe('12 km');
  });
});
