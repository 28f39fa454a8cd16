// Map styles. Severity is shown by colour AND by size and rings (never by red/green alone);
// zone kinds by outline colour, dash pattern and hatch texture so a B/W print tells them apart.
// Every layer names its legend group in metadata, so the legend can toggle and count it.
import { ENUMS } from './model.js';

export const SEVERITY_COLOUR = {
  minor: '#3a78c2',
  moderate: '#e0a100',
  severe: '#e0590b',
  extreme: '#9e0142',
};
export const EVENT_COLOUR = '#5e3c99';
export const DEMONSTRATION_COLOUR = '#00796b';
export const ACTIVATION_COLOUR = '#1b1b1b';

export const ZONE_STYLE = {
  security_perimeter: { colour: '#1f5fbf', dash: null, width: 3, pattern: 'diagonal' },
  red_zone: { colour: '#c1121f', dash: null, width: 4, pattern: 'cross' },
  drone_ban: { colour: '#7b3fa0', dash: [4, 2], width: 2.5, pattern: 'dots' },
  traffic_restriction: { colour: '#d9730d', dash: [2, 2], width: 3, pattern: 'horizontal' },
  route: { colour: '#222222', darkColour: '#e8e8e8', dash: [3, 1.5], width: 4, pattern: null },
  assembly_point: { colour: '#1a7f5a', dash: [1, 1], width: 2, pattern: 'grid' },
  staging_area: { colour: '#8c564b', dash: [6, 2], width: 2, pattern: 'vertical' },
  first_aid_post: { colour: '#c2185b', dash: [4, 1, 1, 1], width: 2, pattern: 'grid' },
  hotspot: { colour: '#b35900', dash: [1, 1.5], width: 2, pattern: 'backdiagonal' },
};

export const THEMES = {
  light: {
    background: '#e9edf1',
    regionFill: '#fbfcfd',
    regionLine: '#2b3a4a',
    municipalityLine: '#8a99ab',
    policeZoneLine: '#34495e',
    label: '#243447',
    halo: '#ffffff',
    highlight: '#0077cc',
    linked: '#7b2cbf',
    out: '#8c8c8c',
    stroke: '#ffffff',
    landmark: '#3d4b5c',
  },
  dark: {
    background: '#0b0f14',
    regionFill: '#151b23',
    regionLine: '#9fb3c8',
    municipalityLine: '#3f4d5e',
    policeZoneLine: '#8396ab',
    label: '#c9d4e0',
    halo: '#0b0f14',
    highlight: '#4cc2ff',
    linked: '#d29bff',
    out: '#5b6570',
    stroke: '#0b0f14',
    landmark: '#aab8c8',
  },
};

export const TEXT_FONT = ['DejaVu Sans', 'Liberation Sans', 'Arial', 'Helvetica', 'sans-serif'];

const sevColour = (fallback = '#888888') => [
  'match', ['get', 'sev'],
  0, SEVERITY_COLOUR.minor,
  1, SEVERITY_COLOUR.moderate,
  2, SEVERITY_COLOUR.severe,
  3, SEVERITY_COLOUR.extreme,
  fallback,
];

// Objects outside the time window are drawn faint (or left out of the data when hidden).
const faded = (on, off = 0.25) => ['case', ['boolean', ['get', 'out'], false], off, on];

/** The legend groups in display order. */
export const GROUPS = [
  'incident',
  'planned_event',
  'demonstration',
  ...ENUMS.zone_kind.map((k) => `zone:${k}`),
  'activation',
  'ref:municipality',
  'ref:police_zone',
  'ref:landmark',
];

const geomIs = (...types) => ['in', ['geometry-type'], ['literal', types]];

