// IncidentTiles: a Leaflet grid layer that draws the server's incident vector
// tiles (/collections/incidents/tiles/WebMercatorQuad/{z}/{x}/{y}) on canvas,
// for when too many incidents match to send them to the page one by one.
//
// The server's tiles hold single incidents (id, event_date, event_type,
// fatalities) and clusters (count, fatalities, cluster=true) that it has
// already laid out so that no two marks overlap at the sizes drawn here, also
// across tile edges (see server/cluster.go: the radii below are the same).
// So each mark is drawn where the server put it: no regrouping into a fixed
// grid, which would bring back the square pattern the layout removes. Every
// incident is counted in exactly one tile's marks, so the tiles of a zoom add
// up to the matching incidents.
"use strict";
(function (global) {
  const L = global.L, MVT = global.IncidentMVT;
  if (!L || !MVT) return; // the page reports the missing library itself

  const SIZE = 256; // CSS pixels a tile
  // Circles near a tile's edge would be cut off by its canvas; the canvas
  // reaches PAD pixels into its neighbours instead (transparent elsewhere).
  const PAD = 32;
  const MAX_RADIUS = 28; // < PAD, so no circle is ever clipped
  function clusterRadius(count) { return Math.min(MAX_RADIUS, 9 + 4 * Math.log10(Math.max(count, 1))); }
  function dotRadius(fatalities) { return fatalities >= 10 ? 7 : fatalities >= 3 ? 6 : fatalities >= 1 ? 5 : 4; }
  function label(n) {
    if (n < 1000) return String(n);
    if (n < 10000) return (n / 1000).toFixed(1).replace(/\.0$/, "") + "k";
    if (n < 1e6) return Math.round(n / 1000) + "k";
    return (n / 1e6).toFixed(1).replace(/\.0$/, "") + "M";
  }
  const keyOf = (c) => `${c.x}:${c.y}:${c.z}`;

  // marksOf turns a decoded layer into marks in tile CSS pixels: clusters
  // {kind, x, y, r, count, fatalities} and dots {kind, x, y, r, id, type,
  // date, fatalities}, with the number of incidents they stand for.
  function marksOf(layer) {
    const k = SIZE / (layer.extent || 4096);
    const marks = [];
    let total = 0;
    for (const f of layer.features) {
      const pt = f.geometry[0] && f.geometry[0][0];
      if (!pt) continue;
      const p = f.properties, x = pt[0] * k, y = pt[1] * k;
      if (p.cluster) {
        const count = Number(p.count) || 0;
        total += count;
        marks.push({ kind: "cluster", x, y, r: clusterRadius(count), count, fatalities: Number(p.fatalities) || 0 });
      } else {
        total += 1;
        marks.push({ kind: "incident", x, y, r: dotRadius(p.fatalities), id: p.id ?? f.id, type: p.event_type, date: p.event_date, fatalities: p.fatalities });
      }
    }
    // Dots under circles: a circle must stay readable.
    marks.sort((a, b) => (a.kind === "cluster") - (b.kind === "cluster"));
    return { marks, total };
  }

  function paint(canvas, marks, opts) {
    const dpr = global.devicePixelRatio || 1;
    canvas.width = (SIZE + 2 * PAD) * dpr;
    canvas.height = (SIZE + 2 * PAD) * dpr;
    const ctx = canvas.getContext("2d");
    ctx.scale(dpr, dpr);
    ctx.translate(PAD, PAD);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.font = "bold 11px system-ui, sans-serif";
    for (const m of marks) {
      ctx.beginPath();
      if (m.kind === "cluster" || !opts.trace) ctx.arc(m.x, m.y, m.r, 0, 2 * Math.PI);
      else opts.trace(ctx, opts.shapeOf(m.type), m.x, m.y, m.r + 1);
      if (m.kind === "cluster") {
        ctx.fillStyle = "rgba(29, 35, 48, 0.82)";
        ctx.fill();
        ctx.lineWidth = 2;
        ctx.strokeStyle = "#fff";
        ctx.stroke();
        ctx.fillStyle = "#fff";
        ctx.fillText(label(m.count), m.x, m.y + 0.5);
      } else {
        ctx.fillStyle = opts.colorOf(m.type);
        ctx.fill();
        ctx.lineWidth = 1;
        ctx.strokeStyle = "#fff";
        ctx.stroke();
      }
    }
  }

  // IncidentTiles options: url(coords) gives a tile's address (with the
  // page's filters), colorOf(eventType) a dot's colour, shapeOf(eventType)
  // its shape's name and trace(ctx, shape, x, y, r) draws that shape's path
  // (without trace, dots are circles).
  const IncidentTiles = L.GridLayer.extend({
    options: { tileSize: SIZE, updateWhenZooming: false, url: null, colorOf: () => "#666", shapeOf: () => "circle", trace: null },

    initialize(options) {
      L.GridLayer.prototype.initialize.call(this, options);
      this.requests = 0; // tile fetches started, for the page's tests and curious users
      this.failures = 0;
      this._live = new Map(); // unwrapped tile key → canvas, for hit tests
      this.on("tileloadstart", (e) => { e.tile.coordsKey = keyOf(e.coords); this._live.set(e.tile.coordsKey, e.tile); });
      this.on("tileunload", (e) => {
        // A tile that left the view (or a redraw) stops its download.
        if (e.tile.abort) e.tile.abort.abort();
        if (this._live.get(e.tile.coordsKey) === e.tile) this._live.delete(e.tile.coordsKey);
      });
    },

    createTile(coords, done) {
      const tile = L.DomUtil.create("canvas", "incident-tile");
      tile.coords = coords; // wrapped into the world, as the URL needs
      tile.z = coords.z;
      tile.total = 0;
      tile.marks = [];
      // Leaflet's done must be called once, for the first fetch that ends
      // other than by abort (a refresh may abort and replace the first).
      tile.ready = (err) => {
        if (tile.readied) return false;
        tile.readied = true;
        done(err, tile);
        return true;
      };
      this._fetch(tile);
      return tile;
    },

    // _fetch downloads, decodes and paints one tile with the current url,
    // aborting the tile's earlier download. It never rejects.
    _fetch(tile) {
      if (tile.abort) tile.abort.abort();
      const ctl = new AbortController();
      const c = tile.coords;
      tile.abort = ctl;
      tile.loading = true;
      this.requests++;
      return fetch(this.options.url(c), { signal: ctl.signal })
        .then((resp) => {
          if (!resp.ok) throw new Error(`tile ${c.z}/${c.x}/${c.y}: ${resp.status} ${resp.statusText}`);
          return resp.arrayBuffer();
        })
        .then((buf) => {
          const layer = MVT.decode(new Uint8Array(buf)).layers.incidents;
          const got = layer ? marksOf(layer) : { marks: [], total: 0 };
          tile.marks = got.marks;
          tile.total = got.total;
          paint(tile, got.marks, this.options);
          tile.loading = false;
          tile.ready(null);
        })
        .catch((err) => {
          if (err.name === "AbortError") return; // the tile is gone, or fetched anew
          this.failures++;
          tile.loading = false;
          tile.marks = [];
          tile.total = 0;
          paint(tile, [], this.options);
          if (!tile.ready(err)) this.fire("tileerror", { tile, coords: c, error: err });
        });
    },

    // refresh fetches every tile it holds again with the current url (new
    // filters, or new data), repainting each in place as it arrives: unlike
    // redraw, the map never goes blank in between. Resolves when all are in.
    refresh() {
      return Promise.all([...this._live.values()].map((t) => this._fetch(t)));
    },

    // The canvas is PAD pixels larger on every side than the tile it draws.
    _initTile(tile) {
      L.GridLayer.prototype._initTile.call(this, tile);
      const full = SIZE + 2 * PAD + "px";
      tile.style.width = full;
      tile.style.height = full;
      tile.style.marginLeft = -PAD + "px";
      tile.style.marginTop = -PAD + "px";
    },

    // stats sums what the tiles of the current zoom level hold: incidents
    // (cluster counts plus single incidents), marks drawn and tiles loaded.
    stats() {
      const z = this._tileZoom; // GridLayer's zoom level of its tiles (Leaflet 1.9)
      let incidents = 0, marks = 0, tiles = 0, pending = 0;
      for (const t of this._live.values()) {
        if (t.z !== z) continue;
        if (t.loading) { pending++; continue; }
        tiles++;
        incidents += t.total;
        marks += t.marks.length;
      }
      return { zoom: z, tiles, pending, incidents, marks, requests: this.requests, failures: this.failures };
    },

    // marksInView lists the marks of the current zoom level inside the map's
    // view (widened by the ratio pad of its size, if given), each with its
    // latlng: what a test or a screen reader summary needs.
    marksInView(pad) {
      const map = this._map, z = this._tileZoom, out = [];
      if (!map) return out;
      const bounds = pad ? map.getBounds().pad(pad) : map.getBounds();
      for (const t of this._live.values()) {
        if (t.z !== z || t.loading) continue;
        const [x, y] = t.coordsKey.split(":").map(Number);
        for (const m of t.marks) {
          const latlng = map.unproject([x * SIZE + m.x, y * SIZE + m.y], z);
          if (bounds.contains(latlng)) out.push(Object.assign({ latlng }, m));
        }
      }
      return out;
    },

    // hit finds the mark drawn under latlng (nearest first), or null. It
    // returns the mark and where it is on the map.
    hit(latlng) {
      const map = this._map;
      if (!map || this._tileZoom === undefined) return null;
      const z = this._tileZoom;
      const p = map.project(latlng, z);
      const tx = Math.floor(p.x / SIZE), ty = Math.floor(p.y / SIZE);
      let best = null, bestD = Infinity;
      // Marks reach into neighbouring tiles by up to PAD pixels.
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const tile = this._live.get(keyOf({ x: tx + dx, y: ty + dy, z }));
          if (!tile || !tile.readied) continue; // while refreshing, the old marks
          const lx = p.x - (tx + dx) * SIZE, ly = p.y - (ty + dy) * SIZE;
          for (const m of tile.marks) {
            const d = Math.hypot(m.x - lx, m.y - ly);
            const reach = m.kind === "cluster" ? m.r : m.r + 4; // dots are small: be generous
            if (d <= reach && d < bestD) {
              bestD = d;
              best = { mark: m, latlng: map.unproject([(tx + dx) * SIZE + m.x, (ty + dy) * SIZE + m.y], z) };
            }
          }
        }
      }
      return best;
    },
  });

  global.IncidentTiles = IncidentTiles;
})(window);
