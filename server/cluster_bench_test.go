package server

import (
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkLayoutClusters lays out what the densest tile reads: the full
// grids (4,096 cells each, 4 pixels apart) of it and its eight neighbours,
// counts drawn like a dense city's; against the naive all-pairs overlap scan
// of the same cells (the work a layout without the block hash would do in
// one pass).
func BenchmarkLayoutClusters(b *testing.B) {
	r := rand.New(rand.NewPCG(14, 14))
	grid := make([]mark, 0, 9*4096)
	for i := range 9 * 4096 {
		n := 1 + int(r.ExpFloat64()*50)
		x, y := float64(i%192)*4+r.Float64()*4, float64(i/192)*4+r.Float64()*4
		grid = append(grid, mark{x: x, y: y, n: n, fat: n / 3, key: int64(i)})
	}
	b.Run("blocks", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := layoutClusters(append([]mark(nil), grid...))
			if len(out) >= len(grid) || len(out) == 0 {
				b.Fatalf("%d clusters of %d cells", len(out), len(grid))
			}
		}
	})
	b.Run("naive-all-pairs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for i := range grid {
				for j := i + 1; j < len(grid); j++ {
					if math.Hypot(grid[i].x-grid[j].x, grid[i].y-grid[j].y) < 2*ClusterMaxRadius+ClusterGap {
						n++
					}
				}
			}
			if n == 0 {
				b.Fatal("no overlap found")
			}
		}
	})
}
