// heat.js: a heatmap layer of its own (no plugin): each point adds a blurred
// disc of density to an alpha canvas, which a colour ramp then paints.

const RADIUS = 24; // CSS pixels of a point's influence

// A 256-entry palette from transparent blue through yellow to dark red.
function palette() {
  const c = document.createElement("canvas");
  c.width = 256; c.height = 1;
  const ctx = c.getContext("2d");
  const g = ctx.createLinearGradient(0, 0, 256, 0);
  g.addColorStop(0.0, "rgba(33,102,172,0)");
  g.addColorStop(0.25, "rgb(67,147,195)");
  g.addColorStop(0.5, "rgb(254,224,139)");
  g.addColorStop(0.75, "rgb(244,109,67)");
  g.addColorStop(1.0, "rgb(165,0,38)");
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, 256, 1);
  return ctx.getImageData(0, 0, 256, 1).data;
}

/**
 * HeatLayer draws options.points() ([{latlng, w}]) as a density surface over
 * the map's view, redrawn after every move.
 */
export const HeatLayer = L.Layer.extend({
  initialize(options) { L.setOptions(this, options); },
  onAdd(map) {
    this._canvas = L.DomUtil.create("canvas", "heat-canvas leaflet-zoom-hide");
    this._canvas.setAttribute("aria-hidden", "true");
    map.getPane(this.options.pane || "overlayPane").append(this._canvas);
    map.on("moveend zoomend resize", this.redraw, this);
    this.redraw();
  },
  onRemove(map) {
    map.off("moveend zoomend resize", this.redraw, this);
    this._canvas.remove();
    this._canvas = null;
  },
  redraw() {
    const map = this._map, canvas = this._canvas;
    if (!map || !canvas) return this;
    const size = map.getSize();
    canvas.width = size.x; canvas.height = size.y;
    canvas.style.width = size.x + "px"; canvas.style.height = size.y + "px";
    L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
    const ctx = canvas.getContext("2d");
    const pts = this.options.points();
    if (!pts.length) return this;
    // Weights on a log scale: one cluster of 10,000 must not hide the rest.
    let max = 0;
    const drawn = [];
    for (const p of pts) {
      const xy = map.latLngToContainerPoint(p.latlng);
      if (xy.x < -RADIUS || xy.y < -RADIUS || xy.x > size.x + RADIUS || xy.y > size.y + RADIUS) continue;
      const w = Math.log1p(p.w);
      max = Math.max(max, w);
      drawn.push([xy.x, xy.y, w]);
    }
    for (const [x, y, w] of drawn) {
      const g = ctx.createRadialGradient(x, y, 0, x, y, RADIUS);
      g.addColorStop(0, `rgba(0,0,0,${Math.min(1, 0.15 + 0.85 * Math.sqrt(w / (max || 1)))})`);
      g.addColorStop(1, "rgba(0,0,0,0)");
      ctx.fillStyle = g;
      ctx.fillRect(x - RADIUS, y - RADIUS, 2 * RADIUS, 2 * RADIUS);
    }
    if (!this._palette) this._palette = palette();
    const img = ctx.getImageData(0, 0, size.x, size.y), d = img.data, pal = this._palette;
    for (let i = 3; i < d.length; i += 4) {
      const a = d[i];
      if (!a) continue;
      const j = a * 4;
      d[i - 3] = pal[j]; d[i - 2] = pal[j + 1]; d[i - 1] = pal[j + 2];
      d[i] = Math.min(230, 60 + a);
    }
    ctx.putImageData(img, 0, 0);
    return this;
  },
});
