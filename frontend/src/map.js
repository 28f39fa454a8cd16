// The map: MapLibre GL JS on an offline base built from the server's reference geography, and
// the operational layers fed from the store. Source updates are batched per animation frame and
// a source gets its next batch only once the previous one is drawn, so a burst of changes costs
// one worker update per frame at most, never one per message.
import maplibregl from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import { buildLayers, GROUPS, INTERACTIVE } from './layers.js';
import { addImages } from './icons.js';
import { ENTITIES, ENUMS, MAP_ENTITIES } from './model.js';
import { boundsOf, labelPoint, mapFeatures, representativePoint } from './mapdata.js';
import { placeLabels } from './gazetteer.js';
import { ENTITY_OF, SOURCES_OF, tiledCollections, tileTwin } from './tiles.js';

const OBJECT_SOURCES = Object.values(SOURCES_OF).flat();
// Activations without geometry are drawn at their subject: a change of a subject moves them.
const SUBJECTS = new Set(['incident', 'planned_event', 'demonstration']);
export const BRUSSELS = { center: [4.3572, 50.8427], bounds: [[4.2438, 50.7637], [4.4823, 50.9139]] };
const LATENCY_RING = 4000;
// New severe incidents ringed at once; beyond this the oldest ring goes first.
const FLASH_LIMIT = 25;
const DRAW_TIMEOUT_MS = 3000;
const empty = () => ({ type: 'FeatureCollection', features: [] });
const OFFLINE_BASE = ['background', 'ref-region-fill'];
// Tiles are built up to this zoom and drawn larger beyond it.
const TILE_MAX_ZOOM = 16;
// Changed objects stay in the overlay until their tiles are read again, this long after the
// last change of a burst.
const TILE_REFRESH_MS = 500;
const TILE_RELOAD_TIMEOUT_MS = 15000;

/** A reference place as a label feature: its name in each language (the style shows
 * label_<language>), after an optional prefix (a police zone's number). */
function labelled(geometry, props, prefix = '', extra = {}) {
  const names = placeLabels(props);
  const properties = { ...extra, code: props.code, label_fr: prefix + names.fr, label_nl: prefix + names.nl, label_en: prefix + names.en };
  return { type: 'Feature', geometry, properties };
}

/** The online base map's style, its relative URLs made absolute (they are relative to it). */
async function loadBasemapStyle(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  const style = await response.json();
  const abs = (u) => (typeof u === 'string' ? new URL(u, url).href : u);
  const sources = {};
  for (const [id, source] of Object.entries(style.sources || {})) {
    sources[id] = { ...source, ...(source.url ? { url: abs(source.url) } : {}), ...(source.tiles ? { tiles: source.tiles.map(abs) } : {}) };
  }
  const sprite = Array.isArray(style.sprite) ? style.sprite.map((s) => ({ ...s, url: abs(s.url) })) : abs(style.sprite);
  return { sources, layers: style.layers || [], sprite: sprite || null };
}

export class MapView {
  constructor({ container, store, theme = 'light', language = 'fr', interactive = true, controls = true, basemapUrl = null, tileUrl = null, transformRequest = null }) {
    this.container = container;
    this.store = store;
    this.theme = theme;
    this.language = language;
    this.interactive = interactive;
    this.controls = controls;
    this.basemapUrl = basemapUrl;
    this.basemapOn = false;
    this.win = null;
    this.hideOutside = false;
    this.hidden = new Set();
    this.derived = new Map(OBJECT_SOURCES.map((s) => [s, new Map()]));
    this.dirty = new Set();
    // Per source: null = send everything again (setData); a Map = only these features changed
    // (updateData; a null value removes the feature).
    this.diffs = new Map();
    this.inflight = new Set();
    this.arrivals = new Map();
    this.raf = null;
    this.raster = null;
    this.flashes = new Map();
    this.selection = null;
    this.linked = new Set();
    this.listeners = { select: () => {}, counts: () => {}, drawn: () => {} };
    this.metrics = { latencies: [], batches: 0, firstDrawn: null };
    this.picking = null;
    // Vector tiles: the URL template of a collection's tiles (null: never tiled), the entities
    // drawn from them, and per entity the objects changed since (id → the change's stamp).
    this.tileUrl = tileUrl;
    this.transformRequest = transformRequest;
    this.tiled = new Set();
    this.overlay = new Map();
    this.refreshTimers = new Map();
    this.staleDirty = new Set();
    this.stamp = 0;
    // A replay shows the past: every collection is drawn from the store, none from the tiles.
    this.replaying = false;
  }

