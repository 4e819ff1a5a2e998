// layers.js: the Leaflet map and what it draws: the offline basemap, the
// incidents (clustered markers, or the server's vector tiles above a
// threshold), the heatmap, and the governorates with their choropleth.

import { $, el, fmt } from "./dom.js";
import { API, config, getJSON } from "./api.js";
import { state } from "./state.js";
import { filterParams, regionLabel } from "./filters.js";
import { typeStyle, typeColor, sizeFor, shapeSVG, traceShape } from "./styles.js";
import { jenksBreaks, classOf, colourOf, areaKm2 } from "./choropleth.js";
import { popup } from "./popup.js";
import { t, tType } from "./i18n.js";
import { HeatLayer } from "./heat.js";

/** view holds the map and its layers once createMap has run. */
export const view = {
  map: null, clusters: null, incidents: null, tiles: null, regions: null, heat: null, labels: null,
  mode: "", // "markers" or "tiles"
  features: [], // the incidents fetched in marker mode
  markers: new Map(), // feature id → marker, in marker mode
  onRegionClick: null, // set by main: filter to a region
};

// base holds the base layers: the offline basemap, none, online tiles.
const base = { basemap: null, plain: null, online: null };
let layerControl = null;

// addLayerControl adds the layer control, its names in the page's language.
function addLayerControl() {
  const bases = {};
  bases[t("basemap")] = base.basemap;
  bases[t("plain")] = base.plain;
  if (base.online) bases[t("onlineTiles")] = base.online;
  const overlays = {};
  overlays[t("layerIncidents")] = view.incidents;
  overlays[t("layerHeat")] = view.heat;
  overlays[t("layerRegions")] = view.regions;
  overlays[t("layerLabels")] = view.labels;
  layerControl = L.control.layers(bases, overlays, { collapsed: true, position: "topright" }).addTo(view.map);
  if (!config.tiles) {
    // The control says how to get online tiles rather than hide the option.
    const list = layerControl.getContainer().querySelector(".leaflet-control-layers-base");
    list.append(el("p", "layers-note", t.lang === "en" && config.tilesHelp ? config.tilesHelp : t("tilesOff")));
  }
}

/**
 * relabelMap writes the map's words anew in the page's language: the layer
 * control, the place names, the legend; the layers and the view stay.
 */
export function relabelMap() {
  if (!view.map) return;
  view.map.closePopup();
  // The control goes back where it was among the top right controls.
  const corner = layerControl.getContainer().parentNode, next = layerControl.getContainer().nextSibling;
  layerControl.remove();
  addLayerControl();
  if (corner && next) corner.insertBefore(layerControl.getContainer(), next);
  placeLabels();
  drawLegend();
  view.map.invalidateSize();
}

/** createMap builds the map, its panes, base layers and controls. */
export function createMap() {
  // maxZoom is set here because without tiles no layer sets it, and clustering needs it.
  const map = L.map("map", { zoomControl: true, worldCopyJump: true, minZoom: 2, maxZoom: 18, keyboard: true });
  view.map = map;
  // One setView: a second one right after creation is lost to the first's animation.
  if (state.view) map.setView([state.view.lat, state.view.lon], state.view.z, { animate: false });
  else map.setView([33.2, 43.7], 6, { animate: false });
  map.createPane("basemap").style.zIndex = "150";
  map.createPane("labels").style.zIndex = "420";
  map.getPane("labels").style.pointerEvents = "none";
  // Tiles draw above the region shading (overlayPane, 400) and below markers
  // and popups; their canvases let clicks through to the map and regions.
  map.createPane("incidentTiles").style.zIndex = "450";
  map.createPane("heat").style.zIndex = "440";
  map.getPane("heat").style.pointerEvents = "none";

  const basemap = L.layerGroup();
  view.labels = L.layerGroup();
  base.basemap = basemap;
  base.plain = L.layerGroup();
  if (config.tiles) {
    base.online = L.tileLayer(config.tiles, { attribution: config.attribution || "", maxZoom: 19 });
    base.online.addTo(map);
  } else {
    basemap.addTo(map);
  }
  view.regions = L.geoJSON(null, { style: regionStyle, onEachFeature: onEachRegion }).addTo(map);
  // Not chunkedLoading: its timers keep adding markers after the layer is
  // cleared or removed (a new filter, tile mode), which throws; at most
  // tileModeAbove markers are added at once.
  view.clusters = L.markerClusterGroup({ maxClusterRadius: 40, showCoverageOnHover: false });
  view.incidents = L.layerGroup().addTo(map);
  view.heat = new HeatLayer({ pane: "heat", points: heatPoints });
  view.labels.addTo(map);
  addLayerControl();
  L.control.scale({ imperial: false }).addTo(map);
  map.attributionControl.addAttribution(config.basemap.attribution || "Made with Natural Earth");
  if (state.heat) view.heat.addTo(map);
  map.on("overlayadd overlayremove", (e) => {
    if (e.layer === view.heat) { state.heat = e.type === "overlayadd" ? "1" : ""; map.fire("statechange"); }
  });
  map.on("click", onTileClick);
  map.on("zoomend moveend", placeLabels);
  legend.addTo(map);
  // A pointer over a cluster or dot says it can be clicked. The DOM event,
  // since region outlines keep Leaflet's mousemove for their tooltips.
  let hover = 0;
  map.getContainer().addEventListener("mousemove", (e) => {
    if (view.mode !== "tiles" || hover) return;
    hover = requestAnimationFrame(() => {
      hover = 0;
      const over = !!(view.tiles && map.hasLayer(view.tiles) && view.tiles.hit(map.mouseEventToLatLng(e)));
      map.getContainer().classList.toggle("over-incident", over);
    });
  });
  loadBasemap(basemap).catch(() => { /* the page works without a basemap */ });
  return map;
}

