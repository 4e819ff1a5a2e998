// timeline.js: a histogram of the matching incidents per day, week or month,
// stacked by event type, under the map. It shows every date the other
// filters match; the chosen range is a brush over it. Dragging across the
// bars sets the range (or the arrow keys), Escape clears it, Play slides
// the brush along.

import { $, el, fmt } from "./dom.js";
import { state } from "./state.js";
import { filterParams, allTypes } from "./filters.js";
import { aggregate, hasAggregate } from "./facets.js";
import { typeColor } from "./styles.js";
import { t, tType } from "./i18n.js";

const SVGNS = "http://www.w3.org/2000/svg";
const H = 86, AXIS = 16; // bar area and axis heights, CSS pixels

const DAY = 86400000;
const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
const ms = (d) => Date.parse(d + "T00:00:00Z");

/** bucketStart is the first day of the bucket holding date d (ISO weeks start on Monday). */
export function bucketStart(d, bucket) {
  const x = new Date(ms(d));
  if (bucket === "month") return iso(Date.UTC(x.getUTCFullYear(), x.getUTCMonth(), 1));
  if (bucket === "week") return iso(ms(d) - ((x.getUTCDay() + 6) % 7) * DAY);
  return d;
}
/** bucketNext is the first day of the bucket after the one starting at d. */
export function bucketNext(d, bucket) {
  const x = new Date(ms(d));
  if (bucket === "month") return iso(Date.UTC(x.getUTCFullYear(), x.getUTCMonth() + 1, 1));
  return iso(ms(d) + (bucket === "week" ? 7 : 1) * DAY);
}
/** bucketEnd is the last day of the bucket starting at d. */
export const bucketEnd = (d, bucket) => iso(ms(bucketNext(d, bucket)) - DAY);

// What the histogram last drew: its buckets (first day → counts per type).
const model = { bucket: "", buckets: [], groups: [], from: "", to: "", width: 0, chosen: false };

/** timelineModel is what the histogram shows, for the page's tests. */
export function timelineModel() { return model; }

/** refreshTimeline asks the aggregate API for the bars and draws them. */
export async function refreshTimeline(signal) {
  const box = $("timeline");
  box.hidden = !hasAggregate();
  if (box.hidden) return;
  const select = $("bucket");
  let bucket = select.value;
  const params = filterParams(false, "time");
  if (!model.chosen) {
    // First draw: a bucket that gives a readable number of bars for the span.
    const span = await aggregate("year", params, signal);
    const years = span.groups.map((g) => g.year).filter(Boolean).sort();
    const n = years.length ? Number(years[years.length - 1].slice(0, 4)) - Number(years[0].slice(0, 4)) + 1 : 1;
    bucket = n <= 1 ? "week" : n <= 2 ? "week" : "month";
    select.value = bucket;
  }
  const agg = await aggregate(`${bucket},event_type`, params, signal);
  model.bucket = bucket;
  model.groups = agg.groups;
  const byBucket = new Map();
  for (const g of agg.groups) {
    const d = g[bucket];
    if (!d) continue;
    if (!byBucket.has(d)) byBucket.set(d, { start: d, count: 0, types: {} });
    const b = byBucket.get(d);
    b.count += g.count;
    b.types[g.event_type] = (b.types[g.event_type] || 0) + g.count;
  }
  const keys = [...byBucket.keys()].sort();
  // Every bucket between the first and the last, empty ones too.
  const buckets = [];
  if (keys.length) {
    for (let d = keys[0], guard = 0; d <= keys[keys.length - 1] && guard < 5000; d = bucketNext(d, bucket), guard++) {
      buckets.push(byBucket.get(d) || { start: d, count: 0, types: {} });
    }
  }
  model.buckets = buckets;
  model.from = buckets.length ? buckets[0].start : "";
  model.to = buckets.length ? bucketEnd(buckets[buckets.length - 1].start, bucket) : "";
  model.numberMatched = agg.numberMatched;
  draw();
}

