package server_test

import (
	"math"
	"testing"

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

// TestTileClustersDoNotOverlap: in every clustered tile no two circles
// overlap (no grid shows), and the counts still add up to the incidents
// the tile holds.
func TestTileClustersDoNotOverlap(t *testing.T) {
	srv := startTileServer(t)
	gap := float64(server.ClusterGap) * server.TileExtent / server.TileCSSPixels
	checked := 0
	for z := maptile.Zoom(2); z <= 9; z++ {
		want := expectedTiles(z, nil)
		for _, tile := range busiest(want, 4) {
			layers, _ := getTile(t, srv, tilePath(tile, ""))
			sum, clusters, _ := tileSum(t, layers)
			if sum != want[tile] {
				t.Errorf("tile %d/%d/%d: features stand for %d incidents, the tile holds %d", tile.Z, tile.X, tile.Y, sum, want[tile])
			}
			if clusters == 0 {
				continue // points only: nothing was clustered
			}
			checked++
			fs := layers[0].Features
			for i := range fs {
				a := fs[i].Geometry.(orb.Point)
				for j := i + 1; j < len(fs); j++ {
					b := fs[j].Geometry.(orb.Point)
					// positions are whole tile units: allow one unit of rounding
					if d := math.Hypot(a[0]-b[0], a[1]-b[1]); d+1.5 < markRadius(fs[i].Properties)+markRadius(fs[j].Properties)+gap {
						t.Fatalf("tile %d/%d/%d: marks %v (%v) and %v (%v) are %.0f units apart; their circles overlap",
							tile.Z, tile.X, tile.Y, a, fs[i].Properties, b, fs[j].Properties, d)
					}
				}
			}
		}
	}
	if checked < 8 {
		t.Fatalf("only %d clustered tiles checked", checked)
	}
}
