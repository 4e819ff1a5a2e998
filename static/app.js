// incidentmap's map page. Everything it shows comes from the same OGC API the
// GIS tools use; every value from the data is inserted as text, never as HTML.
"use strict";
(function () {
  const API = new URL("..", document.baseURI).href.replace(/\/$/, ""); // the server root
  const MAX_FEATURES = 50000; // beyond this the page asks the user to filter
  const PAGE = 10000;
  // Above this many matching incidents the page does not fetch them: it draws
  // the server's vector tiles (clusters and dots on canvas) instead of markers.
  const TILE_THRESHOLD = 5000;

  // Event types: colour class and marker shape, ACLED vocabulary.
  const TYPE_STYLE = {
    "Battles": ["battles", "square"],
    "Explosions/Remote violence": ["explosions", "circle"],
    "Violence against civilians": ["violence", "diamond"],
    "Protests": ["protests", "circle"],
    "Riots": ["riots", "diamond"],
    "Strategic developments": ["strategic", "square"],
  };
  const PRECISION = { 1: "exact day", 2: "within the week", 3: "within the month" };
  const GEO_PRECISION = { 1: "exact place", 2: "near this place", 3: "region only" };

  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };

  const state = { start: "", end: "", types: [], region: "", min: "", q: "", shade: "", view: null };
  let allTypes = Object.keys(TYPE_STYLE);
  let map, clusters, regionsLayer, loadAbort, features = [], lastHash = "", playing = null;
  // incidents holds either the marker clusters or the tile layer (mode says which).
  let incidents, tiles = null, mode = "";
  let api = { paths: {}, formats: [] };

  function typeStyle(t) { return TYPE_STYLE[t] || ["other", "circle"]; }
  function sizeFor(f) { return f >= 10 ? 22 : f >= 3 ? 18 : f >= 1 ? 15 : 12; }

  // ---- URL state (the permalink) ----
  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    state.start = p.get("start") || "";
    state.end = p.get("end") || "";
    state.types = p.get("types") ? p.get("types").split(",").filter(Boolean) : [];
    state.region = p.get("region") || "";
    state.min = p.get("min") || "";
    state.q = p.get("q") || "";
    state.shade = p.get("shade") || "";
    const v = (p.get("map") || "").split("/").map(Number);
    state.view = v.length === 3 && v.every(Number.isFinite) ? { z: v[0], lat: v[1], lon: v[2] } : null;
  }
  function hashOf() {
    const p = new URLSearchParams();
    for (const k of ["start", "end", "region", "min", "q", "shade"]) if (state[k]) p.set(k, state[k]);
    if (state.types.length) p.set("types", state.types.join(","));
    if (map) {
      const c = map.getCenter();
      p.set("map", `${map.getZoom()}/${c.lat.toFixed(4)}/${c.lng.toFixed(4)}`);
    }
    return "#" + p.toString();
  }
  function writeHash(push) {
    const h = hashOf();
    if (h === location.hash) return;
    lastHash = h;
    if (push) history.pushState(null, "", h); else history.replaceState(null, "", h);
  }

  // ---- the form ----
  function formToState() {
    state.start = $("start").value;
    state.end = $("end").value;
    const checked = [...document.querySelectorAll("#types input:checked")].map((i) => i.value);
    state.types = checked.length === allTypes.length ? [] : checked;
    state.region = $("region").value;
    state.min = $("min").value;
    state.q = $("q").value.trim();
    state.shade = $("choropleth").value;
  }
  function stateToForm() {
    $("start").value = state.start;
    $("end").value = state.end;
    for (const i of document.querySelectorAll("#types input")) i.checked = !state.types.length || state.types.includes(i.value);
    ensureOption($("region"), state.region);
    $("region").value = state.region;
    $("min").value = state.min;
    $("q").value = state.q;
    $("choropleth").value = state.shade;
  }
  function ensureOption(select, value) {
    if (value && ![...select.options].some((o) => o.value === value)) select.append(new Option(value, value));
  }

  // The query parameters of the items API for the current filters.
  function filterParams(forRegions) {
    const p = new URLSearchParams();
    if (state.start || state.end) p.set("datetime", `${state.start || ".."}/${state.end || ".."}`);
    if (state.types.length) p.set("event_type", state.types.join(","));
    if (forRegions) return p;
    if (state.region) p.set("region", state.region);
    if (state.min) p.set("min_fatalities", state.min);
    if (state.q) p.set("q", state.q);
    return p;
  }

  // ---- fetching ----
  async function getJSON(url, signal) {
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
  function showError(msg) {
    const box = $("error");
    box.textContent = msg ? "Error: " + msg : "";
    box.hidden = !msg;
    if (msg) document.body.dataset.state = "error";
  }

  async function load() {
    if (loadAbort) loadAbort.abort();
    const ctl = new AbortController();
    loadAbort = ctl;
    document.body.dataset.state = "loading";
    showError("");
    const params = filterParams(false);
    try {
      // One feature first, for numberMatched: it decides markers or tiles.
      const probe = new URLSearchParams(params);
      probe.set("limit", "1");
      const first = await getJSON(`${API}/collections/incidents/items?${probe}`, ctl.signal);
      if (Number.isFinite(first.numberMatched) && first.numberMatched > TILE_THRESHOLD && window.IncidentTiles) {
        const regions = loadRegions(ctl.signal);
        await showTiles(first.numberMatched, params, ctl.signal);
        updateDownloads();
        await regions;
      } else {
        params.set("limit", String(PAGE));
        let url = `${API}/collections/incidents/items?${params}`;
        const got = [];
        let matched = 0;
        while (url && got.length < MAX_FEATURES) {
          const fc = await getJSON(url, ctl.signal);
          matched = fc.numberMatched ?? got.length + fc.features.length;
          got.push(...fc.features);
          const next = (fc.links || []).find((l) => l.rel === "next");
          url = next ? next.href : "";
        }
        features = got;
        setMode("markers");
        draw(matched);
        updateDownloads();
        await loadRegions(ctl.signal);
      }
      if (loadAbort === ctl) document.body.dataset.state = "ready";
    } catch (e) {
      if (e.name !== "AbortError") showError(e.message);
    }
  }

  // setMode puts the marker clusters or the tile layer in the Incidents layer.
  function setMode(m) {
    if (m === mode) return;
    mode = m;
    document.body.dataset.mode = m;
    if (m === "tiles") {
      features = [];
      clusters.clearLayers();
      incidents.removeLayer(clusters);
      incidents.addLayer(tiles);
    } else {
      if (tiles) incidents.removeLayer(tiles);
      incidents.addLayer(clusters);
      $("count").removeAttribute("title");
    }
  }

  // showTiles draws the matching incidents from the server's vector tiles and
  // resolves once the tiles in view are drawn.
  async function showTiles(matched, params, signal) {
    if (!tiles) {
      tiles = new window.IncidentTiles({
        pane: "incidentTiles",
        url: (c) => `${API}/collections/incidents/tiles/WebMercatorQuad/${c.z}/${c.x}/${c.y}?${tiles.query}`,
        colorOf: typeColor,
      });
      tiles.on("tileload tileerror load", tileStats);
      tiles.on("tileerror", (e) => showError(e.error && e.error.message || "a tile failed to load"));
      window.incidentmap.tiles = tiles;
    }
    tiles.query = params.toString();
    // New filters or new data: every tile again, each repainted in place.
    const refreshed = mode === "tiles" ? tiles.refresh() : null;
    setMode("tiles"); // when new, adding the layer loads its tiles with the query
    state.view = state.view || {}; // no features to fit: the view stays as it is

    const n = matched.toLocaleString("en");
    const count = $("count");
    count.textContent = `${n} incident${matched === 1 ? "" : "s"} (shown as clusters from the server)`;
    count.dataset.incidents = String(matched);
    // The killed total would need every incident; tiles only sum what is in
    // view, so no number is shown rather than a wrong one.
    delete count.dataset.killed;
    count.title = "Too many to send one by one: the map draws the server's clusters. Filter to see single markers and the killed total.";

    const superseded = new Promise((_, reject) => signal.addEventListener("abort",
      () => reject(new DOMException("superseded", "AbortError")), { once: true }));
    superseded.catch(() => {}); // raced below; unraced, it must not count as unhandled
    if (refreshed) await Promise.race([refreshed, superseded]);
    if (tiles.isLoading()) await Promise.race([new Promise((resolve) => tiles.once("load", resolve)), superseded]);
    tileStats();
  }

  // tileStats exposes what the tile layer holds (the page's tests read it).
  function tileStats() {
    if (!tiles) return;
    const s = tiles.stats();
    const box = map.getContainer().dataset;
    box.tileRequests = String(s.requests);
    box.tileIncidents = String(s.incidents);
    box.tileMarks = String(s.marks);
    box.tilesLoaded = String(s.tiles);
    box.tileZoom = String(s.zoom);
  }

  // typeColor is an event type's legend colour, read from the stylesheet so
  // that dots on canvas match the markers and the legend.
  const colors = {};
  function typeColor(t) {
    const cls = typeStyle(t)[0];
    if (!colors[cls]) {
      const probe = el("i", `swatch t-${cls}`);
      probe.hidden = true;
      document.body.append(probe);
      colors[cls] = getComputedStyle(probe).backgroundColor || "#666";
      probe.remove();
    }
    return colors[cls];
  }

  // onTileClick handles a click on the tile layer's marks: a cluster zooms in
  // on itself, a single incident opens its popup. It reports whether the click
  // hit one, so region outlines underneath leave it alone. A click on a region
  // reaches the region first and then the map: it is handled once.
  let lastClick = null;
  function onTileClick(e) {
    if (mode !== "tiles" || !tiles || !map.hasLayer(tiles)) return false;
    if (e.originalEvent && e.originalEvent === lastClick) return true;
    const hit = tiles.hit(e.latlng);
    if (!hit) return false;
    lastClick = e.originalEvent;
    const m = hit.mark;
    if (m.kind === "cluster") {
      if (map.getZoom() < map.getMaxZoom()) {
        map.setView(hit.latlng, Math.min(map.getZoom() + 2, map.getMaxZoom()));
      } else {
        L.popup().setLatLng(hit.latlng).setContent(el("div", "popup", `${m.count.toLocaleString("en")} incidents here; filter to see them one by one.`)).openOn(map);
      }
      return true;
    }
    getJSON(`${API}/collections/incidents/items/${encodeURIComponent(m.id)}`)
      .then((f) => {
        const c = f.geometry && f.geometry.coordinates;
        const at = Array.isArray(c) ? L.latLng(c[1], c[0]) : hit.latlng;
        L.popup({ maxWidth: 320 }).setLatLng(at).setContent(popup(f)).openOn(map);
      })
      .catch((e) => showError(e.message));
    return true;
  }

  // ---- drawing ----
  function marker(f) {
    const p = f.properties;
    const [cls, shape] = typeStyle(p.event_type);
    const s = sizeFor(p.fatalities);
    const m = L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
      icon: L.divIcon({ className: `inc t-${cls} shape-${shape} id-${f.id}`, iconSize: [s, s] }),
      title: `${p.event_date} · ${p.event_type} · ${p.location || p.admin1 || ""}`,
      alt: `${p.event_type}, ${p.event_date}`,
      keyboard: true,
    });
    m.fatalities = p.fatalities;
    m.bindPopup(() => popup(f), { maxWidth: 320 });
    return m;
  }

  function popup(f) {
    const p = f.properties;
    const box = el("div", "popup");
    box.append(el("h3", "", p.location || p.admin1 || "Incident"));
    const dl = el("dl");
    const row = (k, v) => { if (v !== "" && v !== null && v !== undefined) dl.append(el("dt", "", k), el("dd", "", v)); };
    row("Date", `${p.event_date} (${PRECISION[p.time_precision] || "precision unknown"})`);
    row("Type", p.sub_event_type ? `${p.event_type} — ${p.sub_event_type}` : p.event_type);
    row("Actors", [p.actor1, p.actor2].filter(Boolean).join(" → "));
    row("Place", [p.location, p.admin2, p.admin1].filter(Boolean).join(", ") + ` (${GEO_PRECISION[p.geo_precision] || ""})`);
    row("Region", p.region);
    row("Fatalities", p.fatalities);
    row("Notes", p.notes);
    if (p.source) {
      const dd = el("dd", "", p.source);
      if (/^https?:\/\//i.test(p.source_url || "")) {
        const a = el("a", "", "link");
        a.href = p.source_url;
        a.rel = "noopener noreferrer";
        a.target = "_blank";
        dd.append(" ", a);
      }
      dl.append(el("dt", "", "Source"), dd);
    }
    row("Id", `${f.id} (${p.event_id})`);
    box.append(dl);
    return box;
  }

  function draw(matched) {
    clusters.clearLayers();
    clusters.addLayers(features.map(marker));
    let killed = 0;
    for (const f of features) killed += f.properties.fatalities || 0;
    const n = features.length;
    let text = `${n.toLocaleString("en")} incident${n === 1 ? "" : "s"}, ${killed.toLocaleString("en")} killed`;
    if (matched > n) text += ` (first ${n.toLocaleString("en")} of ${matched.toLocaleString("en")}: filter to see all)`;
    const count = $("count");
    count.textContent = text;
    count.dataset.incidents = String(n);
    count.dataset.killed = String(killed);
    if (!state.view && n) {
      map.fitBounds(clusters.getBounds().pad(0.2), { maxZoom: 9 });
      state.view = {}; // fitted once; from now on the user's view stays
    }
  }

  function updateDownloads() {
    const p = filterParams(false);
    // With markers the page holds every match, at most a PAGE of them. With
    // tiles there are more: the export formats stream them all, unpaged.
    const all = mode === "tiles";
    const link = (id, f) => {
      const q = new URLSearchParams(p);
      q.set("f", f);
      if (!all) q.set("limit", String(PAGE));
      $(id).href = `${API}/collections/incidents/items?${q}`;
    };
    link("dl-geojson", all && api.formats.includes("geojson") ? "geojson" : "json");
    for (const f of ["csv", "kml"]) {
      const a = $("dl-" + f);
      a.hidden = !api.formats.includes(f);
      if (!a.hidden) link("dl-" + f, f);
    }
  }

  // ---- regions: outlines, choropleth, click to filter ----
  const BREAKS = [0, 1, 3, 10, 30];
  function classOf(v) { let c = 0; for (let i = 0; i < BREAKS.length; i++) if (v >= BREAKS[i]) c = i; return c; }

  async function loadRegions(signal) {
    if (!api.paths["/collections/regions/items"] && !api.regions) return;
    const fc = await getJSON(`${API}/collections/regions/items?${filterParams(true)}&limit=100`, signal);
    regionsLayer.clearLayers();
    regionsLayer.addData(fc);
    regionsLayer.setStyle(regionStyle);
    drawLegend();
  }
  function regionStyle(f) {
    const selected = state.region && (f.properties.region === state.region || f.properties.name === state.region);
    const base = { color: selected ? "#f2a900" : "#55606e", weight: selected ? 3 : 1, fillOpacity: 0 };
    if (!state.shade) return base;
    const v = f.properties[state.shade] || 0;
    return { ...base, fillOpacity: 0.65, fillColor: ["#fff7ec", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000"][classOf(v)] };
  }
  function drawLegend() {
    const box = $("choropleth-legend");
    box.replaceChildren();
    box.hidden = !state.shade;
    if (!state.shade) return;
    box.append(el("span", "hint", `${state.shade} per governorate (time and type filters)`));
    BREAKS.forEach((b, i) => {
      const next = BREAKS[i + 1];
      const label = next === undefined ? `${b} or more` : next - 1 === b ? `${b}` : `${b}–${next - 1}`;
      const row = el("span");
      row.append(el("i", `swatch c${i}`), label);
      box.append(row);
    });
  }
  function onEachRegion(f, layer) {
    const p = f.properties;
    const t = el("div");
    t.append(el("strong", "", p.name), el("br"), `${p.incidents ?? 0} incidents, ${p.fatalities ?? 0} killed`);
    if (p.region && p.region !== p.name) t.append(el("br"), `${p.region}: ${p.region_incidents ?? 0} incidents`);
    layer.bindTooltip(t, { sticky: true });
    layer.on("click", (e) => {
      if (onTileClick(e)) return; // a cluster or dot drawn over the region
      state.region = state.region === p.region ? "" : p.region;
      stateToForm();
      apply(true);
    });
  }

  async function fillRegionOptions() {
    try {
      const fc = await getJSON(`${API}/collections/regions/items?limit=100`);
      api.regions = true;
      const select = $("region");
      const regions = [...new Set(fc.features.map((f) => f.properties.region))];
      const focus = ["Anbar", "Baghdad", "Kurdistan Region"].filter((r) => regions.includes(r));
      const rest = regions.filter((r) => !focus.includes(r)).sort();
      const group = (label, names) => {
        const g = document.createElement("optgroup");
        g.label = label;
        for (const n of names) g.append(new Option(n, n));
        select.append(g);
      };
      group("Focus regions", focus);
      group("Other governorates", rest);
      const kr = fc.features.filter((f) => f.properties.region === "Kurdistan Region").map((f) => f.properties.name).sort();
      if (kr.length) group("Kurdistan Region governorates", kr);
    } catch (e) {
      api.regions = false; // the page still works with markers alone
    }
  }

  async function discover() {
    try {
      const doc = await getJSON(`${API}/api`);
      api.paths = doc.paths || {};
      // The f parameter's enum names the formats; parameters may be $refs
      // into components.parameters.
      const params = (doc.paths?.["/collections/incidents/items"]?.get?.parameters || []).map((p) =>
        p.$ref ? doc.components?.parameters?.[p.$ref.split("/").pop()] || {} : p);
      const text = JSON.stringify(params.filter((p) => p.name === "f"));
      api.formats = ["geojson", "csv", "kml", "gpkg", "geojsonseq"].filter((f) => text.includes(`"${f}"`));
    } catch (_) { /* older server: GeoJSON only */ }
    try {
      const q = await getJSON(`${API}/collections/incidents/queryables`);
      const e = q.properties?.event_type?.enum;
      if (Array.isArray(e) && e.length) allTypes = e;
    } catch (_) { /* keep the built-in list */ }
  }

  function buildTypeFilters() {
    const box = $("types");
    box.replaceChildren();
    for (const t of allTypes) {
      const [cls, shape] = typeStyle(t);
      const label = el("label");
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = t;
      input.checked = true;
      label.append(input, el("i", `swatch t-${cls} shape-${shape}`), t);
      box.append(label);
    }
  }

  // ---- time animation ----
  function months(from, to) {
    const out = [];
    const d = new Date(from.slice(0, 7) + "-01T00:00:00Z");
    const end = new Date(to + "T00:00:00Z");
    while (d <= end && out.length < 600) {
      const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0));
      out.push([d.toISOString().slice(0, 10), last.toISOString().slice(0, 10)]);
      d.setUTCMonth(d.getUTCMonth() + 1);
    }
    return out;
  }
  async function togglePlay() {
    const btn = $("play");
    if (playing) { playing.stop = true; return; }
    let from = state.start, to = state.end;
    if ((!from || !to) && features.length) {
      const dates = features.map((f) => f.properties.event_date).sort();
      from = from || dates[0];
      to = to || dates[dates.length - 1];
    }
    if (!from || !to) { // tile mode holds no features: the collection's time span
      const col = await getJSON(`${API}/collections/incidents`).catch(() => ({}));
      const span = (col.extent?.temporal?.interval || [])[0] || [];
      from = from || (span[0] || "").slice(0, 10);
      to = to || (span[1] || "").slice(0, 10);
    }
    if (!from || !to) return;
    const saved = { start: state.start, end: state.end };
    playing = { stop: false };
    btn.textContent = "■ Stop";
    btn.setAttribute("aria-pressed", "true");
    for (const [a, b] of months(from, to)) {
      if (playing.stop) break;
      state.start = a; state.end = b;
      stateToForm();
      $("play-label").textContent = a.slice(0, 7);
      await load();
      await new Promise((r) => setTimeout(r, 1000));
    }
    playing = null;
    btn.textContent = "▶ Play";
    btn.setAttribute("aria-pressed", "false");
    $("play-label").textContent = "";
    Object.assign(state, saved);
    stateToForm();
    load();
  }

  // ---- live updates (when the server offers them) ----
  function subscribe() {
    if (!api.paths["/collections/incidents/events"] || !window.EventSource) return;
    const es = new EventSource(`${API}/collections/incidents/events`);
    // One reload for a burst of events (an import sends thousands), at most every 500 ms.
    const fresh = new Set();
    let timer = null;
    const refresh = (ev) => {
      try { const id = JSON.parse(ev.data).id; if (id !== undefined) fresh.add(String(id)); } catch (_) { /* no id */ }
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        const ids = [...fresh];
        fresh.clear();
        load().then(() => {
          for (const id of ids.slice(0, 200)) {
            for (const e of document.querySelectorAll(`.id-${CSS.escape(id)}`)) e.classList.add("fresh");
          }
        });
      }, 500);
    };
    for (const t of ["created", "updated", "deleted", "reset"]) es.addEventListener(t, refresh);
  }

  function apply(push) {
    writeHash(push);
    regionsLayer && regionsLayer.setStyle(regionStyle);
    return load();
  }

  async function start() {
    if (!window.L) { showError("The map library did not load (build the page with `make assets`)."); return; }
    readHash();
    const config = await getJSON(`${API}/map/config.json`).catch(() => ({}));
    // maxZoom is set here because without tiles no layer sets it, and clustering needs it.
    map = L.map("map", { zoomControl: true, worldCopyJump: true, minZoom: 2, maxZoom: 18 });
    // One setView: a second one right after creation is lost to the first's animation.
    if (state.view) map.setView([state.view.lat, state.view.lon], state.view.z, { animate: false });
    else map.setView([33.3, 43.7], 6, { animate: false });
    const bases = { "Plain (no tiles)": L.layerGroup().addTo(map) };
    if (config.tiles) {
      const tiles = L.tileLayer(config.tiles, { attribution: config.attribution || "", maxZoom: 19 });
      bases["Map tiles"] = tiles;
      map.removeLayer(bases["Plain (no tiles)"]);
      tiles.addTo(map);
    }
    regionsLayer = L.geoJSON(null, { style: regionStyle, onEachFeature: onEachRegion }).addTo(map);
    clusters = L.markerClusterGroup({ maxClusterRadius: 40, showCoverageOnHover: false, chunkedLoading: true });
    // Tiles draw above the region shading (overlayPane, 400) and below markers
    // and popups; their canvases let clicks through to the map and regions.
    map.createPane("incidentTiles").style.zIndex = "450";
    incidents = L.layerGroup().addTo(map);
    setMode("markers");
    L.control.layers(bases, { "Incidents": incidents, "Region outlines": regionsLayer }, { collapsed: true }).addTo(map);
    L.control.scale({ imperial: false }).addTo(map);
    map.attributionControl.addAttribution("Boundaries: Natural Earth");
    map.on("moveend", () => { if (state.view) writeHash(false); });
    map.on("click", onTileClick);
    // A pointer over a cluster or dot says it can be clicked. The DOM event,
    // since region outlines keep Leaflet's mousemove for their tooltips.
    let hover = 0;
    map.getContainer().addEventListener("mousemove", (e) => {
      if (mode !== "tiles" || hover) return;
      hover = requestAnimationFrame(() => {
        hover = 0;
        const over = !!(tiles && map.hasLayer(tiles) && tiles.hit(map.mouseEventToLatLng(e)));
        map.getContainer().classList.toggle("over-incident", over);
      });
    });
    window.incidentmap = { map, clusters, state, tiles: null };

    await discover();
    buildTypeFilters();
    await fillRegionOptions();
    stateToForm();

    $("filters").addEventListener("change", (e) => {
      if (e.target.id === "q") return; // searched on Enter or after typing stops
      formToState();
      apply(true);
    });
    let typing;
    $("q").addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => { formToState(); apply(true); }, 400);
    });
    $("filters").addEventListener("submit", (e) => { e.preventDefault(); formToState(); apply(true); });
    $("reset").addEventListener("click", () => {
      Object.assign(state, { start: "", end: "", types: [], region: "", min: "", q: "", shade: "" });
      stateToForm();
      apply(true);
    });
    $("play").addEventListener("click", togglePlay);
    if (window.matchMedia("(max-width: 700px)").matches) { // phones start with the map
      $("panel").classList.add("closed");
      $("toggle-panel").setAttribute("aria-expanded", "false");
      map.invalidateSize();
    }
    $("toggle-panel").addEventListener("click", () => {
      const closed = $("panel").classList.toggle("closed");
      $("toggle-panel").setAttribute("aria-expanded", String(!closed));
      map.invalidateSize();
    });
    window.addEventListener("popstate", () => {
      if (location.hash === lastHash) return;
      readHash();
      stateToForm();
      if (state.view && state.view.z !== undefined) map.setView([state.view.lat, state.view.lon], state.view.z, { animate: false });
      load();
    });
    await load();
    writeHash(false);
    subscribe();
  }

  // Faults in library callbacks escape start()'s promise; show them too.
  window.addEventListener("error", (e) => showError(e.message));
  window.addEventListener("unhandledrejection", (e) => showError(String(e.reason && e.reason.message || e.reason)));
  document.addEventListener("DOMContentLoaded", () => { start().catch((e) => showError(e.message)); });
})();
