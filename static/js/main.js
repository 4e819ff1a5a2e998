// main.js: incidentmap's map page. Everything it shows comes from the same
// OGC API the GIS tools use; every value from the data is inserted as text,
// never as HTML. The modules: state (permalink), filters (form and query
// parameters), layers (map, markers, tiles, regions), timeline, facets
// (charts), list, i18n, api (requests and the server's page configuration).

import { $, el, fmt } from "./dom.js";
import { API, config, getJSON, loadConfig } from "./api.js";
import { state, EMPTY, readHash, writeHash, hashOf, filterKey } from "./state.js";
import { filterParams, formToState, stateToForm, buildTypeFilters, fillRegionOptions, regionsFC, resolveRelative } from "./filters.js";
import { view, createMap, drawMarkers, showTiles, setMode, loadRegions, restyleRegions, placeLabels, relabelMap } from "./layers.js";
import { refreshList, bboxParam } from "./list.js";
import { refreshFacets } from "./facets.js";
import { refreshTimeline, initTimeline, togglePlay, drawBrush, timelineModel } from "./timeline.js";
import { t, setLanguage, chooseLanguage } from "./i18n.js";

// MAX_FEATURES caps what marker mode fetches; above tileModeAbove the page
// draws tiles anyway, so it is only reached if the server says so.
const MAX_FEATURES = 50000;
const page = () => config.limits.maxItems || 10000; // the largest items page
let loadAbort = null;
let fitted = false; // the first view has been set (from the hash or the data)
let viewGiven = false; // the permalink named the view: the data must not move it

function showError(msg) {
  const box = $("error");
  box.textContent = msg ? t("error") + msg : "";
  box.hidden = !msg;
  if (msg) document.body.dataset.state = "error";
}

/** load fetches and draws what the filters match: incidents, regions, charts, timeline, list. */
async function load() {
  if (loadAbort) loadAbort.abort();
  const ctl = new AbortController();
  loadAbort = ctl;
  document.body.dataset.state = "loading";
  showError("");
  if (state.last) { resolveRelative(); stateToForm(); }
  const params = filterParams(false);
  try {
    // One feature first, for numberMatched: it decides markers or tiles.
    const probe = new URLSearchParams(params);
    probe.set("limit", "1");
    const first = await getJSON(`${API}/collections/incidents/items?${probe}`, ctl.signal);
    const side = Promise.all([
      loadRegions(ctl.signal, !!regionsFC),
      refreshFacets(ctl.signal, pick),
      refreshTimeline(ctl.signal),
    ]);
    side.catch(() => {}); // awaited below
    const matched = first.numberMatched;
    // On a large database the server may answer before its count is done
    // (no numberMatched): with a next page there are many, so tiles, and the
    // number follows when the count is (see followCount).
    const hasNext = (first.links || []).some((l) => l.rel === "next");
    const many = Number.isFinite(matched) ? matched > config.limits.tileModeAbove : hasNext;
    if (many && window.IncidentTiles) {
      await showTiles(params, ctl.signal);
      countLine(matched, null);
      if (!Number.isFinite(matched)) followCount(`${API}/collections/incidents/items?${probe}`, ctl);
    } else {
      params.set("limit", String(page()));
      let url = `${API}/collections/incidents/items?${params}`;
      const got = [];
      let total = 0;
      while (url && got.length < MAX_FEATURES) {
        const fc = await getJSON(url, ctl.signal);
        total = fc.numberMatched ?? got.length + fc.features.length;
        got.push(...fc.features);
        const next = (fc.links || []).find((l) => l.rel === "next");
        url = next ? next.href : "";
      }
      setMode("markers");
      drawMarkers(got);
      let killed = 0;
      for (const f of got) killed += f.properties.fatalities || 0;
      countLine(got.length, killed, total);
      if (!fitted && !viewGiven && got.length) {
        // From the features: the clusters fill in chunks, later.
        const b = L.latLngBounds(got.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]));
        view.map.fitBounds(b.pad(0.2), { maxZoom: 9, animate: false });
      }
    }
    fitted = true;
    updateDownloads();
    await Promise.all([side, refreshList()]);
    if (loadAbort === ctl) document.body.dataset.state = "ready";
  } catch (e) {
    if (e.name !== "AbortError") showError(e.message);
  }
}