  on(name, fn) {
    this.listeners[name] = fn;
  }

  async init() {
    this.map = new maplibregl.Map({
      container: this.container,
      style: { version: 8, sources: {}, layers: [] },
      center: BRUSSELS.center,
      zoom: 11,
      minZoom: 8,
      maxZoom: 19,
      attributionControl: false,
      interactive: this.interactive,
      // No tile or glyph server: labels are drawn with the system's fonts.
      localIdeographFontFamily: 'sans-serif',
      cancelPendingTileRequestsWhileZooming: false,
      fadeDuration: 0,
      ...(this.transformRequest ? { transformRequest: this.transformRequest } : {}),
    });
    this.map.getCanvas().setAttribute('aria-label', 'map');
    if (this.controls) this.map.addControl(new maplibregl.NavigationControl({ visualizePitch: false }), 'top-right');
    this.map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
    this.map.addControl(new maplibregl.AttributionControl({ compact: true, customAttribution: 'Brussels UrbIS®© – Distribution & Copyright Paradigm' }));
    await new Promise((resolve) => this.map.once('load', resolve));
    this._addSources();
    addImages(this.map, ENUMS.category, ENUMS.zone_kind);
    this._addLayers();
    this.map.fitBounds(BRUSSELS.bounds, { padding: 20, duration: 0 });
    this._wire();
    this.unsubscribe = this.store.subscribe((event) => this._onStore(event));
    this._syncTiles();
    for (const entity of MAP_ENTITIES) this.rebuild(entity);
  }

  /**
   * Draw from vector tiles the collections the store says are big (once tiled, stays so), but
   * none while a replay shows the past (tiledCollections): their tiles are taken down and the
   * store's objects drawn whole, then put back when the live picture returns.
   */
  _syncTiles() {
    if (!this.map) return;
    const wanted = tiledCollections(this.store.tiled || [], { replaying: this.replaying, tiles: Boolean(this.tileUrl) });
    for (const entity of [...this.tiled]) {
      if (wanted.has(entity)) continue;
      this.tiled.delete(entity);
      this.overlay.delete(entity);
      clearTimeout(this.refreshTimers.get(entity));
      this.refreshTimers.delete(entity);
      for (const layer of buildLayers(this.theme)) {
        if (ENTITY_OF[layer.source] === entity && this.map.getLayer(`${layer.id}-tiles`)) this.map.removeLayer(`${layer.id}-tiles`);
      }
      if (this.map.getSource(`tiles-${entity}`)) this.map.removeSource(`tiles-${entity}`);
      this.rebuild(entity);
    }
    for (const entity of wanted) {
      if (this.tiled.has(entity)) continue;
      this.tiled.add(entity);
      this.overlay.set(entity, new Map());
      this.map.addSource(`tiles-${entity}`, { type: 'vector', tiles: [this.tileUrl(ENTITIES[entity].path)], minzoom: 0, maxzoom: TILE_MAX_ZOOM });
      this.rebuild(entity);
    }
    this._addTileLayers();
  }

  /** Show the past (a replay: no tiles, the store's objects whole) or the live picture again. */
  setReplay(on) {
    if (on === this.replaying) return;
    this.replaying = on;
    this._syncTiles();
  }

  /**
   * Read the tiles again at their address (tileUrl), after the picture shown changed (real or
   * exercise): the overlay of the other picture's changes is let go, the store is read again.
   */
  retile() {
    if (!this.map) return;
    for (const entity of this.tiled) {
      clearTimeout(this.refreshTimers.get(entity));
      this.overlay.set(entity, new Map());
      this.map.getSource(`tiles-${entity}`)?.setTiles([this.tileUrl(ENTITIES[entity].path)]);
      this._hideStale(entity);
      this.rebuild(entity);
    }
  }

  isTiled(entity) {
    return this.tiled.has(entity);
  }

  _twinOptions(entity) {
    return { win: this.win, hideOutside: this.hideOutside, stale: this.overlay.get(entity)?.keys() || [] };
  }

