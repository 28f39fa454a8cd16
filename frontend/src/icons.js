// Map symbols drawn on a canvas at start: nothing is fetched, so the map works offline.
// Category pictograms (white, drawn over a circle coloured by severity), zone hatch patterns that
// stay distinct when printed in black and white, and point-zone markers.
import { ZONE_STYLE, EVENT_COLOUR, DEMONSTRATION_COLOUR, ACTIVATION_COLOUR } from './layers.js';

// 24×24 pictograms as SVG path data.
const PICTOGRAMS = {
  public_order: 'M12 2l8 3v6c0 5-3.5 9-8 11-4.5-2-8-6-8-11V5z',
  fire: 'M12 2c.8 3.5 5.5 6 5.5 11.5a5.5 5.5 0 0 1-11 0c0-3 1.6-4.7 2.5-6.5.7 1.3 1.2 2.6 1.2 4 1.4-2 2.3-5.4 1.8-9z',
  explosion: 'M12 1l2.2 6.3L20 4l-2.6 6 6.1 1.6-6 2.3 3.5 5.6-6-2.4L12 23l-1.9-5.9-6 2.4 3.5-5.6-6-2.3 6.1-1.6L4 4l5.8 3.3z',
  shooting_stabbing: 'M11 2h2v4.1A6 6 0 0 1 17.9 11H22v2h-4.1A6 6 0 0 1 13 17.9V22h-2v-4.1A6 6 0 0 1 6.1 13H2v-2h4.1A6 6 0 0 1 11 6.1zm1 6a4 4 0 1 0 0 8 4 4 0 0 0 0-8z',
  traffic: 'M5 11l2-5h10l2 5h1v6h-2v2h-3v-2H9v2H6v-2H4v-6zm3.2-3l-1.2 3h10l-1.2-3zM6.5 13a1.3 1.3 0 1 0 0 2.6 1.3 1.3 0 0 0 0-2.6zm11 0a1.3 1.3 0 1 0 0 2.6 1.3 1.3 0 0 0 0-2.6z',
  hazmat: 'M12 1l11 11-11 11L1 12zm-1 6v7h2V7zm0 9v2h2v-2z',
  flooding_storm: 'M12 2s6 6.5 6 11a6 6 0 0 1-12 0c0-4.5 6-11 6-11zM2 20c2 0 2-1 4-1s2 1 4 1 2-1 4-1 2 1 4 1 2-1 4-1v2c-2 0-2 1-4 1s-2-1-4-1-2 1-4 1-2-1-4-1-2 1-4 1z',
  utility_outage: 'M13 1L4 14h6l-1 9 9-13h-6z',
  suspicious_package: 'M12 2l9 4.5v11L12 22l-9-4.5v-11zm0 2.2L6 7.2l6 3 6-3zM5 8.8v7.5l6 3v-7.5zm14 0l-6 3v7.5l6-3z',
  threat: 'M10.5 3h3l-.5 12h-2zm0 15h3v3h-3z',
  health: 'M9 3h6v6h6v6h-6v6H9v-6H3V9h6z',
  transport_disruption: 'M7 2h10a3 3 0 0 1 3 3v10a3 3 0 0 1-2 2.8l2 3.2h-2.4l-1.8-3H8.2l-1.8 3H4l2-3.2A3 3 0 0 1 4 15V5a3 3 0 0 1 3-3zm-1 4v5h12V6zm2 8a1.3 1.3 0 1 0 0 2.6A1.3 1.3 0 0 0 8 14zm8 0a1.3 1.3 0 1 0 0 2.6 1.3 1.3 0 0 0 0-2.6z',
  other: 'M12 5a7 7 0 1 1 0 14 7 7 0 0 1 0-14z',
  // Planned events, demonstrations, GCC activations and point zones.
  planned_event: 'M12 2l2.9 6.9 7.1.6-5.4 4.7 1.7 7.3L12 17.6l-6.3 3.9 1.7-7.3L2 9.5l7.1-.6z',
  demonstration: 'M3 9h4l9-5v16l-9-5H6l1 5H4.5L3 15zm15 0.5h3v5h-3z',
  activation: 'M3 3h18v18H3zm3 5v8h2v-3h2v-2H8V10h3V8zm6 0v8h5v-2h-3v-1h2v-2h-2v-1h3V8z',
  assembly_point: 'M4 2h2v20H4zm3 1h13l-3 4.5 3 4.5H7z',
  first_aid_post: 'M9 3h6v6h6v6h-6v6H9v-6H3V9h6z',
  staging_area: 'M3 4h18v16H3zm3 3v10h12V7z',
  hotspot: 'M12 2a7 7 0 0 1 7 7c0 5-7 13-7 13S5 14 5 9a7 7 0 0 1 7-7zm0 4a3 3 0 1 0 0 6 3 3 0 0 0 0-6z',
  security_perimeter: 'M12 2l8 3v6c0 5-3.5 9-8 11-4.5-2-8-6-8-11V5z',
  red_zone: 'M12 2a10 10 0 1 1 0 20 10 10 0 0 1 0-20zm-6 8.5v3h12v-3z',
  drone_ban: 'M12 2a10 10 0 1 1 0 20 10 10 0 0 1 0-20zm-6.4 4.9A8 8 0 0 0 17.1 18.4zm1.3-1.5L18.4 16.9A8 8 0 0 0 6.9 5.4z',
  traffic_restriction: 'M12 2a10 10 0 1 1 0 20 10 10 0 0 1 0-20zm0 3a7 7 0 1 0 0 14 7 7 0 0 0 0-14z',
  route: 'M4 18a2 2 0 1 1 0 .1zM20 6a2 2 0 1 1 0 .1zM5 17l4-6h6l4-5',
};