// ---- basemap: land, water, rivers and place names from the server ----

const BASE_STYLE = {
  sea: { pane: "basemap", stroke: false, fillColor: "#c9dcec", fillOpacity: 1, interactive: false },
  land: { pane: "basemap", stroke: false, fillColor: "#f3f0e8", fillOpacity: 1, interactive: false },
  lakes: { pane: "basemap", color: "#8fb8d8", weight: 0.6, fillColor: "#b7d3ea", fillOpacity: 1, interactive: false },
  rivers: { pane: "basemap", color: "#6fa3cf", weight: 1.4, opacity: 0.9, interactive: false },
};
let places = [];

// BEYOND is the colour of the map outside the basemap's box (app.css, .map.has-land).
const BEYOND = "#e6e3dc";
// FADE_STEPS frames over the box's outer FADE_DEGREES fade the basemap into
// BEYOND, so it ends in no hard edge at any zoom.
const FADE_STEPS = 8, FADE_DEGREES = 1.2;

async function loadBasemap(group) {
  const layers = config.basemap.layers || [];
  let box = null;
  for (const l of layers) {
    const fc = await getJSON(new URL(l.url, API + "/").href);
    if (l.id === "places") {
      places = fc.features.filter((f) => f.geometry && f.geometry.type === "Point")
        .sort((a, b) => (b.properties.pop_max || 0) - (a.properties.pop_max || 0));
      placeLabels();
      continue;
    }
    const layer = L.geoJSON(fc, { style: () => BASE_STYLE[l.id] || BASE_STYLE.rivers, interactive: false, pane: "basemap" });
    if (l.id === "land") {
      // The land is cut to a box: the sea is the box less the land, drawn
      // under it, and the map beyond the box is BEYOND, not water.
      box = layer.getBounds();
      L.rectangle(box, BASE_STYLE.sea).addTo(group);
      view.map.getContainer().classList.add("has-land");
    }
    layer.addTo(group);
  }
  if (box) fadeEdges(group, box);
}

// fadeEdges lays frames of BEYOND over the outer part of the box, frame i
// from the box's edge to i bands inwards with opacity 1/i: band m (counted
// from the edge) lies under frames m…FADE_STEPS, which cover it to
// 1 − (m−1)/m · m/(m+1) · … = 1 − (m−1)/FADE_STEPS, so the cover falls by
// an equal step a band, from full at the edge to none inside. (Bands that
// only touched, each of its own opacity, would leave a seam of half-covered
// pixels between them.)
function fadeEdges(group, box) {
  const w = FADE_DEGREES / FADE_STEPS;
  const ring = (d) => {
    const s = box.getSouth() + d, n = box.getNorth() - d, we = box.getWest() + d, e = box.getEast() - d;
    return [[s, we], [n, we], [n, e], [s, e]];
  };
  // The frames begin a band outside the box, where they cover only BEYOND:
  // the box's edge pixels, partly land or sea, are covered in full.
  for (let i = 1; i <= FADE_STEPS; i++) {
    L.polygon([ring(-w), ring(i * w)], {
      pane: "basemap", stroke: false, fillColor: BEYOND, fillOpacity: 1 / i, interactive: false,
    }).addTo(group);
  }
}