  // Each tiled entity's twins, under their GeoJSON layers (added again: theme, time window).
  _addTileLayers(only = null) {
    if (!this.tiled.size) return;
    for (const layer of buildLayers(this.theme)) {
      const entity = ENTITY_OF[layer.source];
      if (!entity || !this.tiled.has(entity) || (only && only !== entity)) continue;
      const twin = tileTwin(layer, this._twinOptions(entity));
      if (this.map.getLayer(twin.id)) this.map.removeLayer(twin.id);
      const group = layer.metadata?.group;
      const visible = !group || !this.hidden.has(group);
      this.map.addLayer({ ...twin, layout: { ...(twin.layout || {}), visibility: visible ? 'visible' : 'none' } }, layer.id);
    }
  }

  // The twins' filters follow the overlay: an object changed since its tile was read is drawn
  // from the overlay only.
  _hideStale(entity) {
    for (const layer of buildLayers(this.theme)) {
      if (ENTITY_OF[layer.source] !== entity) continue;
      const twin = tileTwin(layer, this._twinOptions(entity));
      if (this.map.getLayer(twin.id)) this.map.setFilter(twin.id, twin.filter);
    }
  }

  // Read the entity's tiles again a little after a burst of changes (the browser revalidates
  // each with its ETag: only the tiles a change met come back whole), then let go of the
  // overlay's objects that have not changed since.
  _scheduleRefresh(entity) {
    clearTimeout(this.refreshTimers.get(entity));
    this.refreshTimers.set(entity, setTimeout(() => this._refreshTiles(entity), TILE_REFRESH_MS));
  }

  async _refreshTiles(entity) {
    const source = `tiles-${entity}`;
    if (!this.map?.getSource(source)) return;
    const overlay = this.overlay.get(entity);
    const taken = new Map(overlay);
    await new Promise((resolve) => {
      const timer = setTimeout(done, TILE_RELOAD_TIMEOUT_MS);
      const map = this.map;
      function done() {
        clearTimeout(timer);
        map.off('sourcedata', check);
        resolve();
      }
      function check(e) {
        if (e.sourceId === source && map.isSourceLoaded(source)) done();
      }
      map.on('sourcedata', check);
      map.refreshTiles(source);
    });
    // Taken down meanwhile (a replay) or let go (the other picture): nothing to release.
    if (!this.map || this.overlay.get(entity) !== overlay) return;
    const released = [];
    for (const [id, stamp] of taken) {
      if (overlay.get(id) === stamp) {
        overlay.delete(id);
        released.push(id);
      }
    }
    if (!released.length) return;
    for (const source of SOURCES_OF[entity]) {
      let diff = this.diffs.get(source);
      if (diff === null) continue;
      if (!diff) this.diffs.set(source, (diff = new Map()));
      for (const id of released) diff.set(id, null);
      this._markDirty(source);
    }
    this._hideStale(entity);
  }

  _addSources() {
    const add = (id, extra = {}) => this.map.addSource(id, { type: 'geojson', data: empty(), ...extra });
    add('ref-region');
    add('ref-municipality');
    add('ref-police-zone');
    add('ref-label');
    add('ref-landmark');
    add('incident', {
      cluster: true,
      clusterRadius: 45,
      clusterMaxZoom: 14,
      clusterProperties: {
        maxsev: ['max', ['get', 'sev']],
        active: ['+', ['case', ['boolean', ['get', 'out'], false], 0, 1]],
      },
    });
    for (const id of ['incident-shape', 'planned_event', 'demonstration', 'zone', 'activation', 'flash', 'linked', 'selection']) add(id);
  }

  _addLayers() {
    const before = this.map.getStyle().layers.find((l) => l.id.startsWith('td-'))?.id;
    for (const layer of buildLayers(this.theme)) {
      if (this.map.getLayer(layer.id)) this.map.removeLayer(layer.id);
      const group = layer.metadata?.group;
      const visible = (!group || !this.hidden.has(group)) && !(this.basemapOn && OFFLINE_BASE.includes(layer.id));
      this.map.addLayer({ ...layer, layout: { ...(layer.layout || {}), visibility: visible ? 'visible' : 'none' } }, before);
    }
    this._addTileLayers();
    this._applyLanguage();
  }

