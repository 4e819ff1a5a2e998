package store_test

import (
	"context"
	"incidentmap/incident"
	"testing"

	"github.com/paulmach/orb"

	"incidentmap/cql2"
	"incidentmap/internal/testsrv"
)

// BenchmarkCQL2Polygon counts the incidents in the Anbar governorate outline
// (165 vertices) among 200,000 synthetic ones: through the cell index, the
// outline's cell grid settling most points in SQL and the registered
// point-in-polygon function the rest (polygon), with the same index
// ranges but the box test only (box, the floor: no polygon test), and with
// the spatial test where it cannot bound the index (unbounded: OR-ed with a
// condition that matches nothing, so every row is read and tested). Counts
// are cached per data version, so each iteration asks a new question (a
// different fatality floor) to measure the query, not the cache.
func BenchmarkCQL2Polygon(b *testing.B) {
	st := testsrv.OpenSynthetic(b, 200_000)
	var anbar orb.Polygon
	for _, r := range testsrv.Regions(b).All() {
		if r.Name == "Anbar" {
			anbar = r.Shape[0]
		}
	}
	poly := cql2.Spatial{Op: "S_INTERSECTS", A: cql2.Property{Name: "geometry"}, B: cql2.Geometry{G: anbar}}
	box := anbar.Bound()
	ctx := context.Background()
	floor := func(i int) cql2.Expr {
		return cql2.Compare{Op: ">=", L: cql2.Property{Name: "fatalities"}, R: cql2.NumberLit{V: float64(-1 - i), Int: true}}
	}
	run := func(b *testing.B, f func(i int) incident.Filter) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := st.Count(ctx, f(i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	}
	b.Run("polygon", func(b *testing.B) {
		run(b, func(i int) incident.Filter { return incident.Filter{Expr: cql2.And{L: poly, R: floor(i)}} })
	})
	b.Run("box", func(b *testing.B) {
		run(b, func(i int) incident.Filter { return incident.Filter{BBox: &box, Expr: floor(i)} })
	})
	b.Run("unbounded", func(b *testing.B) {
		never := cql2.Compare{Op: "<", L: cql2.Property{Name: "id"}, R: cql2.NumberLit{V: 0, Int: true}}
		run(b, func(i int) incident.Filter {
			return incident.Filter{Expr: cql2.And{L: cql2.Or{L: poly, R: never}, R: floor(i)}}
		})
	})
}