const RATIO = 2;

function canvas(w, h) {
  const c = document.createElement('canvas');
  c.width = w * RATIO;
  c.height = h * RATIO;
  // Read back at once (getImageData): a CPU-side canvas avoids a slow GPU read-back per icon.
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.scale(RATIO, RATIO);
  return [c, ctx];
}

function imageOf(c) {
  const ctx = c.getContext('2d', { willReadFrequently: true });
  return { width: c.width, height: c.height, data: new Uint8Array(ctx.getImageData(0, 0, c.width, c.height).data.buffer) };
}

function pictogram(name, { size = 16, colour = '#ffffff', badge = null, outline = null } = {}) {
  const box = badge ? size + 8 : size;
  const [c, ctx] = canvas(box, box);
  if (badge) {
    ctx.fillStyle = badge;
    ctx.strokeStyle = outline || '#ffffff';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.roundRect(1, 1, box - 2, box - 2, 4);
    ctx.fill();
    ctx.stroke();
  }
  const offset = badge ? 4 : 0;
  ctx.translate(offset, offset);
  ctx.scale(size / 24, size / 24);
  const path = new Path2D(PICTOGRAMS[name] || PICTOGRAMS.other);
  ctx.fillStyle = colour;
  if (name === 'route') {
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2.5;
    ctx.stroke(path);
  } else {
    ctx.fill(path, 'evenodd');
  }
  return imageOf(c);
}

// Hatches are drawn in the kind's colour on transparency: on paper each kind keeps its own
// texture (diagonal, cross, dots, bars) even without colour.
function pattern(kind, colour) {
  const s = 12;
  const [c, ctx] = canvas(s, s);
  ctx.strokeStyle = colour;
  ctx.fillStyle = colour;
  ctx.lineWidth = 1.4;
  const line = (x0, y0, x1, y1) => {
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
  };
  switch (ZONE_STYLE[kind]?.pattern) {
    case 'diagonal':
      line(0, s, s, 0);
      line(-s / 2, s / 2, s / 2, -s / 2);
      line(s / 2, s * 1.5, s * 1.5, s / 2);
      break;
    case 'backdiagonal':
      line(0, 0, s, s);
      line(-s / 2, s / 2, s / 2, s * 1.5);
      line(s / 2, -s / 2, s * 1.5, s / 2);
      break;
    case 'cross':
      line(0, s, s, 0);
      line(0, 0, s, s);
      break;
    case 'dots':
      ctx.beginPath();
      ctx.arc(s / 4, s / 4, 1.5, 0, Math.PI * 2);
      ctx.arc((3 * s) / 4, (3 * s) / 4, 1.5, 0, Math.PI * 2);
      ctx.fill();
      break;
    case 'horizontal':
      line(0, s / 2, s, s / 2);
      break;
    case 'vertical':
      line(s / 2, 0, s / 2, s);
      break;
    case 'grid':
      line(0, s / 2, s, s / 2);
      line(s / 2, 0, s / 2, s);
      break;
    default:
      break;
  }
  return imageOf(c);
}