/**
 * placeLabels shows the names of the places whose Natural Earth min_zoom
 * the map has reached, biggest first, leaving out any that would overlap
 * one already placed: the density follows the zoom.
 */
export function placeLabels() {
  const map = view.map;
  if (!map || !places.length) return;
  view.labels.clearLayers();
  const z = map.getZoom(), bounds = map.getBounds().pad(0.1), taken = [];
  for (const f of places) {
    const p = f.properties;
    if ((p.min_zoom ?? 10) > z + 1.5) continue;
    const [lon, lat] = f.geometry.coordinates;
    if (!bounds.contains([lat, lon])) continue;
    const name = (t.lang === "ar" && p.name_ar) || p.name_en || p.name;
    if (!name) continue;
    const pt = map.latLngToContainerPoint([lat, lon]);
    const w = name.length * 6.5 + 10, box = [pt.x - 4, pt.y - 8, pt.x + w, pt.y + 8];
    if (taken.some((b) => b[0] < box[2] && box[0] < b[2] && b[1] < box[3] && box[1] < b[3])) continue;
    taken.push(box);
    const cls = p.pop_max >= 1e6 ? "place big" : "place";
    L.marker([lat, lon], {
      pane: "labels", interactive: false, keyboard: false,
      icon: L.divIcon({ className: cls, html: labelOf(name, p), iconSize: null }),
    }).addTo(view.labels);
  }
}
function labelOf(name, p) {
  const span = el("span", "", name);
  if (t.lang !== "ar" && p.name_ar) span.title = p.name_ar;
  span.lang = t.lang === "ar" && p.name_ar ? "ar" : "en";
  return span;
}

// ---- incidents: markers or tiles ----

/** setMode puts the marker clusters or the tile layer in the Incidents layer. */
export function setMode(m) {
  if (m === view.mode) return;
  view.mode = m;
  document.body.dataset.mode = m;
  if (m === "tiles") {
    view.features = [];
    view.markers.clear();
    view.clusters.clearLayers();
    view.incidents.removeLayer(view.clusters);
    view.incidents.addLayer(view.tiles);
  } else {
    if (view.tiles) view.incidents.removeLayer(view.tiles);
    view.incidents.addLayer(view.clusters);
    $("count").removeAttribute("title");
  }
}

/** marker is the map marker of an incident: its type's shape and colour, sized by toll. */
export function marker(f) {
  const p = f.properties;
  const [cls, shape] = typeStyle(p.event_type);
  const s = sizeFor(p.fatalities);
  const m = L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
    icon: L.divIcon({ className: `inc t-${cls} shape-${shape} id-${f.id}`, iconSize: [s, s], html: shapeSVG(shape, s) }),
    title: `${p.event_date} · ${tType(p.event_type)} · ${p.location || p.admin1 || ""}`,
    alt: `${tType(p.event_type)}, ${p.event_date}`,
    keyboard: true,
  });
  m.fatalities = p.fatalities;
  m.bindPopup(() => popup(f), { maxWidth: 320 });
  return m;
}

/** drawMarkers shows features as clustered markers. */
export function drawMarkers(features) {
  view.features = features;
  view.markers.clear();
  view.clusters.clearLayers();
  const ms = features.map((f) => { const m = marker(f); view.markers.set(String(f.id), m); return m; });
  view.clusters.addLayers(ms);
  if (view.heat._map) view.heat.redraw();
}