  _wire() {
    const map = this.map;
    const layers = () => INTERACTIVE.flatMap((id) => [id, `${id}-tiles`]).filter((id) => map.getLayer(id));
    map.on('click', (e) => {
      if (this.picking) {
        const resolve = this.picking;
        this.picking = null;
        map.getCanvas().classList.remove('picking');
        resolve([e.lngLat.lng, e.lngLat.lat]);
        return;
      }
      if (this.drawing) return;
      const box = [[e.point.x - 4, e.point.y - 4], [e.point.x + 4, e.point.y + 4]];
      const hits = map.queryRenderedFeatures(box, { layers: layers() });
      if (!hits.length) return;
      const hit = hits[0];
      if (hit.properties.cluster === true && hit.properties.cluster_id == null) {
        // A tile's cluster: its members are in the tiles two zooms further.
        map.easeTo({ center: hit.geometry.coordinates, zoom: Math.min(map.getZoom() + 2, 18) });
        return;
      }
      if (hit.properties.cluster_id != null) {
        map.getSource('incident').getClusterExpansionZoom(hit.properties.cluster_id).then((zoom) => {
          map.easeTo({ center: hit.geometry.coordinates, zoom: Math.min(zoom + 0.5, 18) });
        });
        return;
      }
      this.listeners.select(hit.properties.entity, hit.properties.oid);
    });
    map.on('mousemove', (e) => {
      if (this.picking || this.drawing) return;
      const hits = map.queryRenderedFeatures(e.point, { layers: layers() });
      map.getCanvas().classList.toggle('pointer', hits.length > 0);
    });
  }

  _onStore(event) {
    if (event.type === 'completed') {
      if (this.selection?.entity === event.entity && this.selection.id === event.id) this.select(event.entity, event.id, { fly: false });
      return;
    }
    if (event.type === 'snapshot') {
      this._syncTiles();
      for (const entity of event.entities) if (SOURCES_OF[entity]) this.rebuild(entity);
      this.rebuild('activation');
      if (this.linked.size) this._drawLinked();
      return;
    }
    if (event.type !== 'change' || event.outcome !== 'applied' || !SOURCES_OF[event.entity]) return;
    this._update(event.entity, event.id, event.feature, event.entry?.arrivedAt);
    // Only the activations drawn at this object move with it: most changes concern none, and
    // rebuilding the activation source for each would cost a worker update and a frame.
    if (SUBJECTS.has(event.entity)) {
      for (const activation of this.store.all('activation')) {
        const p = activation.properties;
        if (!activation.geometry && p.subject_id === event.id && p.subject_entity === event.entity) {
          this._update('activation', activation.id, activation, event.entry?.arrivedAt);
        }
      }
    }
    if (this.selection && this.selection.entity === event.entity && this.selection.id === event.id) {
      this.select(event.entity, event.id, { fly: false });
    }
    if (this.linked.has(`${event.entity}:${event.id}`)) this._drawLinked();
  }

  _lookup = (entity, id) => this.store.get(entity, id);

  _update(entity, id, feature, arrivedAt) {
    const features = feature ? mapFeatures(entity, feature, this.win, this._lookup) : {};
    const overlay = this.overlay.get(entity);
    if (overlay) {
      const fresh = !overlay.has(id);
      overlay.set(id, (this.stamp += 1));
      // The twins' filters are set once per frame: each costs the worker a pass over the tiles.
      if (fresh) this.staleDirty.add(entity);
      this._scheduleRefresh(entity);
    }
    for (const source of SOURCES_OF[entity]) {
      const cache = this.derived.get(source);
      const f = features[source];
      if (f) cache.set(id, f);
      else if (!cache.delete(id)) continue;
      const diff = this.diffs.get(source);
      if (diff !== null) {
        const shown = f && !(this.hideOutside && f.properties.out) ? f : null;
        if (diff) diff.set(id, shown);
        else this.diffs.set(source, new Map([[id, shown]]));
      }
      this._markDirty(source, arrivedAt);
    }
  }

  /** Recompute every map feature of an entity (after a snapshot or a time-window change). */
  rebuild(entity) {
    for (const source of SOURCES_OF[entity] || []) this.derived.get(source).clear();
    for (const feature of this.store.all(entity)) {
      const features = mapFeatures(entity, feature, this.win, this._lookup);
      for (const [source, f] of Object.entries(features)) this.derived.get(source)?.set(feature.id, f);
    }
    for (const source of SOURCES_OF[entity] || []) {
      this.diffs.set(source, null);
      this._markDirty(source);
    }
  }

  _markDirty(source, arrivedAt) {
    this.dirty.add(source);
    if (arrivedAt != null) {
      let list = this.arrivals.get(source);
      if (!list) this.arrivals.set(source, (list = []));
      list.push(arrivedAt);
    }
    if (!this.raf) this.raf = requestAnimationFrame(() => this._flush());
  }