/** Add every symbol and pattern the layers use to a MapLibre map. */
export function addImages(map, categories, zoneKinds) {
  const add = (id, image) => {
    if (!map.hasImage(id)) map.addImage(id, image, { pixelRatio: RATIO });
  };
  for (const category of categories) add(`cat-${category}`, pictogram(category, { size: 14 }));
  add('cat-cluster', pictogram('other', { size: 4 }));
  add('sym-planned_event', pictogram('planned_event', { size: 16, badge: EVENT_COLOUR }));
  add('sym-demonstration', pictogram('demonstration', { size: 16, badge: DEMONSTRATION_COLOUR }));
  add('sym-activation', pictogram('activation', { size: 18, badge: ACTIVATION_COLOUR, outline: '#f5c400' }));
  for (const kind of zoneKinds) {
    const style = ZONE_STYLE[kind];
    add(`pat-${kind}`, pattern(kind, style.colour));
    add(`zone-${kind}`, pictogram(kind, { size: 16, badge: style.colour }));
  }
}

/** A pictogram as a data: URL, for the legend and lists (the same drawing as on the map). */
export function pictogramUrl(name, options) {
  return toUrl(pictogram(name, options));
}

function toUrl(image) {
  const c = document.createElement('canvas');
  c.width = image.width;
  c.height = image.height;
  c.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(image.data.buffer), image.width, image.height), 0, 0);
  return c.toDataURL();
}

/** A legend swatch of a zone kind: its hatch, outline colour and dash, as drawn on the map. */
export function zoneSwatchUrl(kind, theme = 'light') {
  const s = ZONE_STYLE[kind];
  const colour = theme === 'dark' && s.darkColour ? s.darkColour : s.colour;
  const [c, ctx] = canvas(28, 18);
  if (s.pattern) {
    const tile = pattern(kind, colour);
    const t = document.createElement('canvas');
    t.width = tile.width;
    t.height = tile.height;
    t.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(tile.data.buffer), tile.width, tile.height), 0, 0);
    ctx.save();
    ctx.scale(1 / RATIO, 1 / RATIO);
    ctx.fillStyle = ctx.createPattern(t, 'repeat');
    ctx.fillRect(2 * RATIO, 2 * RATIO, 24 * RATIO, 14 * RATIO);
    ctx.restore();
  }
  ctx.strokeStyle = colour;
  ctx.lineWidth = Math.min(s.width, 3);
  ctx.setLineDash((s.dash || []).map((d) => d * ctx.lineWidth));
  if (kind === 'route') {
    ctx.beginPath();
    ctx.moveTo(2, 14);
    ctx.lineTo(12, 6);
    ctx.lineTo(26, 10);
    ctx.stroke();
  } else ctx.strokeRect(2, 2, 24, 14);
  return toUrl(imageOf(c));
}

/** A legend swatch of a severity grade: colour, size and rings as on the map. */
export function severitySwatchUrl(rank, colour) {
  const [c, ctx] = canvas(30, 30);
  const r = [6, 7.5, 9, 10.5][rank];
  ctx.fillStyle = colour;
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.arc(15, 15, r, 0, Math.PI * 2);
  ctx.fill();
  ctx.stroke();
  ctx.strokeStyle = colour;
  for (let ring = 0; ring < rank - 1; ring += 1) {
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(15, 15, r + 3 + ring * 2.5, 0, Math.PI * 2);
    ctx.stroke();
  }
  return toUrl(imageOf(c));
}