// countLine says how many incidents match; killed is null in tile mode,
// where the page never holds every incident to sum their toll.
function countLine(n, killed, total) {
  const count = $("count");
  count.dataset.incidents = Number.isFinite(n) ? String(n) : "";
  if (killed === null) {
    count.textContent = t("tileLine", Number.isFinite(n) ? fmt(n) : "…");
    delete count.dataset.killed;
    count.title = t("tileTitle");
    return;
  }
  let text = t("countLine", fmt(n), fmt(killed));
  if (total > n) text += t("firstOf", fmt(n), fmt(total));
  count.textContent = text;
  count.dataset.killed = String(killed);
}

// followCount asks url (a page of one) again each second, at most a minute,
// until the server's count is done and the answer carries numberMatched,
// and writes it into the tile mode's count line; a newer load stops it.
async function followCount(url, ctl) {
  for (let i = 0; i < 60 && loadAbort === ctl; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    if (loadAbort !== ctl) return;
    try {
      const fc = await getJSON(url, ctl.signal);
      if (Number.isFinite(fc.numberMatched)) {
        if (loadAbort === ctl) countLine(fc.numberMatched, null);
        return;
      }
    } catch (e) {
      return;
    }
  }
}

// updateDownloads writes the download links: every match, and what is in
// the map's view (the same filters plus the view's bbox). Export formats
// stream everything; plain JSON pages are capped at the largest page.
function updateDownloads() {
  const formats = config.formats.filter((x) => !["json", "html"].includes(x.f));
  const make = (boxId, prefix, extra) => {
    const box = $(boxId);
    const links = (formats.length ? formats : [{ f: "json", label: "GeoJSON" }]).map((x) => {
      const q = filterParams(false);
      for (const [k, v] of Object.entries(extra)) q.set(k, v);
      const a = el("a", "", x.label || x.f.toUpperCase());
      a.id = `${prefix}-${x.f}`;
      if (x.href) {
        // The server's download of this format (f in its query), with the
        // view's filters added.
        const u = new URL(x.href, location.href);
        for (const [k, v] of q) u.searchParams.set(k, v);
        a.href = u.href;
      } else {
        q.set("f", x.f);
        if (x.f === "json") q.set("limit", String(page()));
        a.href = `${API}/collections/incidents/items?${q}`;
      }
      const ext = x.ext || `.${{ json: "geojson", geojsonseq: "geojsons" }[x.f] || x.f}`;
      a.download = `incidents${prefix === "dlv" ? "-view" : ""}${ext}`;
      return a;
    });
    box.replaceChildren(...links.flatMap((a, i) => (i ? [" ", a] : [a])));
  };
  make("dl-all", "dl", {});
  if (view.map) make("dl-view", "dlv", { bbox: bboxParam() });
}

/** apply shows the state: a history entry when push, then a new load. */
function apply(push) {
  writeHash(view.map, push);
  restyleRegions();
  stateToForm();
  return load();
}

// pick sets or clears a facet's filter.
function pick(kind, value) {
  if (kind === "types") state.types = state.types.length === 1 && state.types[0] === value ? [] : [value];
  else if (kind === "region") state.region = state.region === value ? "" : value;
  else if (kind === "actor") state.actor = state.actor === value ? "" : value;
  stateToForm();
  apply(true);
}

// ---- live updates (when the server offers them) ----
function subscribe() {
  if (!config.paths["/collections/incidents/events"] || !window.EventSource) return;
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
  for (const ty of ["created", "updated", "deleted", "reset"]) es.addEventListener(ty, refresh);
}

// fitExtent sets the first view to the data's extent (the collection's
// bbox), so that no part of the data starts off screen.
async function fitExtent(collection) {
  try {
    const col = await collection;
    const b = col.extent?.spatial?.bbox?.[0];
    if (Array.isArray(b) && b.length >= 4 && b.every(Number.isFinite) && b[0] <= b[2] && b[1] <= b[3]) {
      view.map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [16, 16], maxZoom: 9, animate: false });
    }
  } catch (_) { /* keep the default view */ }
}

