package server_test

import (
	"math"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"incidentmap/server"
)

// markRadius is the radius the map page draws a tile feature with, in tile
// units: a cluster by its count, a single incident by its fatalities.
func markRadius(props map[string]any) float64 {
	px := 4.0
	if props["cluster"] == true {
		px = math.Min(server.ClusterMaxRadius, 9+4*math.Log10(props["count"].(float64)))
	} else if f, _ := props["fatalities"].(float64); f >= 10 {
		px = 7
	} else if f >= 3 {
		px = 6
	} else if f >= 1 {
		px = 5
	}
	return px * server.TileExtent / server.TileCSSPixels
}

// worldMark is a tile feature placed on the plane of all tiles of its zoom
// (tile units, tile x from x·TileExtent), with its radius.
type worldMark struct {
	x, y, r float64
	n       int
	tile    maptile.Tile
	props   map[string]any
}

// zoomMarks fetches every tile of zoom z around the incidents keep selects
// (the tiles holding any, and a ring around them, where a merged centre may
// fall) with the filter query, and returns all their features on one plane
// and how many incidents they stand for.
func zoomMarks(t *testing.T, srv *testsrv.Server, z maptile.Zoom, query string, keep func(*incident.Incident) bool) ([]worldMark, int) {
	t.Helper()
	want := expectedTiles(z, keep)
	var x0, y0, x1, y1 int64 = math.MaxInt64, math.MaxInt64, -1, -1
	for tl := range want {
		x0, y0 = min(x0, int64(tl.X)), min(y0, int64(tl.Y))
		x1, y1 = max(x1, int64(tl.X)), max(y1, int64(tl.Y))
	}
	last := int64(1)<<z - 1
	var out []worldMark
	total := 0
	for x := max(0, x0-1); x <= min(last, x1+1); x++ {
		for y := max(0, y0-1); y <= min(last, y1+1); y++ {
			tl := maptile.New(uint32(x), uint32(y), z)
			layers, _ := getTile(t, srv, tilePath(tl, query))
			sum, _, _ := tileSum(t, layers)
			total += sum
			for _, f := range layers[0].Features {
				p := f.Geometry.(orb.Point)
				n := 1
				if f.Properties["cluster"] == true {
					n = int(f.Properties["count"].(float64))
				}
				out = append(out, worldMark{x: float64(x)*server.TileExtent + p[0], y: float64(y)*server.TileExtent + p[1],
					r: markRadius(f.Properties), n: n, tile: tl, props: f.Properties})
			}
		}
	}
	return out, total
}

// overlapping returns a pair of marks whose circles overlap (closer than
// their radii and the gap, less a unit of rounding), if any.
func overlapping(marks []worldMark) (a, b *worldMark, d float64) {
	gap := float64(server.ClusterGap) * server.TileExtent / server.TileCSSPixels
	cell := 2 * (float64(server.ClusterMaxRadius)*server.TileExtent/server.TileCSSPixels + gap)
	type key struct{ x, y int64 }
	grid := map[key][]int{}
	for i := range marks {
		k := key{int64(math.Floor(marks[i].x / cell)), int64(math.Floor(marks[i].y / cell))}
		grid[k] = append(grid[k], i)
	}
	for i := range marks {
		m := &marks[i]
		k := key{int64(math.Floor(m.x / cell)), int64(math.Floor(m.y / cell))}
		for dx := int64(-1); dx <= 1; dx++ {
			for dy := int64(-1); dy <= 1; dy++ {
				for _, j := range grid[key{k.x + dx, k.y + dy}] {
					if j <= i {
						continue
					}
					o := &marks[j]
					// positions are whole tile units: allow 1.5 units of rounding
					if d := math.Hypot(m.x-o.x, m.y-o.y); d+1.5 < m.r+o.r+gap {
						return m, o, d
					}
				}
			}
		}
	}
	return nil, nil, 0
}

// TestTileClustersDoNotOverlap: at every clustered zoom, the clusters of all
// tiles together (not only within each tile) have no two circles
// overlapping, so neither a grid nor a tile edge shows, and they count every
// incident exactly once — also with a filter.
func TestTileClustersDoNotOverlap(t *testing.T) {
	srv := startTileServer(t)
	keep := func(inc *incident.Incident) bool { return inc.Fatalities >= 1 }
	wantKept := 0
	for i := range tileIncs {
		if keep(&tileIncs[i]) {
			wantKept++
		}
	}
	for z := maptile.Zoom(1); z <= server.TileClusterBelowZoom; z++ {
		for _, c := range []struct {
			query string
			keep  func(*incident.Incident) bool
			want  int
		}{{"", nil, tileN}, {"min_fatalities=1", keep, wantKept}} {
			marks, total := zoomMarks(t, srv, z, c.query, c.keep)
			if total != c.want {
				t.Errorf("zoom %d %q: the tiles stand for %d incidents, want %d", z, c.query, total, c.want)
			}
			// From TileClusterBelowZoom a tile of few incidents draws them
			// one by one, where they may touch; the clustered tiles' marks
			// are laid out together.
			clustered := map[maptile.Tile]bool{}
			for _, m := range marks {
				if m.props["cluster"] == true {
					clustered[m.tile] = true
				}
			}
			if len(clustered) == 0 {
				t.Fatalf("zoom %d %q: no clusters", z, c.query)
			}
			kept := marks[:0]
			for _, m := range marks {
				if clustered[m.tile] {
					kept = append(kept, m)
				}
			}
			marks = kept
			if a, b, d := overlapping(marks); a != nil {
				t.Errorf("zoom %d %q: %v of tile %v and %v of tile %v are %.0f units apart; their circles (%.0f, %.0f) overlap",
					z, c.query, a.props, a.tile, b.props, b.tile, d, a.r, b.r)
			}
		}
	}
}