  _collection(source) {
    const features = [];
    const overlay = this.overlay.get(ENTITY_OF[source]);
    for (const [id, f] of this.derived.get(source)) {
      if (overlay && !overlay.has(id)) continue;
      if (this.hideOutside && f.properties.out) continue;
      // Every feature carries its object's id: later changes go to the worker as a diff.
      features.push({ ...f, id });
    }
    return { type: 'FeatureCollection', features };
  }

  _flush() {
    this.raf = null;
    if (!this.map) return;
    for (const entity of this.staleDirty) this._hideStale(entity);
    this.staleDirty.clear();
    for (const source of [...this.dirty]) {
      if (this.inflight.has(source)) continue;
      this.dirty.delete(source);
      const arrivals = this.arrivals.get(source) || [];
      this.arrivals.delete(source);
      this.inflight.add(source);
      this.metrics.batches += 1;
      const update = this._send(source);
      Promise.resolve(update)
        .then(() => this._whenDrawn(source))
        .then(() => {
          this.inflight.delete(source);
          const now = performance.now();
          for (const t of arrivals) this._record(now - t);
          if (arrivals.length) this.listeners.drawn(source, arrivals.length);
          if (this.dirty.has(source) && !this.raf) this.raf = requestAnimationFrame(() => this._flush());
        });
    }
    // Counting walks every feature: the legend asks for the counts when it repaints them.
    this.listeners.counts();
  }

  // The whole collection after a rebuild; otherwise only the changed features, so that a
  // change costs the main thread a few features, not a copy of ten thousand for the worker.
  _send(source) {
    const target = this.map.getSource(source);
    const diff = this.diffs.get(source);
    this.diffs.delete(source);
    if (!diff) return target.setData(this._collection(source), true);
    const add = [];
    const remove = [];
    for (const [id, f] of diff) {
      if (f) add.push({ ...f, id });
      else remove.push(id);
    }
    return target.updateData({ add, remove }, true);
  }