/** showTiles points the tile layer at params and resolves when the tiles in view are drawn. */
export async function showTiles(params, signal) {
  if (!view.tiles) {
    const tiles = new window.IncidentTiles({
      pane: "incidentTiles",
      url: (c) => `${API}/collections/incidents/tiles/WebMercatorQuad/${c.z}/${c.x}/${c.y}?${tiles.query}`,
      colorOf: typeColor,
      shapeOf: (ty) => typeStyle(ty)[1],
      trace: traceShape,
    });
    tiles.on("tileload tileerror load", tileStats);
    tiles.on("load", () => { if (view.heat._map) view.heat.redraw(); });
    view.tiles = tiles;
    window.incidentmap.tiles = tiles;
  }
  const tiles = view.tiles;
  tiles.query = params.toString();
  // New filters or new data: every tile again, each repainted in place.
  const refreshed = view.mode === "tiles" ? tiles.refresh() : null;
  setMode("tiles"); // when new, adding the layer loads its tiles with the query
  const superseded = new Promise((_, reject) => signal.addEventListener("abort",
    () => reject(new DOMException("superseded", "AbortError")), { once: true }));
  superseded.catch(() => {}); // raced below; unraced, it must not count as unhandled
  if (refreshed) await Promise.race([refreshed, superseded]);
  if (tiles.isLoading()) await Promise.race([new Promise((resolve) => tiles.once("load", resolve)), superseded]);
  tileStats();
}

// tileStats exposes what the tile layer holds (the page's tests read it).
function tileStats() {
  if (!view.tiles) return;
  const s = view.tiles.stats();
  const box = view.map.getContainer().dataset;
  box.tileRequests = String(s.requests);
  box.tileIncidents = String(s.incidents);
  box.tileMarks = String(s.marks);
  box.tilesLoaded = String(s.tiles);
  box.tileZoom = String(s.zoom);
}

/** openIncident opens the popup of incident id (fetched when f is not given). */
export async function openIncident(id, f) {
  const m = view.markers.get(String(id));
  if (m && view.map.hasLayer(view.clusters)) {
    view.clusters.zoomToShowLayer(m, () => m.openPopup());
    return;
  }
  if (!f) f = await getJSON(`${API}/collections/incidents/items/${encodeURIComponent(id)}`);
  const c = f.geometry && f.geometry.coordinates;
  if (!Array.isArray(c)) return;
  L.popup({ maxWidth: 320, autoPanPadding: [30, 30] }).setLatLng(L.latLng(c[1], c[0])).setContent(popup(f)).openOn(view.map);
}

// onTileClick handles a click on the tile layer's marks: a cluster zooms in
// on itself, a single incident opens its popup. It reports whether the click
// hit one, so region outlines underneath leave it alone. A click on a region
// reaches the region first and then the map: it is handled once.
let lastClick = null;
function onTileClick(e) {
  const map = view.map, tiles = view.tiles;
  if (view.mode !== "tiles" || !tiles || !map.hasLayer(tiles)) return false;
  if (e.originalEvent && e.originalEvent === lastClick) return true;
  const hit = tiles.hit(e.latlng);
  if (!hit) return false;
  lastClick = e.originalEvent;
  const m = hit.mark;
  if (m.kind === "cluster") {
    if (map.getZoom() < map.getMaxZoom()) {
      map.setView(hit.latlng, Math.min(map.getZoom() + 2, map.getMaxZoom()));
    } else {
      L.popup().setLatLng(hit.latlng).setContent(el("div", "popup", t("clusterHere", fmt(m.count)))).openOn(map);
    }
    return true;
  }
  openIncident(m.id).catch((err) => map.fire("pageerror", { message: err.message }));
  return true;
}

// heatPoints are the weighted points of the heatmap: the markers' incidents,
// or the tile layer's clusters (weighted by count) and dots.
function heatPoints() {
  if (view.mode === "tiles" && view.tiles) {
    return view.tiles.marksInView().map((m) => ({ latlng: m.latlng, w: m.kind === "cluster" ? m.count : 1 }));
  }
  return view.features.map((f) => ({ latlng: L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]), w: 1 }));
}

// ---- regions: outlines, choropleth with breaks from the data, click to filter ----

let breaks = [0];

/** loadRegions fetches the governorates with their counts for the time and type filters. */
export async function loadRegions(signal, hasRegions) {
  if (!hasRegions) return;
  const fc = await getJSON(`${API}/collections/regions/items?${filterParams(true)}&limit=100`, signal);
  view.regions.clearLayers();
  computeBreaks(fc);
  view.regions.addData(fc);
  restyleRegions();
}

function computeBreaks(fc) {
  if (!state.shade) { breaks = [0]; return; }
  const vals = fc.features.map(shadeValue);
  breaks = jenksBreaks(vals, 5);
}

/** restyleRegions applies the selection and the choropleth to the outlines. */
export function restyleRegions() {
  if (state.shade && view.regions.getLayers().length) {
    const fc = { features: view.regions.getLayers().map((l) => l.feature) };
    computeBreaks(fc);
  }
  view.regions.setStyle(regionStyle);
  drawLegend();
}

