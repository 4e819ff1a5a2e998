// state.js: what the page shows, and its permalink in the URL hash
// (#start=…&end=…&types=…&region=…&map=z/lat/lon). Every change of filters
// is a history entry; moving the map replaces the current one.

/** EMPTY is the state with no filter. */
export const EMPTY = Object.freeze({ start: "", end: "", last: "", types: [], region: "", actor: "", min: "", q: "", shade: "" });
// Besides the filters the hash keeps the list order (sort), the heatmap (heat) and the language (lang).

/** state is the one copy of the filters and view the page shows. */
export const state = { ...EMPTY, types: [], view: null };

const KEYS = ["start", "end", "last", "region", "actor", "min", "q", "shade", "sort", "heat", "lang"];

/** readHash sets state from location.hash. */
export function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  for (const k of KEYS) state[k] = p.get(k) || "";
  state.types = p.get("types") ? p.get("types").split(",").filter(Boolean) : [];
  const v = (p.get("map") || "").split("/").map(Number);
  state.view = v.length === 3 && v.every(Number.isFinite) ? { z: v[0], lat: v[1], lon: v[2] } : null;
}

/** hashOf is the permalink of state with the map's current view. */
export function hashOf(map) {
  const p = new URLSearchParams();
  for (const k of KEYS) {
    // A relative range (last=7d) is kept as such: the dates follow from it.
    if ((k === "start" || k === "end") && state.last) continue;
    if (state[k]) p.set(k, state[k]);
  }
  if (state.types.length) p.set("types", state.types.join(","));
  if (map) {
    const c = map.getCenter();
    p.set("map", `${map.getZoom()}/${c.lat.toFixed(4)}/${c.lng.toFixed(4)}`);
  }
  return "#" + p.toString();
}

/** writeHash records state in the URL: a new history entry when push. */
export function writeHash(map, push) {
  const h = hashOf(map);
  if (h === location.hash) return;
  if (push) history.pushState(null, "", h); else history.replaceState(null, "", h);
}

/** filterKey is the part of the state that decides which incidents match. */
export function filterKey() {
  return JSON.stringify([state.start, state.end, state.last, state.types, state.region, state.actor, state.min, state.q]);
}