function zoneLayers(kind, theme) {
  const s = ZONE_STYLE[kind];
  const colour = theme === 'dark' && s.darkColour ? s.darkColour : s.colour;
  const group = `zone:${kind}`;
  const mine = ['==', ['get', 'kind'], kind];
  const layers = [];
  if (s.pattern) {
    layers.push({
      id: `zone-${kind}-fill`,
      type: 'fill',
      source: 'zone',
      filter: ['all', mine, geomIs('Polygon')],
      paint: { 'fill-pattern': `pat-${kind}`, 'fill-opacity': faded(0.55, 0.12) },
      metadata: { group },
    });
  }
  if (kind === 'route') {
    layers.push({
      id: 'zone-route-casing',
      type: 'line',
      source: 'zone',
      filter: ['all', mine, geomIs('LineString')],
      layout: { 'line-join': 'round', 'line-cap': 'round' },
      paint: { 'line-color': THEMES[theme].stroke, 'line-width': s.width + 3, 'line-opacity': faded(0.9, 0.2) },
      metadata: { group },
    });
  }
  layers.push({
    id: `zone-${kind}-line`,
    type: 'line',
    source: 'zone',
    filter: ['all', mine, geomIs('Polygon', 'LineString')],
    layout: { 'line-join': 'round' },
    paint: {
      'line-color': colour,
      'line-width': s.width,
      'line-opacity': faded(1, 0.35),
      ...(s.dash ? { 'line-dasharray': s.dash } : {}),
    },
    metadata: { group },
  });
  layers.push({
    id: `zone-${kind}-point`,
    type: 'symbol',
    source: 'zone',
    filter: ['all', mine, geomIs('Point')],
    layout: { 'icon-image': `zone-${kind}`, 'icon-allow-overlap': true, 'icon-size': 1 },
    paint: { 'icon-opacity': faded(1, 0.35) },
    metadata: { group },
  });
  return layers;
}

