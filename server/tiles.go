package server

import (
	"context"
	"fmt"
	"incidentmap/incident"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"incidentmap/geo"
)

// MediaMVT is the media type of Mapbox Vector Tiles.
const MediaMVT = "application/vnd.mapbox-vector-tile"

const (
	// TileExtent is the size of a tile in its own pixel coordinates.
	TileExtent = 4096
	// TileMaxZoom is the deepest zoom level served.
	TileMaxZoom = 22
	// TileMaxPoints is the most single incidents a tile carries; a tile that
	// would hold more is clustered, whatever its zoom.
	TileMaxPoints = 2000
	// TileClusterBelowZoom: tiles above this zoom level (numerically below)
	// are always clustered, since their points overlap on screen anyway.
	TileClusterBelowZoom = 8
	// tileCell is the side of a cluster cell in tile pixels: 64×64 cells a
	// tile, so a tile never carries more than 4,096 clusters.
	tileCell = 64
)

// tileParams are the items parameters a tile honours: every filter, but not
// paging, order, format or bbox (the tile's bounds are its bbox).
var tileParams = func() []string {
	var out []string
	for _, p := range itemsParams {
		switch p {
		case "bbox", "bbox-crs":
			continue
		}
		if contains(pageParams, p) {
			continue
		}
		out = append(out, p)
	}
	return out
}()

// registerTiles declares the vector tile route (issue 8).
func (h *handlers) registerTiles(app *fiber.App) {
	app.Get("/collections/incidents/tiles/WebMercatorQuad/:z/:x/:y", h.tile)
}

// tileCoord parses z, x and y: malformed numbers are a 400, a tile outside
// the matrix of its zoom level a 404.
func tileCoord(c *fiber.Ctx) (maptile.Tile, error) {
	var v [3]int
	for i, name := range []string{"z", "x", "y"} {
		s := c.Params(name)
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return maptile.Tile{}, badRequest(fmt.Sprintf("tile %s %q must be a whole number of at least 0", name, s))
		}
		v[i] = n
	}
	z, x, y := v[0], v[1], v[2]
	if z > TileMaxZoom {
		return maptile.Tile{}, notFound(fmt.Sprintf("zoom level %d is beyond the deepest, %d", z, TileMaxZoom))
	}
	if n := 1 << z; x >= n || y >= n {
		return maptile.Tile{}, notFound(fmt.Sprintf("tile %d/%d/%d is outside the matrix of zoom %d (0 to %d)", z, x, y, z, n-1))
	}
	return maptile.New(uint32(x), uint32(y), maptile.Zoom(z)), nil
}

// tile answers a Mapbox Vector Tile with layer "incidents": single incidents
// (id, event_date, event_type, fatalities) or, at low zoom and whenever the
// tile would carry more than TileMaxPoints, clusters (count, fatalities
// summed, cluster true) laid out across tile edges (clusterTile). A tile's
// incidents are one range of the cell index (geo.TileCells), so every
// incident belongs to exactly one tile of each zoom and SQLite clusters
// without a bbox test.
func (h *handlers) tile(c *fiber.Ctx) error {
	t, err := tileCoord(c)
	if err != nil {
		return err
	}
	q, err := h.parseQuery(c, tileParams)
	if err != nil {
		return err
	}
	gzipped := strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip")
	version, versioned := c.Locals(localDataVersion).(int64)
	key := tileKey(t, q.raw, gzipped)
	if versioned {
		if body, ok := h.tiles.get(version, key); ok {
			c.Set("X-Cache", "HIT")
			return sendTile(c, body, gzipped)
		}
	}
	c.Set("X-Cache", "MISS") // as proxies say it: whether the tile was built for this request
	ctx, cancel := h.requestContext(c)
	defer cancel()
	body, err := h.buildTile(ctx, t, gridQuery{f: q.filter, key: q.raw.Encode(), version: version, cache: versioned}, gzipped)
	if err != nil {
		return err
	}
	if versioned {
		h.tiles.put(version, key, body)
	}
	return sendTile(c, body, gzipped)
}

// tileKey names a tile in the cache: its address, its filter parameters in
// a canonical order (an empty query and none are the same) and its encoding.
func tileKey(t maptile.Tile, raw url.Values, gzipped bool) string {
	return fmt.Sprintf("%d/%d/%d?%s gzip=%t", t.Z, t.X, t.Y, raw.Encode(), gzipped)
}

