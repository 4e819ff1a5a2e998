// api.js: requests to the server's API and the page configuration it hands
// the page (/map/config.json).

/** API is the server root: the page lives at /map/ below it. */
export const API = new URL("..", document.baseURI).href.replace(/\/$/, "");

/** getJSON fetches url and returns its JSON, or throws with the API's description. */
export async function getJSON(url, signal) {
  let resp;
  try {
    resp = await fetch(url, { signal, headers: { Accept: "application/geo+json, application/json" } });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new Error(`The server could not be reached (${e.message}).`);
  }
  if (!resp.ok) {
    let msg = `${resp.status} ${resp.statusText}`;
    try { const body = await resp.json(); if (body.description) msg = body.description; } catch (_) { /* not JSON */ }
    throw new Error(msg);
  }
  return resp.json();
}

/**
 * config is what the server tells the page: tiles, export formats, limits,
 * basemap layers, languages. loadConfig fills it; older servers that give
 * fewer fields get the defaults, and the formats are then read from /api.
 */
export const config = {
  tiles: "", attribution: "", tilesHelp: "",
  formats: [], // [{f, label, mediaType, ext, href}]
  limits: { maxItems: 50000, tileModeAbove: 5000 },
  basemap: { layers: [], attribution: "" },
  languages: ["en"],
  paths: {}, // the OpenAPI paths, to know which endpoints the server has
  itemParams: new Set(), // the query parameters /collections/incidents/items takes
  eventTypes: [],
  sortables: new Set(), // properties sortby may name (from /sortables when the server has it)
};

/** loadConfig reads /map/config.json, the API definition and the queryables (at once). */
export async function loadConfig() {
  const [c, doc, q] = await Promise.all([
    getJSON(`${API}/map/config.json`).catch(() => ({})),
    getJSON(`${API}/api`).catch(() => null), // older server: GeoJSON only
    getJSON(`${API}/collections/incidents/queryables`).catch(() => null), // keep the built-in types
  ]);
  if (c.tiles) config.tiles = c.tiles;
  if (c.attribution) config.attribution = c.attribution;
  if (c.tilesHelp) config.tilesHelp = c.tilesHelp;
  if (c.limits) Object.assign(config.limits, c.limits);
  if (c.basemap && Array.isArray(c.basemap.layers)) config.basemap = c.basemap;
  if (Array.isArray(c.languages) && c.languages.length) config.languages = c.languages;
  if (Array.isArray(c.formats)) config.formats = c.formats.filter((x) => x && x.f);
  if (doc) {
    config.paths = doc.paths || {};
    const params = (doc.paths?.["/collections/incidents/items"]?.get?.parameters || []).map((p) =>
      p.$ref ? doc.components?.parameters?.[p.$ref.split("/").pop()] || {} : p);
    for (const p of params) if (p.name) config.itemParams.add(p.name);
    if (!Array.isArray(c.formats)) {
      // A server without formats in its config: the f parameter's enum names them.
      const f = params.find((p) => p.name === "f");
      const labels = { geojson: "GeoJSON", geojsonseq: "GeoJSON Text Sequence", csv: "CSV", kml: "KML", gpkg: "GeoPackage" };
      config.formats = (f?.schema?.enum || []).filter((n) => labels[n]).map((n) => ({ f: n, label: labels[n] }));
    }
  }
  const e = q?.properties?.event_type?.enum;
  if (Array.isArray(e) && e.length) config.eventTypes = e;
  if (config.paths["/collections/incidents/sortables"]) {
    try {
      const s = await getJSON(`${API}/collections/incidents/sortables`);
      for (const k of Object.keys(s.properties || {})) config.sortables.add(k);
    } catch (_) { /* the list is then sorted in the page */ }
  }
  return config;
}

/** hasFormat reports whether the server exports f (csv, kml, geojson…). */
export const hasFormat = (f) => config.formats.some((x) => x.f === f);
