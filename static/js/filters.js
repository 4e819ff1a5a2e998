// filters.js: the filter form, and the API query parameters for the state.

import { $, el } from "./dom.js";
import { API, config, getJSON } from "./api.js";
import { state } from "./state.js";
import { TYPE_STYLE, typeStyle, shapeSVG } from "./styles.js";
import { t, tType } from "./i18n.js";

/** allTypes lists the event types the server knows (its queryables), else ACLED's. */
export let allTypes = Object.keys(TYPE_STYLE);

/** PRESETS are the relative date ranges: days back from today. */
export const PRESETS = { "24h": 1, "7d": 7, "30d": 30, "1y": 365 };

/** resolveRelative turns a relative range (state.last) into dates as of today. */
export function resolveRelative(now = new Date()) {
  if (!state.last || !PRESETS[state.last]) { state.last = ""; return; }
  const from = new Date(now.getTime() - PRESETS[state.last] * 86400000);
  state.start = from.toISOString().slice(0, 10);
  state.end = "";
}

/** formToState reads the form into state. */
export function formToState() {
  const start = $("start").value, end = $("end").value;
  if (start !== state.start || end !== state.end) state.last = ""; // dates typed by hand are absolute
  state.start = start;
  state.end = end;
  const checked = [...document.querySelectorAll("#types input:checked")].map((i) => i.value);
  state.types = checked.length === allTypes.length ? [] : checked;
  state.region = $("region").value;
  state.min = $("min").value;
  state.q = $("q").value.trim();
  state.shade = $("choropleth").value;
}

/** stateToForm shows state in the form. */
export function stateToForm() {
  $("start").value = state.start;
  $("end").value = state.end;
  for (const i of document.querySelectorAll("#types input")) i.checked = !state.types.length || state.types.includes(i.value);
  ensureOption($("region"), state.region);
  $("region").value = state.region;
  $("min").value = state.min;
  $("q").value = state.q;
  $("choropleth").value = state.shade;
  const actor = $("actor-filter");
  if (actor) {
    actor.hidden = !state.actor;
    $("actor-name").textContent = state.actor;
  }
  for (const b of document.querySelectorAll("#presets button")) b.setAttribute("aria-pressed", String(b.value === (state.last || (state.start || state.end ? "-" : "all"))));
}

function ensureOption(select, value) {
  if (value && ![...select.options].some((o) => o.value === value)) select.append(new Option(value, value));
}

// The server's names for the list parameters: event_types/regions/actors
// (any of) on servers that have them, else the older list-valued names.
const listParam = (plural, single) => (config.itemParams.has(plural) ? plural : single);

/**
 * filterParams are the items API's query parameters for the current filters.
 * forRegions keeps only those the governorate counts take (time and type).
 * without names a filter to leave out (a facet shows all its values).
 */
export function filterParams(forRegions, without = "") {
  const p = new URLSearchParams();
  if ((state.start || state.end) && without !== "time") p.set("datetime", `${state.start || ".."}/${state.end || ".."}`);
  if (state.types.length && without !== "types") p.set(listParam("event_types", "event_type"), state.types.join(","));
  if (forRegions) return p;
  if (state.region && without !== "region") p.set(listParam("regions", "region"), state.region);
  if (state.actor && without !== "actor") {
    if (config.itemParams.has("actors")) p.set("actors", state.actor);
    else p.set("filter", `actor1 = '${state.actor.replace(/'/g, "''")}' OR actor2 = '${state.actor.replace(/'/g, "''")}'`);
  }
  if (state.min) p.set("min_fatalities", state.min);
  if (state.q) p.set("q", state.q);
  return p;
}

/** buildTypeFilters draws one checkbox per event type with its symbol. */
export function buildTypeFilters() {
  if (config.eventTypes.length) allTypes = config.eventTypes;
  const box = $("types");
  box.replaceChildren();
  for (const ty of allTypes) {
    const [cls, shape] = typeStyle(ty);
    const label = el("label");
    const input = document.createElement("input");
    input.type = "checkbox";
    input.value = ty;
    input.checked = true;
    const sw = el("i", `swatch t-${cls}`);
    sw.append(shapeSVG(shape, 14));
    label.append(input, sw, tType(ty));
    box.append(label);
  }
}

/** regionsFC holds the governorates (with name_ar when the server has it). */
export let regionsFC = null;

/** fillRegionOptions lists the regions and governorates in the region select. */
export async function fillRegionOptions() {
  try {
    regionsFC = await getJSON(`${API}/collections/regions/items?limit=100`);
  } catch (e) {
    regionsFC = null; // the page still works with markers alone
    return;
  }
  const select = $("region");
  for (const g of select.querySelectorAll("optgroup")) g.remove(); // a new language lists them anew
  const fc = regionsFC;
  const regions = [...new Set(fc.features.map((f) => f.properties.region))];
  const focus = ["Anbar", "Baghdad", "Kurdistan Region"].filter((r) => regions.includes(r));
  const rest = regions.filter((r) => !focus.includes(r)).sort();
  const group = (label, names) => {
    const g = document.createElement("optgroup");
    g.label = label;
    for (const n of names) g.append(new Option(regionLabel(n), n));
    select.append(g);
  };
  group(t("focusRegions"), focus);
  group(t("otherGovernorates"), rest);
  const kr = fc.features.filter((f) => f.properties.region === "Kurdistan Region").map((f) => f.properties.name).sort();
  if (kr.length) group(t("krGovernorates"), kr);
}

/** regionLabel is a region's or governorate's name in the page's language. */
export function regionLabel(name) {
  if (t.lang !== "ar") return name;
  if (name === "Kurdistan Region") return "إقليم كردستان";
  const f = regionsFC && regionsFC.features.find((x) => x.properties.name === name);
  // Natural Earth writes "محافظة …" (governorate of …): the name alone reads better in lists.
  return (f && f.properties.name_ar && f.properties.name_ar.replace(/^محافظة\s+/, "")) || name;
}
