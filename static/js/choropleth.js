// choropleth.js: class breaks computed from the data shown, so that the
// governorates spread over the colour ramp whatever the filters match.

/** RAMP is the sequential colour ramp, light to dark (ColorBrewer OrRd). */
export const RAMP = ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"];

/**
 * jenksBreaks returns up to k classes of values as ascending lower bounds
 * (the first is the minimum), by Jenks natural breaks: the split that
 * minimises the squared deviations within classes. Fewer distinct values
 * than k give one class each.
 */
export function jenksBreaks(values, k) {
  const v = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  const distinct = [...new Set(v)];
  if (!distinct.length) return [0];
  if (distinct.length <= k) return distinct;
  const n = v.length;
  // lower[i][j]: index where class j of the first i values starts; cost[i][j] its total variance.
  const lower = Array.from({ length: n + 1 }, () => new Array(k + 1).fill(0));
  const cost = Array.from({ length: n + 1 }, () => new Array(k + 1).fill(Infinity));
  for (let j = 1; j <= k; j++) { lower[1][j] = 1; cost[1][j] = 0; }
  for (let i = 2; i <= n; i++) {
    let s = 0, s2 = 0, w = 0;
    for (let m = 1; m <= i; m++) {
      const lo = i - m + 1, x = v[lo - 1];
      s += x; s2 += x * x; w++;
      const varc = s2 - (s * s) / w;
      if (lo > 1) {
        for (let j = 2; j <= k; j++) {
          if (cost[i][j] >= varc + cost[lo - 1][j - 1]) {
            lower[i][j] = lo;
            cost[i][j] = varc + cost[lo - 1][j - 1];
          }
        }
      }
    }
    lower[i][1] = 1;
    cost[i][1] = s2 - (s * s) / w;
  }
  const breaks = [];
  let i = n;
  for (let j = k; j >= 1; j--) {
    const lo = lower[i][j];
    breaks.unshift(v[lo - 1]);
    i = lo - 1;
    if (i < 1) break;
  }
  return [...new Set(breaks)];
}

/** classOf is the class index of value v for ascending lower bounds. */
export function classOf(v, breaks) {
  let c = 0;
  for (let i = 0; i < breaks.length; i++) if (v >= breaks[i]) c = i;
  return c;
}

/** colourOf is the ramp colour of class c of n classes (spread over the ramp). */
export function colourOf(c, n) {
  if (n <= 1) return RAMP[RAMP.length - 1];
  return RAMP[Math.round((c * (RAMP.length - 1)) / (n - 1))];
}

const R = 6371.0088; // mean Earth radius, km

// ringArea is the area in km² of a lon/lat ring on the sphere (the
// spherical-excess sum that d3 and turf use), unsigned.
function ringArea(ring) {
  let sum = 0;
  const rad = Math.PI / 180;
  for (let i = 0; i < ring.length - 1; i++) {
    const [l1, p1] = ring[i], [l2, p2] = ring[i + 1];
    sum += (l2 - l1) * rad * (2 + Math.sin(p1 * rad) + Math.sin(p2 * rad));
  }
  return Math.abs((sum * R * R) / 2);
}

/** areaKm2 is the area of a GeoJSON Polygon or MultiPolygon in km² (holes taken out). */
export function areaKm2(geometry) {
  if (!geometry) return 0;
  const polys = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
  let a = 0;
  for (const rings of polys) rings.forEach((r, i) => { a += i === 0 ? ringArea(r) : -ringArea(r); });
  return a;
}
