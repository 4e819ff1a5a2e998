// list.js: the incidents in the map's view beside the map, newest or
// deadliest first. Each row is a button: Enter or a click opens the
// incident's popup (in tile mode too), so every incident on the map can be
// reached by keyboard.

import { $, el, fmt } from "./dom.js";
import { API, config, getJSON } from "./api.js";
import { state } from "./state.js";
import { filterParams } from "./filters.js";
import { view, openIncident } from "./layers.js";
import { typeStyle, shapeSVG } from "./styles.js";
import { t, tType } from "./i18n.js";

/** LIST_MAX caps the rows drawn; the count line still says how many are in view. */
export const LIST_MAX = 200;

/** bboxParam is the map view as the API's bbox (lon/lat, clamped to the world). */
export function bboxParam() {
  const b = view.map.getBounds();
  const c = (v, lo, hi) => Math.min(hi, Math.max(lo, v)).toFixed(5);
  return [c(b.getWest(), -180, 180), c(b.getSouth(), -90, 90), c(b.getEast(), -180, 180), c(b.getNorth(), -90, 90)].join(",");
}

const sorters = {
  date: (a, b) => (b.properties.event_date || "").localeCompare(a.properties.event_date || "") || (b.properties.fatalities || 0) - (a.properties.fatalities || 0),
  toll: (a, b) => (b.properties.fatalities || 0) - (a.properties.fatalities || 0) || (b.properties.event_date || "").localeCompare(a.properties.event_date || ""),
};

let abort = null;

/**
 * refreshList lists the matching incidents in view: from the features the
 * page holds (markers), or from the items API with the view's bbox (tiles).
 */
export async function refreshList() {
  if (!view.map) return;
  if (abort) abort.abort();
  const ctl = new AbortController();
  abort = ctl;
  const sort = state.sort === "toll" ? "toll" : "date";
  let rows, inView;
  const bbox = bboxParam();
  if (view.mode === "tiles") {
    const p = filterParams(false);
    p.set("bbox", bbox);
    p.set("limit", String(LIST_MAX));
    if (config.sortables.has("event_date") && config.sortables.has("fatalities")) p.set("sortby", sort === "toll" ? "-fatalities,-event_date" : "-event_date,-fatalities");
    let fc;
    try {
      fc = await getJSON(`${API}/collections/incidents/items?${p}`, ctl.signal);
    } catch (e) {
      if (e.name === "AbortError") return;
      throw e;
    }
    rows = fc.features;
    // No numberMatched: the server's count is not done yet; with a next
    // page the total is unknown (null), else it is what came.
    inView = fc.numberMatched ?? ((fc.links || []).some((l) => l.rel === "next") ? null : rows.length);
  } else {
    const b = view.map.getBounds();
    rows = view.features.filter((f) => b.contains([f.geometry.coordinates[1], f.geometry.coordinates[0]]));
    inView = rows.length;
  }
  if (abort !== ctl) return;
  rows = rows.slice().sort(sorters[sort]).slice(0, LIST_MAX);
  draw(rows, inView);
  $("list-count").dataset.bbox = bbox; // the view the list is of (the page's tests read it)
}

function draw(rows, inView) {
  const list = $("list");
  const count = $("list-count");
  if (inView === null) count.textContent = t("inViewOf", "…", fmt(rows.length));
  else count.textContent = inView > rows.length ? t("inViewOf", fmt(inView), fmt(rows.length)) : t("inView", fmt(inView));
  count.dataset.inView = inView === null ? "" : String(inView);
  list.replaceChildren(...rows.map(row));
  list.dataset.rows = String(rows.length);
}

function row(f) {
  const p = f.properties;
  const li = el("li");
  const b = el("button", "list-row");
  b.type = "button";
  b.dataset.id = String(f.id);
  const [cls, shape] = typeStyle(p.event_type);
  const sw = el("i", `swatch t-${cls}`);
  sw.append(shapeSVG(shape, 14));
  const head = el("span", "list-top");
  head.append(sw, el("span", "list-date", p.event_date), el("span", "list-toll", t("killedShort", fmt(p.fatalities))));
  b.append(head, el("span", "list-place", [p.location, p.admin1].filter(Boolean).join(", ")), el("span", "list-type", tType(p.event_type)));
  b.addEventListener("click", () => openIncident(f.id, f).catch((e) => view.map.fire("pageerror", { message: e.message })));
  li.append(b);
  return li;
}