/** Every layer of the operational picture, bottom to top, for a theme ('light' | 'dark'). */
export function buildLayers(theme = 'light') {
  const c = THEMES[theme];
  const halo = { 'text-halo-color': c.halo, 'text-halo-width': 1.6, 'text-color': c.label };
  return [
    { id: 'background', type: 'background', paint: { 'background-color': c.background } },
    { id: 'ref-region-fill', type: 'fill', source: 'ref-region', paint: { 'fill-color': c.regionFill, 'fill-opacity': 0.85 }, metadata: { group: 'ref:region' } },
    { id: 'ref-municipality-line', type: 'line', source: 'ref-municipality', paint: { 'line-color': c.municipalityLine, 'line-width': 1 }, metadata: { group: 'ref:municipality' } },
    {
      id: 'ref-police-zone-line',
      type: 'line',
      source: 'ref-police-zone',
      paint: { 'line-color': c.policeZoneLine, 'line-width': 2, 'line-dasharray': [5, 2], 'line-opacity': 0.8 },
      metadata: { group: 'ref:police_zone' },
    },
    { id: 'ref-region-line', type: 'line', source: 'ref-region', paint: { 'line-color': c.regionLine, 'line-width': 2.5 }, metadata: { group: 'ref:region' } },
    ...ENUMS.zone_kind.filter((k) => k !== 'route' && k !== 'assembly_point' && k !== 'first_aid_post' && k !== 'staging_area').flatMap((k) => zoneLayers(k, theme)),
    {
      id: 'event-fill',
      type: 'fill',
      source: 'planned_event',
      filter: geomIs('Polygon'),
      paint: { 'fill-color': EVENT_COLOUR, 'fill-opacity': faded(0.12, 0.04) },
      metadata: { group: 'planned_event' },
    },
    {
      id: 'event-line',
      type: 'line',
      source: 'planned_event',
      filter: geomIs('Polygon', 'LineString'),
      paint: { 'line-color': EVENT_COLOUR, 'line-width': 2.5, 'line-dasharray': [2, 1], 'line-opacity': faded(1, 0.35) },
      metadata: { group: 'planned_event' },
    },
    {
      id: 'demonstration-fill',
      type: 'fill',
      source: 'demonstration',
      filter: geomIs('Polygon'),
      paint: { 'fill-color': DEMONSTRATION_COLOUR, 'fill-opacity': faded(0.15, 0.05) },
      metadata: { group: 'demonstration' },
    },
    {
      id: 'demonstration-route',
      type: 'line',
      source: 'demonstration',
      filter: geomIs('LineString', 'Polygon'),
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': DEMONSTRATION_COLOUR, 'line-width': 5, 'line-dasharray': [1, 0.6], 'line-opacity': faded(0.95, 0.3) },
      metadata: { group: 'demonstration' },
    },
    ...['route', 'assembly_point', 'first_aid_post', 'staging_area'].flatMap((k) => zoneLayers(k, theme)),
    {
      id: 'incident-shape-fill',
      type: 'fill',
      source: 'incident-shape',
      filter: geomIs('Polygon'),
      paint: { 'fill-color': sevColour(), 'fill-opacity': faded(0.3, 0.08) },
      metadata: { group: 'incident' },
    },
    {
      id: 'incident-shape-line',
      type: 'line',
      source: 'incident-shape',
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: {
        'line-color': sevColour(),
        'line-width': ['+', 3, ['get', 'sev']],
        'line-opacity': faded(0.95, 0.3),
      },
      metadata: { group: 'incident' },
    },
    {
      id: 'event-point',
      type: 'symbol',
      source: 'planned_event',
      filter: geomIs('Point'),
      layout: { 'icon-image': 'sym-planned_event', 'icon-allow-overlap': true },
      paint: { 'icon-opacity': faded(1, 0.35) },
      metadata: { group: 'planned_event' },
    },
    {
      id: 'demonstration-point',
      type: 'symbol',
      source: 'demonstration',
      filter: geomIs('Point'),
      layout: { 'icon-image': 'sym-demonstration', 'icon-allow-overlap': true },
      paint: { 'icon-opacity': faded(1, 0.35) },
      metadata: { group: 'demonstration' },
    },
    {
      id: 'ref-municipality-label',
      type: 'symbol',
      source: 'ref-label',
      filter: ['==', ['get', 'layer'], 'municipality'],
      minzoom: 10.5,
      layout: {
        'text-field': ['get', 'label_fr'],
        'text-font': TEXT_FONT,
        'text-size': ['interpolate', ['linear'], ['zoom'], 11, 11, 15, 15],
        'text-max-width': 9,
        'text-allow-overlap': false,
      },
      paint: { ...halo, 'text-opacity': 0.85 },
      metadata: { group: 'ref:municipality' },
    },
    {
      id: 'ref-police-zone-label',
      type: 'symbol',
      source: 'ref-label',
      filter: ['==', ['get', 'layer'], 'police_zone'],
      maxzoom: 10.5,
      layout: {
        'text-field': ['get', 'label_fr'],
        'text-font': TEXT_FONT,
        'text-size': 12,
        'text-max-width': 10,
      },
      paint: halo,
      metadata: { group: 'ref:police_zone' },
    },
    {
      id: 'ref-landmark-point',
      type: 'circle',
      source: 'ref-landmark',
      paint: { 'circle-radius': 4, 'circle-color': c.landmark, 'circle-stroke-color': c.halo, 'circle-stroke-width': 1.5 },
      metadata: { group: 'ref:landmark' },
    },
    {
      id: 'ref-landmark-label',
      type: 'symbol',
      source: 'ref-landmark',
      minzoom: 12,
      layout: {
        'text-field': ['get', 'label_fr'],
        'text-font': TEXT_FONT,
        'text-size': 11,
        'text-anchor': 'top',
        'text-offset': [0, 0.6],
        'text-max-width': 10,
        'text-optional': true,
      },
      paint: { ...halo, 'text-opacity': 0.85 },
      metadata: { group: 'ref:landmark' },
    },
    {
      id: 'activation-point',
      type: 'symbol',
      source: 'activation',
      layout: { 'icon-image': 'sym-activation', 'icon-allow-overlap': true, 'icon-offset': [0, -14] },
      paint: { 'icon-opacity': faded(1, 0.4) },
      metadata: { group: 'activation' },
    },
    {
      id: 'incident-cluster',
      type: 'circle',
      source: 'incident',
      filter: ['has', 'point_count'],
      paint: {
        'circle-color': ['case', ['==', ['get', 'active'], 0], c.out, ['match', ['get', 'maxsev'], 0, SEVERITY_COLOUR.minor, 1, SEVERITY_COLOUR.moderate, 2, SEVERITY_COLOUR.severe, SEVERITY_COLOUR.extreme]],
        'circle-radius': ['step', ['get', 'point_count'], 14, 10, 18, 100, 23, 1000, 29],
        'circle-stroke-color': c.stroke,
        'circle-stroke-width': 2,
        'circle-opacity': 0.9,
      },
      metadata: { group: 'incident' },
    },
    {
      id: 'incident-cluster-count',
      type: 'symbol',
      source: 'incident',
      filter: ['has', 'point_count'],
      layout: {
        'text-field': ['get', 'point_count_abbreviated'],
        'text-font': TEXT_FONT,
        'text-size': 13,
        'text-allow-overlap': true,
        'text-ignore-placement': true,
      },
      paint: { 'text-color': '#ffffff', 'text-halo-color': '#000000', 'text-halo-width': 1 },
      metadata: { group: 'incident' },
    },
    {
      // Severe and extreme incidents carry a ring, extreme a second one: the grade reads from
      // the shape as well as the colour.
      id: 'incident-ring',
      type: 'circle',
      source: 'incident',
      filter: ['all', ['!', ['has', 'point_count']], ['>=', ['get', 'sev'], 2]],
      paint: {
        'circle-radius': ['match', ['get', 'sev'], 3, 21, 17],
        'circle-color': 'rgba(0,0,0,0)',
        'circle-stroke-color': sevColour(),
        'circle-stroke-width': ['match', ['get', 'sev'], 3, 3, 2],
        'circle-stroke-opacity': faded(1, 0.3),
      },
      metadata: { group: 'incident' },
    },
    {
      id: 'incident-ring-outer',
      type: 'circle',
      source: 'incident',
      filter: ['all', ['!', ['has', 'point_count']], ['==', ['get', 'sev'], 3]],
      paint: {
        'circle-radius': 26,
        'circle-color': 'rgba(0,0,0,0)',
        'circle-stroke-color': SEVERITY_COLOUR.extreme,
        'circle-stroke-width': 2,
        'circle-stroke-opacity': faded(1, 0.3),
      },
      metadata: { group: 'incident' },
    },
    {
      id: 'incident-point',
      type: 'circle',
      source: 'incident',
      filter: ['!', ['has', 'point_count']],
      paint: {
        'circle-color': ['case', ['boolean', ['get', 'out'], false], c.out, sevColour()],
        'circle-radius': ['match', ['get', 'sev'], 0, 9, 1, 10.5, 2, 12, 3, 14, 9],
        'circle-stroke-color': c.stroke,
        'circle-stroke-width': 1.5,
        'circle-opacity': faded(1, 0.55),
      },
      metadata: { group: 'incident' },
    },
    {
      id: 'incident-icon',
      type: 'symbol',
      source: 'incident',
      filter: ['!', ['has', 'point_count']],
      layout: {
        'icon-image': ['concat', 'cat-', ['get', 'kind']],
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
      },
      paint: { 'icon-opacity': faded(1, 0.6) },
      metadata: { group: 'incident' },
    },
    {
      id: 'flash-ring',
      type: 'circle',
      source: 'flash',
      paint: {
        'circle-radius': 26,
        'circle-color': 'rgba(0,0,0,0)',
        'circle-stroke-color': SEVERITY_COLOUR.extreme,
        'circle-stroke-width': 4,
        'circle-stroke-opacity': 0.9,
      },
    },
    // The activation board's linked objects (its subject, its tasks' zones and subjects):
    // dashed, under the selection's outline.
    {
      id: 'linked-line',
      type: 'line',
      source: 'linked',
      filter: geomIs('Polygon', 'LineString'),
      paint: { 'line-color': c.linked, 'line-width': 4, 'line-dasharray': [2, 1.5], 'line-opacity': 0.9 },
    },
    {
      id: 'linked-point',
      type: 'circle',
      source: 'linked',
      filter: geomIs('Point'),
      paint: {
        'circle-radius': 15,
        'circle-color': 'rgba(0,0,0,0)',
        'circle-stroke-color': c.linked,
        'circle-stroke-width': 3,
      },
    },
    {
      id: 'selection-line',
      type: 'line',
      source: 'selection',
      filter: geomIs('Polygon', 'LineString'),
      paint: { 'line-color': c.highlight, 'line-width': 5, 'line-opacity': 0.8 },
    },
    {
      id: 'selection-point',
      type: 'circle',
      source: 'selection',
      filter: geomIs('Point'),
      paint: {
        'circle-radius': 19,
        'circle-color': 'rgba(0,0,0,0)',
        'circle-stroke-color': c.highlight,
        'circle-stroke-width': 4,
      },
    },
  ];
}

/** Layers whose features a click or hover opens. */
export const INTERACTIVE = [
  'incident-cluster', 'incident-point', 'incident-icon', 'incident-shape-line', 'incident-shape-fill',
  'event-point', 'event-line', 'event-fill', 'demonstration-point', 'demonstration-route', 'demonstration-fill',
  'activation-point',
  ...ENUMS.zone_kind.flatMap((k) => [`zone-${k}-point`, `zone-${k}-line`, `zone-${k}-fill`]),
];
