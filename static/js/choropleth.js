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
