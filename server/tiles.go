package server

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"incidentmap/store"
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
		case "bbox", "bbox-crs", "limit", "offset", "sortby", "f":
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

// tileCluster accumulates the incidents of one grid cell.
type tileCluster struct {
	count, fatalities int
	sumX, sumY        float64
	first             store.TilePoint // the member shown alone when it is the only one
	firstX, firstY    float64
}

// tile answers a Mapbox Vector Tile with layer "incidents": single incidents
// (id, event_date, event_type, fatalities) or, at low zoom and whenever the
// tile would carry more than TileMaxPoints, grid clusters (count, fatalities
// summed, cluster true) at their members' centroid.
func (h *handlers) tile(c *fiber.Ctx) error {
	t, err := tileCoord(c)
	if err != nil {
		return err
	}
	q, err := h.parseQuery(c, tileParams)
	if err != nil {
		return err
	}
	// A hair wider than the tile, so rounding cannot lose a point on an edge;
	// the exact test below gives every point to exactly one tile.
	b := t.Bound()
	const eps = 1e-9
	b.Min, b.Max = orb.Point{b.Min[0] - eps, b.Min[1] - eps}, orb.Point{b.Max[0] + eps, b.Max[1] + eps}
	q.filter.BBox = &b

	ctx, cancel := h.requestContext(c)
	defer cancel()
	n := float64(uint64(1) << t.Z)
	cells := map[int]*tileCluster{}
	var singles []store.TilePoint
	var singleXY [][2]float64
	total := 0
	err = h.store.TilePoints(ctx, q.filter, func(p *store.TilePoint) error {
		wx, wy, ok := worldTileXY(p.Lon, p.Lat, n)
		if !ok || math.Floor(wx) != float64(t.X) || math.Floor(wy) != float64(t.Y) {
			return nil
		}
		px, py := (wx-float64(t.X))*TileExtent, (wy-float64(t.Y))*TileExtent
		total++
		if total <= TileMaxPoints {
			singles = append(singles, *p)
			singleXY = append(singleXY, [2]float64{px, py})
		}
		key := int(py/tileCell)*(TileExtent/tileCell) + int(px/tileCell)
		cl := cells[key]
		if cl == nil {
			cl = &tileCluster{first: *p, firstX: px, firstY: py}
			cells[key] = cl
		}
		cl.count++
		cl.fatalities += p.Fatalities
		cl.sumX += px
		cl.sumY += py
		return nil
	})
	if err != nil {
		return fmt.Errorf("tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
	}

	var feats []*geojson.Feature
	if int(t.Z) < TileClusterBelowZoom || total > TileMaxPoints {
		// Cells in key order, so the same data always gives the same bytes.
		keys := make([]int, 0, len(cells))
		for k := range cells {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			cl := cells[k]
			if cl.count == 1 {
				feats = append(feats, pointFeature(&cl.first, cl.firstX, cl.firstY))
				continue
			}
			f := geojson.NewFeature(orb.Point{math.Floor(cl.sumX / float64(cl.count)), math.Floor(cl.sumY / float64(cl.count))})
			f.Properties = geojson.Properties{"count": cl.count, "fatalities": cl.fatalities, "cluster": true}
			feats = append(feats, f)
		}
	} else {
		for i := range singles {
			feats = append(feats, pointFeature(&singles[i], singleXY[i][0], singleXY[i][1]))
		}
	}
	layers := mvt.Layers{&mvt.Layer{Name: "incidents", Version: 2, Extent: TileExtent, Features: feats}}
	var body []byte
	gzipped := strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip")
	if gzipped {
		body, err = mvt.MarshalGzipped(layers)
	} else {
		body, err = mvt.Marshal(layers)
	}
	if err != nil {
		return fmt.Errorf("tile %d/%d/%d: encode: %w", t.Z, t.X, t.Y, err)
	}
	c.Set(fiber.HeaderContentType, MediaMVT)
	c.Append(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if gzipped {
		// Set before the compress middleware looks, so it leaves the body alone.
		c.Set(fiber.HeaderContentEncoding, "gzip")
	}
	return c.Send(body)
}

// pointFeature is one incident at tile pixel (px, py).
func pointFeature(p *store.TilePoint, px, py float64) *geojson.Feature {
	f := geojson.NewFeature(orb.Point{math.Floor(px), math.Floor(py)})
	f.ID = p.ID
	f.Properties = geojson.Properties{"id": p.ID, "event_date": p.EventDate, "event_type": p.EventType, "fatalities": p.Fatalities}
	return f
}

// worldTileXY projects a point to Web Mercator in tile units of a zoom level
// with n tiles a side: the integer parts are the tile, the fractions the
// position in it. ok is false beyond Web Mercator's latitude limit.
func worldTileXY(lon, lat, n float64) (x, y float64, ok bool) {
	if lat <= -85.0511287798 || lat >= 85.0511287798 {
		return 0, 0, false
	}
	x = (lon + 180) / 360 * n
	s := math.Sin(lat * math.Pi / 180)
	y = (0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)) * n
	if x >= n { // lon 180 belongs to the last column
		x = math.Nextafter(n, 0)
	}
	return x, y, true
}
