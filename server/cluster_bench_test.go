package server

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkDeclutter lays out a full grid (4,096 cells, the most a tile
// has) of counts drawn like a dense tile's, against the naive all-pairs
// loop it replaces in spirit (one pass, no hash).
func BenchmarkDeclutter(b *testing.B) {
	r := rand.New(rand.NewPCG(14, 14))
	grid := make([]mark, 0, 4096)
	for i := range 4096 {
		n := 1 + int(r.ExpFloat64()*50)
		grid = append(grid, mark{x: float64(i%64)*64 + 32, y: float64(i/64)*64 + 32, n: n, fat: n / 3, key: int64(i)})
	}
	b.Run("hash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			marks := append([]mark(nil), grid...)
			out := declutter(marks)
			total := 0
			for _, m := range out {
				total += m.n
			}
			if len(out) >= len(grid) || total == 0 {
				b.Fatalf("%d marks of %d", len(out), len(grid))
			}
		}
	})
	b.Run("naive-one-pass", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			marks := append([]mark(nil), grid...)
			n := 0
			for i := range marks {
				for j := i + 1; j < len(marks); j++ {
					if dx, dy := marks[i].x-marks[j].x, marks[i].y-marks[j].y; dx*dx+dy*dy < 4*marks[i].radius()*marks[j].radius() {
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
