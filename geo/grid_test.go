package geo_test

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"incidentmap/geo"
	"incidentmap/seed"
)

// TestGridAgreesWithLocate: on every governorate outline (and one with a
// hole), a cell the grid settles gives every point in it Locate's answer:
// random points, every vertex, points on the edges, and points on the
// grid's own lines, where the cell arithmetic rounds.
func TestGridAgreesWithLocate(t *testing.T) {
	rs, err := geo.ParseRegions(seed.RegionsGeoJSON)
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string]orb.Geometry{
		"square with hole": orb.Polygon{{{0, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}, {{0.5, 0.5}, {0.5, 1}, {1, 1}, {1, 0.5}, {0.5, 0.5}}},
		"box":              orb.Bound{Min: orb.Point{40, 30}, Max: orb.Point{41, 30.5}},
	}
	for _, reg := range rs.All() {
		shapes[reg.Name] = reg.Shape
	}
	r := rand.New(rand.NewPCG(5, 6))
	for name, shape := range shapes {
		p := geo.Prepare(shape)
		for _, cells := range []int{1, 64, 4096, 65536} {
			g, ok := p.Grid(cells)
			if !ok {
				t.Fatalf("%s: no grid", name)
			}
			if g.W*g.H > cells || g.W*g.H < cells/2 {
				t.Fatalf("%s: %d×%d cells for %d", name, g.W, g.H, cells)
			}
			b := g.Bound
			var pts []orb.Point
			for range 3000 {
				pts = append(pts, orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])})
			}
			eachEdge(shape, func(a, c orb.Point) {
				f := r.Float64()
				pts = append(pts, a, orb.Point{a[0] + f*(c[0]-a[0]), a[1] + f*(c[1]-a[1])})
			})
			for i := 0; i <= g.W; i++ {
				pts = append(pts, orb.Point{b.Min[0] + float64(i)/g.KX(), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])})
			}
			for i := 0; i <= g.H; i++ {
				pts = append(pts, orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + float64(i)/g.KY()})
			}
			settled := 0
			for _, pt := range pts {
				if !b.Contains(pt) {
					continue
				}
				cls := g.Classes[g.Cell(pt)]
				if cls == geo.Mixed {
					continue
				}
				settled++
				if loc := p.Locate(pt); loc != cls {
					t.Fatalf("%s, %d cells: point %v is in a cell classed %v; Locate says %v", name, cells, pt, cls, loc)
				}
			}
			if cells == 65536 && settled < len(pts)/2 {
				t.Errorf("%s: the grid settles only %d of %d points", name, settled, len(pts))
			}
		}
	}
}

// TestGridRefusesNonAreas: points and lines are not settled by cells.
func TestGridRefusesNonAreas(t *testing.T) {
	for _, g := range []orb.Geometry{orb.Point{1, 2}, orb.LineString{{0, 0}, {1, 1}},
		orb.Collection{orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}}} {
		if _, ok := geo.Prepare(g).Grid(100); ok {
			t.Errorf("%T: a grid", g)
		}
	}
}

// TestRelateLocation agrees with Relate on a polygon's interior, boundary
// and exterior points.
func TestRelateLocation(t *testing.T) {
	sq := orb.Polygon{{{0, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}}
	p := geo.Prepare(sq)
	pts := map[geo.Location]orb.Point{geo.Interior: {1, 1}, geo.Boundary: {0, 1}, geo.Exterior: {3, 3}}
	for _, op := range []string{"S_INTERSECTS", "S_DISJOINT", "S_WITHIN", "S_TOUCHES", "S_EQUALS", "S_CONTAINS", "S_OVERLAPS", "S_CROSSES"} {
		for loc, pt := range pts {
			want, _ := p.Relate(op, pt)
			if got, ok := geo.RelateLocation(op, loc); !ok || got != want {
				t.Errorf("%s at %v: %v, Relate says %v", op, loc, got, want)
			}
		}
	}
}

// eachEdge calls fn with every edge of a polygonal geometry.
func eachEdge(g orb.Geometry, fn func(a, c orb.Point)) {
	var polys []orb.Polygon
	switch g := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{g}
	case orb.MultiPolygon:
		polys = g
	case orb.Bound:
		polys = []orb.Polygon{g.ToPolygon()}
	}
	for _, pg := range polys {
		for _, r := range pg {
			for i := 0; i+1 < len(r); i++ {
				fn(r[i], r[i+1])
			}
		}
	}
}

// BenchmarkGrid prepares the Anbar outline and classifies its 65,536-cell
// grid, what a polygon filter costs before its query runs.
func BenchmarkGrid(b *testing.B) {
	rs, err := geo.ParseRegions(seed.RegionsGeoJSON)
	if err != nil {
		b.Fatal(err)
	}
	for _, reg := range rs.All() {
		if reg.Name != "Anbar" {
			continue
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := geo.Prepare(reg.Shape).Grid(1 << 16); !ok {
				b.Fatal("no grid")
			}
		}
	}
}