let onBrush = null;
/** initTimeline wires the brush, the bucket choice and the resize; brush(start, end) applies a range. */
export function initTimeline(brush) {
  onBrush = brush;
  $("bucket").addEventListener("change", () => { model.chosen = true; refreshTimeline().catch(() => {}); });
  new ResizeObserver(() => { if (model.buckets.length && $("histogram").clientWidth !== model.width) draw(); }).observe($("histogram"));
  const host = $("histogram");
  let drag = null;
  const dateAt = (e) => {
    const r = host.getBoundingClientRect();
    const x = (e.clientX - r.left) / r.width;
    const i = Math.max(0, Math.min(model.buckets.length - 1, Math.floor(x * model.buckets.length)));
    return model.buckets[i] && model.buckets[i].start;
  };
  host.addEventListener("pointerdown", (e) => {
    if (!model.buckets.length || e.button !== 0) return;
    host.setPointerCapture(e.pointerId);
    drag = { a: dateAt(e), b: dateAt(e) };
    drawBrush(drag.a, bucketEnd(drag.b, model.bucket));
  });
  host.addEventListener("pointermove", (e) => {
    if (!drag) return;
    drag.b = dateAt(e);
    const [a, b] = [drag.a, drag.b].sort();
    drawBrush(a, bucketEnd(b, model.bucket));
  });
  const end = () => {
    if (!drag) return;
    const [a, b] = [drag.a, drag.b].sort();
    drag = null;
    onBrush(a, bucketEnd(b, model.bucket));
  };
  host.addEventListener("pointerup", end);
  host.addEventListener("pointercancel", () => { drag = null; drawBrush(state.start, state.end); });
  // Keyboard: arrows move the brush a bar, Shift+arrows move its end,
  // Home/End jump to the first/last bar, Escape clears it.
  let keyTimer = null, keyRange = null;
  host.addEventListener("keydown", (e) => {
    const n = model.buckets.length;
    if (e.key === "Escape") { keyRange = null; onBrush("", ""); return; }
    if (!n || !["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) return;
    e.preventDefault();
    if (!keyRange) {
      const idx = (d, last) => {
        let k = last ? n - 1 : 0;
        model.buckets.forEach((b, i) => { if (last ? b.start <= d : bucketEnd(b.start, model.bucket) < d) k = last ? i : i + 1; });
        return Math.min(n - 1, k);
      };
      keyRange = state.start || state.end ? [idx(state.start, false), state.end ? idx(state.end, true) : n - 1] : [n - 1, n - 1];
    }
    let [a, b] = keyRange;
    const step = e.key === "ArrowLeft" ? -1 : e.key === "ArrowRight" ? 1 : 0;
    if (e.key === "Home") { b -= a; a = 0; } else if (e.key === "End") { a += n - 1 - b; b = n - 1; }
    else if (e.shiftKey) b = Math.max(a, Math.min(n - 1, b + step));
    else if (a + step >= 0 && b + step < n) { a += step; b += step; }
    keyRange = [a, b];
    const start = model.buckets[a].start, end = bucketEnd(model.buckets[b].start, model.bucket);
    drawBrush(start, end);
    clearTimeout(keyTimer);
    keyTimer = setTimeout(() => { keyRange = null; onBrush(start, end); }, 400);
  });
}

function draw() {
  const host = $("histogram");
  const w = Math.max(100, host.clientWidth);
  model.width = host.clientWidth;
  const svg = document.createElementNS(SVGNS, "svg");
  svg.setAttribute("width", w);
  svg.setAttribute("height", H + AXIS);
  svg.setAttribute("role", "img");
  const n = model.buckets.length;
  const total = model.buckets.reduce((s, b) => s + b.count, 0);
  svg.setAttribute("aria-label", `${t("timeline")}: ${fmt(total)} · ${model.from} – ${model.to}`);
  const max = Math.max(1, ...model.buckets.map((b) => b.count));
  const bw = w / Math.max(n, 1);
  // Time runs left to right in both languages (the histogram is dir=ltr),
  // as on most date axes of Arabic charts.
  const types = [...allTypes, ...new Set(model.groups.map((g) => g.event_type).filter((x) => !allTypes.includes(x)))];
  const bars = document.createElementNS(SVGNS, "g");
  bars.setAttribute("class", "bars");
  model.buckets.forEach((b, i) => {
    const g = document.createElementNS(SVGNS, "g");
    g.setAttribute("class", "bar");
    g.dataset.start = b.start;
    g.dataset.count = String(b.count);
    const x = i * bw;
    let y = H;
    for (const ty of types) {
      const c = b.types[ty];
      if (!c) continue;
      const h = (c / max) * (H - 4);
      const r = document.createElementNS(SVGNS, "rect");
      r.setAttribute("x", (x + (bw > 3 ? 0.5 : 0)).toFixed(2));
      r.setAttribute("width", Math.max(0.5, bw - (bw > 3 ? 1 : 0)).toFixed(2));
      r.setAttribute("y", (y - h).toFixed(2));
      r.setAttribute("height", h.toFixed(2));
      r.setAttribute("fill", typeColor(ty));
      r.dataset.type = ty;
      r.dataset.count = String(c);
      y -= h;
      g.append(r);
    }
    const title = document.createElementNS(SVGNS, "title");
    title.textContent = `${b.start}: ${fmt(b.count)}` + Object.entries(b.types).map(([k, v]) => `\n${tType(k)}: ${fmt(v)}`).join("");
    g.append(title);
    bars.append(g);
  });
  svg.append(bars);
  // Axis: the first day of some buckets, as many as fit.
  const axis = document.createElementNS(SVGNS, "g");
  axis.setAttribute("class", "axis");
  const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(w / 70))));
  for (let i = 0; i < n; i += every) {
    const tx = document.createElementNS(SVGNS, "text");
    const x = i * bw + 2;
    tx.setAttribute("x", x.toFixed(1));
    tx.setAttribute("y", String(H + AXIS - 3));
    tx.setAttribute("text-anchor", "start");
    tx.textContent = model.bucket === "month" ? model.buckets[i].start.slice(0, 7) : model.buckets[i].start;
    axis.append(tx);
  }
  svg.append(axis);
  const brush = document.createElementNS(SVGNS, "rect");
  brush.setAttribute("class", "brush");
  brush.setAttribute("y", "0");
  brush.setAttribute("height", String(H));
  svg.append(brush);
  host.replaceChildren(svg);
  host.tabIndex = 0;
  drawBrush(state.start, state.end);
}