  // Resolves when the GPU has finished the first frame drawn with the source's new data: the
  // frame's commands issued with every tile of the source loaded (MapLibre's 'render'), then a
  // fence after them signalled (WebGL2), so that "drawn" means rasterised, not just queued. A
  // bound keeps a hidden tab from leaving a source waiting.
  _whenDrawn(source) {
    return new Promise((resolve) => {
      const map = this.map;
      let timer = null;
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        map.off('render', check);
        map.off('idle', check);
        clearTimeout(timer);
        resolve();
      };
      const check = () => {
        if (finished || !map.isSourceLoaded(source)) return;
        map.off('render', check);
        map.off('idle', check);
        this._whenRasterised().then(done);
      };
      timer = setTimeout(done, DRAW_TIMEOUT_MS);
      map.on('render', check);
      map.on('idle', check);
      map.triggerRepaint();
    });
  }

  // One fence for every source waiting on the same frame.
  _whenRasterised() {
    if (this.raster) return this.raster;
    const gl = this.map.painter?.context?.gl;
    if (!gl || typeof gl.fenceSync !== 'function') return Promise.resolve();
    const fence = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
    gl.flush();
    this.raster = new Promise((resolve) => {
      const poll = () => {
        const status = gl.clientWaitSync(fence, 0, 0);
        if (status === gl.TIMEOUT_EXPIRED) {
          setTimeout(poll, 2);
          return;
        }
        gl.deleteSync(fence);
        this.raster = null;
        resolve();
      };
      poll();
    });
    return this.raster;
  }

  _record(ms) {
    const ring = this.metrics.latencies;
    ring.push(ms);
    if (ring.length > LATENCY_RING) ring.splice(0, ring.length - LATENCY_RING);
  }

  /** Resolves once every source has drawn its pending data, the tiles in view included. */
  async settled() {
    for (;;) {
      const tiles = [...this.tiled].every((entity) => !this.map || this.map.isSourceLoaded(`tiles-${entity}`));
      if (!this.raf && !this.dirty.size && !this.inflight.size && tiles) return;
      await new Promise((r) => setTimeout(r, 16));
    }
  }

  /** Counts per legend group: {group: {total, shown}} (shown: inside the time window). */
  counts() {
    const out = Object.fromEntries(GROUPS.map((g) => [g, { total: 0, shown: 0 }]));
    const bump = (group, f) => {
      const c = out[group];
      if (!c) return;
      c.total += 1;
      if (!f.properties.out) c.shown += 1;
    };
    for (const f of this.derived.get('incident').values()) bump('incident', f);
    for (const f of this.derived.get('planned_event').values()) bump('planned_event', f);
    for (const f of this.derived.get('demonstration').values()) bump('demonstration', f);
    for (const f of this.derived.get('activation').values()) bump('activation', f);
    for (const f of this.derived.get('zone').values()) bump(`zone:${f.properties.kind}`, f);
    return out;
  }

  setReference(layers) {
    const labels = [];
    for (const [name, source] of [['region', 'ref-region'], ['municipality', 'ref-municipality'], ['police_zone', 'ref-police-zone']]) {
      const fc = layers[name];
      if (!fc) continue;
      this.map.getSource(source).setData(fc);
      if (name === 'region') continue;
      for (const f of fc.features) {
        const prefix = name === 'police_zone' ? `${f.properties.code} ` : '';
        labels.push(labelled({ type: 'Point', coordinates: labelPoint(f.geometry) }, f.properties, prefix, { layer: name }));
      }
    }
    this.map.getSource('ref-label').setData({ type: 'FeatureCollection', features: labels });
    const landmarks = (layers.landmark?.features || []).map((f) => labelled(f.geometry, f.properties));
    this.map.getSource('ref-landmark').setData({ type: 'FeatureCollection', features: landmarks });
  }

  setWindow(win, hideOutside) {
    this.win = win;
    this.hideOutside = hideOutside;
    for (const entity of MAP_ENTITIES) this.rebuild(entity);
    if (this.map) this._addTileLayers();
  }

  setGroupVisible(group, visible) {
    if (visible) this.hidden.delete(group);
    else this.hidden.add(group);
    for (const layer of this.map.getStyle().layers) {
      if (layer.metadata?.group === group) this.map.setLayoutProperty(layer.id, 'visibility', visible ? 'visible' : 'none');
    }
  }

  isGroupVisible(group) {
    return !this.hidden.has(group);
  }

  setTheme(theme) {
    if (theme === this.theme) return;
    this.theme = theme;
    if (this.map) this._addLayers();
  }

  setLanguage(lang) {
    this.language = lang;
    if (this.map) this._applyLanguage();
  }

  _applyLanguage() {
    for (const id of ['ref-municipality-label', 'ref-police-zone-label', 'ref-landmark-label']) {
      if (this.map.getLayer(id)) this.map.setLayoutProperty(id, 'text-field', ['get', `label_${this.language}`]);
    }
  }

  /**
   * Switch the optional online base map (SITCEN_BASEMAP_STYLE_URL) on or off. Its sources and
   * layers go under the reference lines, in place of the offline background and region fill;
   * the operational picture is not touched. Throws when the style cannot be read (no internet):
   * the offline map then stays exactly as it was. Text keeps the local fonts (no glyph server).
   */
  async setBasemap(on) {
    if (!this.basemapUrl || !this.map || on === this.basemapOn) return;
    if (!on) {
      this._removeBasemap();
      return;
    }
    this.basemapStyle ||= await loadBasemapStyle(this.basemapUrl);
    if (!this.map || this.basemapOn) return;
    const { sources, layers, sprite } = this.basemapStyle;
    for (const [id, source] of Object.entries(sources)) this.map.addSource(`bm-${id}`, source);
    for (const layer of layers) {
      const copy = { ...layer, id: `bm-${layer.id}`, metadata: { basemap: true } };
      if (layer.source) copy.source = `bm-${layer.source}`;
      this.map.addLayer(copy, 'ref-region-fill');
    }
    if (sprite) this.map.setSprite(sprite);
    this.basemapOn = true;
    this._showOfflineBase();
  }

  _removeBasemap() {
    const { sources, layers, sprite } = this.basemapStyle;
    for (const layer of layers) if (this.map.getLayer(`bm-${layer.id}`)) this.map.removeLayer(`bm-${layer.id}`);
    for (const id of Object.keys(sources)) if (this.map.getSource(`bm-${id}`)) this.map.removeSource(`bm-${id}`);
    if (sprite) this.map.setSprite(null);
    this.basemapOn = false;
    this._showOfflineBase();
  }

  // The offline background and region fill would cover the online base map.
  _showOfflineBase() {
    for (const id of OFFLINE_BASE) {
      if (!this.map.getLayer(id)) continue;
      const visible = !this.basemapOn && !this.hidden.has(this.map.getLayer(id).metadata?.group);
      this.map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
    }
  }

  flyTo(feature) {
    const g = feature?.geometry;
    if (!g) return;
    if (g.type === 'Point') {
      this.map.flyTo({ center: g.coordinates, zoom: Math.max(this.map.getZoom(), 15), speed: 1.6 });
    } else {
      const b = boundsOf(g);
      if (b) this.map.fitBounds(b, { padding: 80, maxZoom: 16, duration: 900 });
    }
  }

  /**
   * The user's own position (field use, issue 21): a marker, and the map brought to it. Kept
   * in the page only: nothing of it is sent anywhere.
   */
  showPosition(point, { label = '', fly = true } = {}) {
    if (!this.map) return;
    if (!point) {
      this.me?.remove();
      this.me = null;
      return;
    }
    if (!this.me) {
      const el = document.createElement('div');
      el.className = 'me-marker';
      el.setAttribute('role', 'img');
      this.me = new maplibregl.Marker({ element: el });
    }
    this.me.getElement().setAttribute('aria-label', label);
    this.me.setLngLat(point).addTo(this.map);
    if (fly) this.map.flyTo({ center: point, zoom: Math.max(this.map.getZoom(), 15), speed: 1.6 });
  }

  /** Outline the selected object (or clear with null). */
  select(entity, id, { fly = true } = {}) {
    this.selection = entity ? { entity, id } : null;
    let feature = entity ? this.store.get(entity, id) : null;
    if (feature && !feature.geometry && entity === 'activation') {
      const p = feature.properties;
      const subject = p.subject_id ? this.store.get(p.subject_entity, p.subject_id) : null;
      feature = subject ? { ...feature, geometry: subject.geometry } : feature;
    }
    const data = feature?.geometry ? { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: feature.geometry, properties: {} }] } : empty();
    this.map.getSource('selection').setData(data);
    if (fly && feature) this.flyTo(feature);
  }

  /**
   * Outline the objects an activation board links ([{entity, id}]; none: clear). They follow
   * the store: a linked object that moves or appears is drawn where it is.
   */
  setLinked(refs) {
    this.linked = new Set(refs.map((r) => `${r.entity}:${r.id}`));
    this._drawLinked();
  }

  _drawLinked() {
    const features = [];
    for (const key of this.linked) {
      const [entity, id] = key.split(/:(.*)/s);
      const geometry = this.store.get(entity, id)?.geometry;
      if (geometry) features.push({ type: 'Feature', geometry, properties: { entity, oid: id } });
    }
    this.map?.getSource('linked')?.setData({ type: 'FeatureCollection', features });
  }

  /** Ring a new severe incident for a while so that it catches the eye. */
  flash(feature, ms = 30000) {
    const point = representativePoint(feature?.geometry);
    if (!point) return;
    clearTimeout(this.flashes.get(feature.id)?.timer);
    const timer = setTimeout(() => {
      this.flashes.delete(feature.id);
      this._drawFlashes();
    }, ms);
    this.flashes.delete(feature.id);
    this.flashes.set(feature.id, { point, timer });
    while (this.flashes.size > FLASH_LIMIT) {
      const [oldest, flash] = this.flashes.entries().next().value;
      clearTimeout(flash.timer);
      this.flashes.delete(oldest);
    }
    this._drawFlashes();
  }

  _drawFlashes() {
    const features = [...this.flashes.values()].map((f) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: f.point }, properties: {} }));
    this.map.getSource('flash').setData({ type: 'FeatureCollection', features });
  }

  /** The next click's position on the map ([lng, lat]), or null if cancelled. */
  pick() {
    this.cancelPick();
    this.map.getCanvas().classList.add('picking');
    return new Promise((resolve) => {
      this.picking = resolve;
    });
  }

  cancelPick(value = null) {
    if (!this.picking) return;
    const resolve = this.picking;
    this.picking = null;
    this.map.getCanvas().classList.remove('picking');
    resolve(value);
  }

  destroy() {
    this.unsubscribe?.();
    cancelAnimationFrame(this.raf);
    for (const timer of this.refreshTimers.values()) clearTimeout(timer);
    for (const f of this.flashes.values()) clearTimeout(f.timer);
    this.map?.remove();
    this.map = null;
  }
}
