package server

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLayoutClustersIsLocal: laying out a tile from its own and its eight
// neighbours' cells gives exactly the clusters the layout of the whole
// region has in that tile, for dense, sparse and steeply graded cells — the
// property that lets every tile agree with its neighbours.
func TestLayoutClustersIsLocal(t *testing.T) {
	const tiles = 6 // a region of 6×6 tiles
	for _, c := range []struct {
		name  string
		count func(r *rand.Rand, x, y float64) int // incidents of the cell at x, y (0 for none)
	}{
		{"dense", func(r *rand.Rand, x, y float64) int { return 1 + r.IntN(40) }},
		{"sparse", func(r *rand.Rand, x, y float64) int {
			if r.IntN(30) == 0 {
				return 1 + r.IntN(3)
			}
			return 0
		}},
		{"graded", func(r *rand.Rand, x, y float64) int {
			// one peak in the middle: counts fall with the distance, so
			// biggest-first orders form long chains across tiles
			d := math.Hypot(x-tiles*128, y-tiles*128)
			if n := int(4000 / (1 + d/8)); n > 0 && r.IntN(2) == 0 {
				return n
			}
			return 0
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 14))
			byTile := map[[2]int][]mark{}
			var all []mark
			for gy := range tiles * 64 {
				for gx := range tiles * 64 {
					x, y := float64(gx)*4+r.Float64()*4, float64(gy)*4+r.Float64()*4
					n := c.count(r, x, y)
					if n == 0 {
						continue
					}
					m := mark{x: x, y: y, n: n, fat: n % 7, key: int64(gy*tiles*64 + gx)}
					all = append(all, m)
					k := [2]int{gx / 64, gy / 64}
					byTile[k] = append(byTile[k], m)
				}
			}
			inTile := func(m mark, tx, ty int) bool {
				return int(math.Floor(m.x/TileCSSPixels)) == tx && int(math.Floor(m.y/TileCSSPixels)) == ty
			}
			global := layoutClusters(append([]mark(nil), all...))
			total := 0
			for ty := range tiles {
				for tx := range tiles {
					var window []mark
					for dy := -1; dy <= 1; dy++ {
						for dx := -1; dx <= 1; dx++ {
							window = append(window, byTile[[2]int{tx + dx, ty + dy}]...)
						}
					}
					want := map[int64]mark{}
					for _, m := range global {
						if inTile(m, tx, ty) {
							want[m.key] = m
						}
					}
					got := 0
					for _, m := range layoutClusters(window) {
						if !inTile(m, tx, ty) {
							continue
						}
						got++
						total += m.n
						if w, ok := want[m.key]; !ok || w.n != m.n || w.fat != m.fat || w.x != m.x || w.y != m.y {
							t.Fatalf("tile %d,%d: cluster %+v; the whole region's layout has %+v (found %v)", tx, ty, m, w, ok)
						}
					}
					if got != len(want) {
						t.Fatalf("tile %d,%d: %d clusters, the whole region's layout has %d", tx, ty, got, len(want))
					}
				}
			}
			n := 0
			for _, m := range all {
				n += m.n
			}
			if total != n {
				t.Fatalf("the tiles' clusters hold %d incidents, the cells %d", total, n)
			}
			// and the whole layout has no two circles overlapping
			for i := range global {
				for j := i + 1; j < len(global); j++ {
					a, b := &global[i], &global[j]
					if d := math.Hypot(a.x-b.x, a.y-b.y); d < a.radius()+b.radius()+ClusterGap {
						t.Fatalf("clusters %+v and %+v are %.1f px apart", *a, *b, d)
					}
				}
			}
			t.Logf("%d cells, %d clusters", len(all), len(global))
		})
	}
}