async function start() {
  readHash();
  setLanguage(chooseLanguage(state.lang || new URLSearchParams(location.search).get("lang")));
  $("lang").value = document.documentElement.lang;
  if (!window.L) { showError(t("noLibrary")); return; }
  // What does not depend on each other is asked for at once.
  const collection = getJSON(`${API}/collections/incidents`);
  collection.catch(() => {}); // awaited by fitExtent
  const regions = fillRegionOptions();
  await loadConfig();
  createMap();
  const map = view.map;
  window.incidentmap = { map, clusters: view.clusters, state, tiles: view.tiles, view, timeline: timelineModel, hashOf: () => hashOf(map), bbox: bboxParam };
  map.on("pageerror", (e) => showError(e.message));
  view.onRegionClick = (region) => { state.region = state.region === region ? "" : region; stateToForm(); apply(true); };

  buildTypeFilters();
  await regions;
  stateToForm();
  $("sort").value = state.sort === "toll" ? "toll" : "date";

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
    Object.assign(state, { ...EMPTY, types: [], sort: state.sort, heat: state.heat, lang: state.lang });
    apply(true);
  });
  $("actor-clear").addEventListener("click", () => { state.actor = ""; apply(true); });
  for (const b of document.querySelectorAll("#presets button")) {
    b.addEventListener("click", () => {
      state.last = b.value === "all" ? "" : b.value;
      state.start = ""; state.end = "";
      apply(true);
    });
  }
  $("sort").addEventListener("change", () => { state.sort = $("sort").value === "toll" ? "toll" : ""; writeHash(map, false); refreshList().catch((e) => showError(e.message)); });
  // A new language is written in place: the catalogue's words, the
  // direction, the type and region names, the map's controls and labels, then
  // a load redraws the count, charts, timeline and list. Filters, view,
  // layers and history stay as they are.
  $("lang").addEventListener("change", async () => {
    document.body.dataset.state = "loading"; // until the load below has drawn
    state.lang = $("lang").value;
    writeHash(map, false);
    setLanguage(state.lang);
    buildTypeFilters();
    await fillRegionOptions();
    stateToForm();
    relabelMap();
    await load();
  });
  map.on("statechange", () => writeHash(map, false));
  initTimeline((a, b) => {
    state.start = a; state.end = b; state.last = "";
    apply(true);
  });
  $("play").addEventListener("click", () => togglePlay(
    (a, b) => { state.start = a; state.end = b; state.last = ""; stateToForm(); writeHash(map, false); return load(); },
    (saved) => { Object.assign(state, saved); apply(false); }));

  const phone = window.matchMedia("(max-width: 700px)").matches;
  if (phone) { // phones start with the map
    $("panel").classList.add("closed");
    $("toggle-panel").setAttribute("aria-expanded", "false");
    $("listbox").classList.add("closed");
    $("toggle-list").setAttribute("aria-expanded", "false");
    map.invalidateSize();
  }
  for (const [btn, box] of [["toggle-panel", "panel"], ["toggle-list", "listbox"]]) {
    $(btn).addEventListener("click", () => {
      const closed = $(box).classList.toggle("closed");
      $(btn).setAttribute("aria-expanded", String(!closed));
      map.invalidateSize();
    });
  }
  // Moving the map changes the permalink (no new history entry), the list
  // and the in-view download.
  let moving;
  map.on("moveend", () => {
    if (!fitted) return;
    writeHash(map, false);
    updateDownloads();
    clearTimeout(moving);
    moving = setTimeout(() => refreshList().catch((e) => showError(e.message)), 250);
  });
  // Back and Forward: show exactly the state of the entry's hash.
  window.addEventListener("popstate", () => {
    if (location.hash === hashOf(map)) return; // already shown
    const before = filterKey();
    readHash();
    stateToForm();
    if (state.view) map.setView([state.view.lat, state.view.lon], state.view.z, { animate: false });
    restyleRegions();
    if (filterKey() !== before) load();
  });
  viewGiven = !!state.view;
  if (!viewGiven) await fitExtent(collection);
  await load();
  // How long the first view took from navigation (for the figures in the notes).
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  writeHash(map, false);
  placeLabels();
  subscribe();
}

// Faults in library callbacks escape start()'s promise; show them too.
window.addEventListener("error", (e) => showError(e.message));
window.addEventListener("unhandledrejection", (e) => showError(String(e.reason && e.reason.message || e.reason)));
start().catch((e) => showError(e.message));