/** drawBrush shows the range start..end (either may be empty) over the bars. */
export function drawBrush(start, end) {
  const host = $("histogram");
  const rect = host.querySelector(".brush");
  if (!rect) return;
  const n = model.buckets.length;
  if (!n || (!start && !end)) { rect.setAttribute("width", "0"); host.dataset.brush = ""; return; }
  const w = host.clientWidth, bw = w / n;
  let i0 = 0, i1 = n - 1;
  model.buckets.forEach((b, i) => {
    if (start && bucketEnd(b.start, model.bucket) < start) i0 = i + 1;
    if (end && b.start <= end) i1 = i;
  });
  if (end && model.buckets[0].start > end) i1 = -1;
  if (i1 < i0) { rect.setAttribute("width", "0"); host.dataset.brush = `${start}/${end}`; return; }
  const x = i0 * bw;
  rect.setAttribute("x", x.toFixed(2));
  rect.setAttribute("width", ((i1 - i0 + 1) * bw).toFixed(2));
  host.dataset.brush = `${start}/${end}`;
}

let playing = null;
/**
 * togglePlay slides a window the brush's width (one tenth of the span when
 * nothing is chosen) across the timeline, a bucket per step; step(start, end)
 * shows one window and resolves when it is drawn. A second call stops it.
 */
export async function togglePlay(step, restore) {
  const btn = $("play");
  if (playing) { playing.stop = true; return; }
  const bs = model.buckets, bucket = model.bucket;
  if (!bs.length) return;
  let width = 1;
  if (state.start || state.end) {
    const inRange = bs.filter((b) => (!state.start || bucketEnd(b.start, bucket) >= state.start) && (!state.end || b.start <= state.end));
    width = Math.max(1, inRange.length);
  } else {
    width = Math.max(1, Math.round(bs.length / 10));
  }
  if (width >= bs.length) width = Math.max(1, Math.round(bs.length / 10));
  const saved = { start: state.start, end: state.end, last: state.last };
  playing = { stop: false };
  btn.textContent = t("stop");
  btn.setAttribute("aria-pressed", "true");
  for (let i = 0; i + width <= bs.length; i++) {
    if (playing.stop) break;
    const a = bs[i].start, b = bucketEnd(bs[i + width - 1].start, bucket);
    $("play-label").textContent = `${a} – ${b}`;
    drawBrush(a, b);
    await step(a, b);
    await new Promise((r) => setTimeout(r, 600));
  }
  const stopped = playing.stop;
  playing = null;
  btn.textContent = t("play");
  btn.setAttribute("aria-pressed", "false");
  $("play-label").textContent = "";
  if (!stopped) restore(saved);
}