// buildTile encodes tile t of the incidents g's filter selects.
func (h *handlers) buildTile(ctx context.Context, t maptile.Tile, g gridQuery, gzipped bool) ([]byte, error) {
	f := g.f
	n := float64(uint64(1) << t.Z)
	pixel := func(lon, lat float64) orb.Point {
		// The same projection as the cell key, so a point lands in its tile.
		wx, wy := geo.MercatorXY(lon, lat, n)
		clamp := func(v float64) float64 { return math.Max(0, math.Min(TileExtent-1, math.Floor(v*TileExtent))) }
		return orb.Point{clamp(wx - float64(t.X)), clamp(wy - float64(t.Y))}
	}
	var feats []*geojson.Feature
	points, cluster, err := h.tilePoints(ctx, t, f)
	if err != nil {
		return nil, fmt.Errorf("tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
	}
	if !cluster {
		for i := range points {
			feats = append(feats, pointFeature(&points[i], pixel(points[i].Lon, points[i].Lat)))
		}
	} else {
		marks, err := h.clusterTile(ctx, t, g)
		if err != nil {
			return nil, fmt.Errorf("tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
		}
		for _, m := range marks {
			if m.single != nil {
				feats = append(feats, pointFeature(m.single, pixel(m.single.Lon, m.single.Lat)))
				continue
			}
			clamp := func(v float64) float64 { return math.Max(0, math.Min(TileExtent-1, math.Floor(v))) }
			const k = TileExtent / TileCSSPixels
			feat := geojson.NewFeature(orb.Point{clamp((m.x - float64(t.X)*TileCSSPixels) * k), clamp((m.y - float64(t.Y)*TileCSSPixels) * k)})
			feat.Properties = geojson.Properties{"count": m.n, "fatalities": m.fat, "cluster": true}
			feats = append(feats, feat)
		}
	}
	layers := mvt.Layers{&mvt.Layer{Name: "incidents", Version: 2, Extent: TileExtent, Features: feats}}
	var body []byte
	if gzipped {
		body, err = mvt.MarshalGzipped(layers)
	} else {
		body, err = mvt.Marshal(layers)
	}
	if err != nil {
		return nil, fmt.Errorf("tile %d/%d/%d: encode: %w", t.Z, t.X, t.Y, err)
	}
	return body, nil
}

// tilePoints reads the single incidents of tile t, or says it is to be
// clustered: always above TileClusterBelowZoom, and when it holds more than
// TileMaxPoints — known from the engine's count when it keeps one (then the
// incidents are not read at all), else from reading one more than that.
func (h *handlers) tilePoints(ctx context.Context, t maptile.Tile, f incident.Filter) ([]incident.TilePoint, bool, error) {
	if t.Z < TileClusterBelowZoom {
		return nil, true, nil
	}
	n, known, err := h.store.TileCount(ctx, f, t)
	if err != nil {
		return nil, false, err
	}
	if known && n > TileMaxPoints {
		return nil, true, nil
	}
	points, err := h.store.TilePoints(ctx, f, t, TileMaxPoints+1)
	if err != nil {
		return nil, false, err
	}
	return points, len(points) > TileMaxPoints, nil
}

// warmZoom and warmMaxTiles bound the tiles warmTiles builds.
const (
	warmZoom     = 6
	warmMaxTiles = 256
)

// warmTiles builds the unfiltered, gzipped tiles of zoom 0 to warmZoom over
// the incidents' extent (at most warmMaxTiles) into the tile cache. Those
// are the map page's first view; at a million incidents the densest takes
// 0.1–0.6 s to cluster, and a new visitor should not wait for it. It runs
// once, in the background; tiles of later data versions are built on demand.
func (h *handlers) warmTiles(ctx context.Context) {
	start := time.Now()
	v, err := h.store.DataVersion(ctx)
	if err != nil {
		h.log.Warn("warm tiles", "err", err)
		return
	}
	ext, err := h.store.Extent(ctx)
	if err != nil || ext.Count == 0 {
		return
	}
	built := 0
	for z := maptile.Zoom(0); z <= warmZoom; z++ {
		tl := maptile.At(orb.Point{ext.BBox.Min[0], ext.BBox.Max[1]}, z)
		br := maptile.At(orb.Point{ext.BBox.Max[0], ext.BBox.Min[1]}, z)
		if built+int((br.X-tl.X+1)*(br.Y-tl.Y+1)) > warmMaxTiles {
			break
		}
		for x := tl.X; x <= br.X; x++ {
			for y := tl.Y; y <= br.Y; y++ {
				t := maptile.New(x, y, z)
				body, err := h.buildTile(ctx, t, gridQuery{version: v.Seq, cache: true}, true)
				if err != nil {
					h.log.Warn("warm tiles", "tile", fmt.Sprintf("%d/%d/%d", z, x, y), "err", err)
					return
				}
				h.tiles.put(v.Seq, tileKey(t, url.Values{}, true), body)
				built++
			}
		}
	}
	h.log.Info("warmed tiles", "tiles", built, "max_zoom", warmZoom, "data_version", v.Seq, "ms", time.Since(start).Milliseconds())
}

// sendTile answers an encoded tile.
func sendTile(c *fiber.Ctx, body []byte, gzipped bool) error {
	c.Set(fiber.HeaderContentType, MediaMVT)
	c.Append(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if gzipped {
		// Set before the compress middleware looks, so it leaves the body alone.
		c.Set(fiber.HeaderContentEncoding, "gzip")
	}
	return c.Send(body)
}

// pointFeature is one incident at tile pixel px.
func pointFeature(p *incident.TilePoint, px orb.Point) *geojson.Feature {
	f := geojson.NewFeature(px)
	f.ID = p.ID
	f.Properties = geojson.Properties{"id": p.ID, "event_date": p.EventDate, "event_type": p.EventType, "fatalities": p.Fatalities}
	return f
}