function regionStyle(f) {
  const selected = state.region && (f.properties.region === state.region || f.properties.name === state.region);
  const base = { color: selected ? "#b36b00" : "#6b7585", weight: selected ? 3 : 1, fillOpacity: 0 };
  if (!state.shade) return base;
  const v = shadeValue(f);
  return { ...base, fillOpacity: 0.7, fillColor: colourOf(classOf(v, breaks), breaks.length) };
}

const legend = L.control({ position: "bottomright" });
legend.onAdd = () => {
  const box = L.DomUtil.create("div", "legend-scale leaflet-bar");
  box.id = "choropleth-legend";
  box.hidden = true;
  return box;
};

// DENSITY shades are per 1,000 km² of the governorate's own area, computed
// from its outline (no population data is at hand for a per-capita shade).
const DENSITY = { incidents_km2: "incidents", fatalities_km2: "fatalities" };

// shadeValue is what the choropleth shows for a governorate.
function shadeValue(f) {
  const p = f.properties;
  const base = DENSITY[state.shade];
  if (!base) return Number(p[state.shade]) || 0;
  if (p.area_km2 === undefined) p.area_km2 = areaKm2(f.geometry);
  return p.area_km2 > 0 ? ((Number(p[base]) || 0) * 1000) / p.area_km2 : 0;
}

// shadeNumber writes a shade's value: whole counts, or densities to two significant digits.
const shadeNumber = (v) => (DENSITY[state.shade] ? Number(v.toPrecision(2)).toLocaleString("en") : fmt(v));

function drawLegend() {
  const box = $("choropleth-legend");
  if (!box) return;
  box.replaceChildren();
  box.hidden = !state.shade;
  if (!state.shade) return;
  const what = { incidents: "shadeIncidents", fatalities: "shadeFatalities", incidents_km2: "shadeIncidentsKm2", fatalities_km2: "shadeFatalitiesKm2" }[state.shade];
  box.append(el("strong", "", t("legendTitle", t(what || "shadeIncidents"))));
  const density = !!DENSITY[state.shade];
  breaks.forEach((b, i) => {
    const next = breaks[i + 1];
    // Counts are whole: a class ends one below the next; densities end where the next begins.
    const label = next === undefined ? t("orMore", shadeNumber(b))
      : density ? `${shadeNumber(b)}–${shadeNumber(next)}`
        : next - 1 <= b ? fmt(b) : `${fmt(b)}–${fmt(next - 1)}`;
    const row = el("span");
    const sw = el("i", "swatch");
    sw.style.background = colourOf(i, breaks.length);
    const text = el("bdi", "", label); // "14–101" must not turn into "101–14" right to left
    text.dir = "ltr";
    row.append(sw, next === undefined ? label : text);
    box.append(row);
  });
}

function onEachRegion(f, layer) {
  const p = f.properties;
  const tip = () => {
    const box = el("div");
    box.append(el("strong", "", regionLabel(p.name)), el("br"), t("regionTip", fmt(p.incidents), fmt(p.fatalities)));
    if (DENSITY[state.shade]) box.append(el("br"), `${shadeNumber(shadeValue(f))} ${t("perKm2")}`);
    if (p.region && p.region !== p.name) box.append(el("br"), `${regionLabel(p.region)}: ${fmt(p.region_incidents)}`);
    return box;
  };
  layer.bindTooltip(tip, { sticky: true });
  layer.on("click", (e) => {
    if (onTileClick(e)) return; // a cluster or dot drawn over the region
    if (view.onRegionClick) view.onRegionClick(p.region);
  });
  // Keyboard: each governorate is focusable and shows its counts on focus.
  layer.on("add", () => {
    const path = layer.getElement && layer.getElement();
    if (!path) return;
    path.setAttribute("tabindex", "0");
    path.setAttribute("role", "button");
    path.setAttribute("aria-label", `${regionLabel(p.name)}: ${t("regionTip", fmt(p.incidents), fmt(p.fatalities))}`);
    path.addEventListener("focus", () => layer.openTooltip(layer.getCenter ? layer.getCenter() : undefined));
    path.addEventListener("blur", () => layer.closeTooltip());
    path.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); if (view.onRegionClick) view.onRegionClick(p.region); }
    });
  });
}
