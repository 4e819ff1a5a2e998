// styles.js: how each event type looks. Shape AND colour differ between the
// six ACLED types, so they stay apart for colour-blind readers and in print.

/** TYPE_STYLE maps an ACLED event type to its colour class and marker shape. */
export const TYPE_STYLE = {
  "Battles": ["battles", "square"],
  "Explosions/Remote violence": ["explosions", "star"],
  "Violence against civilians": ["violence", "triangle"],
  "Protests": ["protests", "circle"],
  "Riots": ["riots", "diamond"],
  "Strategic developments": ["strategic", "hexagon"],
};

/** typeStyle is [colour class, shape] of an event type; unknown types are grey circles. */
export function typeStyle(t) { return TYPE_STYLE[t] || ["other", "circle"]; }

/** sizeFor is a marker's size in pixels for a fatality count. */
export function sizeFor(f) { return f >= 10 ? 22 : f >= 3 ? 18 : f >= 1 ? 15 : 12; }

const colors = {};
/**
 * typeColor is an event type's legend colour, read from the stylesheet so
 * that canvas drawings match the markers and the legend.
 */
export function typeColor(t) {
  const cls = typeStyle(t)[0];
  if (!colors[cls]) {
    const probe = document.createElement("i");
    probe.className = `swatch t-${cls}`;
    probe.hidden = true;
    document.body.append(probe);
    colors[cls] = getComputedStyle(probe).backgroundColor || "#666";
    probe.remove();
  }
  return colors[cls];
}

// Shapes as polygons on the unit circle (y down), the circle apart: one
// definition for SVG markers, legend swatches and canvas dots.
const poly = (n, rot, inner) => {
  const pts = [];
  const steps = inner ? 2 * n : n;
  for (let i = 0; i < steps; i++) {
    const a = rot + (i * 2 * Math.PI) / steps;
    const r = inner && i % 2 ? inner : 1;
    pts.push([r * Math.cos(a), r * Math.sin(a)]);
  }
  return pts;
};
const SHAPES = {
  square: [[-0.82, -0.82], [0.82, -0.82], [0.82, 0.82], [-0.82, 0.82]],
  diamond: poly(4, 0),
  triangle: poly(3, -Math.PI / 2).map(([x, y]) => [x * 1.1, y * 1.1 + 0.15]),
  hexagon: poly(6, 0),
  star: poly(5, -Math.PI / 2, 0.5).map(([x, y]) => [x * 1.1, y * 1.1 + 0.05]),
};

const SVGNS = "http://www.w3.org/2000/svg";
/**
 * shapeSVG draws a shape of the given size in CSS pixels, filled by the
 * element's CSS (class t-…), with a white edge and a dark outline.
 */
export function shapeSVG(shape, size) {
  const svg = document.createElementNS(SVGNS, "svg");
  svg.setAttribute("viewBox", "-1.25 -1.25 2.5 2.5");
  svg.setAttribute("width", size);
  svg.setAttribute("height", size);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  let s;
  if (!SHAPES[shape]) {
    s = document.createElementNS(SVGNS, "circle");
    s.setAttribute("r", "1");
  } else {
    s = document.createElementNS(SVGNS, "polygon");
    s.setAttribute("points", SHAPES[shape].map((p) => p.map((v) => v.toFixed(3)).join(",")).join(" "));
  }
  s.setAttribute("class", "shape");
  svg.append(s);
  return svg;
}

/** traceShape adds a shape of radius r at x, y to a canvas path. */
export function traceShape(ctx, shape, x, y, r) {
  const pts = SHAPES[shape];
  if (!pts) { ctx.arc(x, y, r, 0, 2 * Math.PI); return; }
  pts.forEach(([px, py], i) => (i ? ctx.lineTo(x + px * r, y + py * r) : ctx.moveTo(x + px * r, y + py * r)));
  ctx.closePath();
}
