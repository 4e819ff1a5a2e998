// facets.js: counts per event type, per region and of the top actors for the
// current filters (each chart leaves out its own filter, so every value
// stays visible), from the aggregate API. A bar is a button: it sets or
// removes its filter.

import { $, el, fmt } from "./dom.js";
import { API, config, getJSON } from "./api.js";
import { state } from "./state.js";
import { filterParams, regionLabel } from "./filters.js";
import { typeStyle, shapeSVG } from "./styles.js";
import { t, tType } from "./i18n.js";

/** hasAggregate reports whether the server has the aggregate API. */
export const hasAggregate = () => !!config.paths["/collections/incidents/aggregate"];

/** aggregate asks the aggregate API for groups of key with params. */
export async function aggregate(groupBy, params, signal, limit) {
  const p = new URLSearchParams(params);
  p.set("group_by", groupBy);
  if (limit) p.set("limit", String(limit));
  return getJSON(`${API}/collections/incidents/aggregate?${p}`, signal);
}

/**
 * refreshFacets redraws the three charts. onPick(kind, value) is called when
 * a bar is chosen.
 */
export async function refreshFacets(signal, onPick) {
  const box = $("charts");
  box.hidden = !hasAggregate();
  if (box.hidden) return;
  const [types, regions, a1, a2] = await Promise.all([
    aggregate("event_type", filterParams(false, "types"), signal),
    aggregate("region", filterParams(false, "region"), signal),
    aggregate("actor1", filterParams(false, "actor"), signal, 10),
    aggregate("actor2", filterParams(false, "actor"), signal, 10),
  ]);
  draw($("facet-types"), types.groups.map((g) => ({ key: g.event_type, label: tType(g.event_type), count: g.count, type: g.event_type })),
    (v) => state.types.length && state.types.includes(v), (v) => onPick("types", v));
  draw($("facet-regions"), regions.groups.map((g) => ({ key: g.region, label: regionLabel(g.region), count: g.count })),
    (v) => state.region === v, (v) => onPick("region", v));
  // Actors: either side of an incident, summed, top ten.
  const actors = new Map();
  for (const g of [...a1.groups.map((x) => [x.actor1, x.count]), ...a2.groups.map((x) => [x.actor2, x.count])]) {
    if (g[0]) actors.set(g[0], (actors.get(g[0]) || 0) + g[1]);
  }
  const top = [...actors].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, c]) => ({ key: k, label: k, count: c }));
  draw($("facet-actors"), top, (v) => state.actor === v, (v) => onPick("actor", v));
}

function draw(ul, items, isOn, pick) {
  items = items.filter((x) => x.key !== null && x.key !== undefined && x.key !== "").sort((a, b) => b.count - a.count);
  const max = Math.max(1, ...items.map((x) => x.count));
  ul.replaceChildren(...items.map((x) => {
    const li = el("li");
    const b = el("button", "facet-bar");
    b.type = "button";
    b.value = x.key;
    b.setAttribute("aria-pressed", String(!!isOn(x.key)));
    const bar = el("span", "facet-fill");
    bar.style.width = `${(100 * x.count) / max}%`;
    if (x.type) bar.classList.add(`t-${typeStyle(x.type)[0]}`);
    const label = el("span", "facet-label");
    if (x.type) { const sw = el("i", `swatch t-${typeStyle(x.type)[0]}`); sw.append(shapeSVG(typeStyle(x.type)[1], 12)); label.append(sw); }
    label.append(x.label);
    b.append(bar, label, el("span", "facet-count", fmt(x.count)));
    b.dataset.count = String(x.count);
    b.addEventListener("click", () => pick(x.key));
    li.append(b);
    return li;
  }));
}
