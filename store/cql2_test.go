package store_test

import (
	"context"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"incidentmap/cql2"
	"incidentmap/crs"
	"incidentmap/geo"
	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/store"
	"incidentmap/synth"
)

// openSynthetic is a store holding n synthetic incidents.
func openSynthetic(t *testing.T, n int) (*store.SQLite, []incident.Incident) {
	t.Helper()
	st := testsrv.Open(t)
	incs := make([]incident.Incident, n)
	for i := range incs {
		incs[i] = synth.Incident(7, i+1)
	}
	if _, err := st.Upsert(context.Background(), incs); err != nil {
		t.Fatal(err)
	}
	return st, incs
}

// TestCQL2SpatialExact: spatial functions against a governorate outline
// select exactly the incidents a plain point-in-polygon test over every
// incident selects, and numberMatched says so — in CRS84 and with the
// outline given in UTM 38N (filter-crs), where the point is projected.
func TestCQL2SpatialExact(t *testing.T) {
	st, incs := openSynthetic(t, 4000)
	ctx := context.Background()
	var shape orb.MultiPolygon
	for _, r := range testsrv.Regions(t).All() {
		if r.Name == "Baghdad" || r.Name == "Anbar" {
			shape = append(shape, r.Shape...)
		}
	}
	if len(shape) == 0 {
		t.Fatal("no Baghdad/Anbar outline in the embedded regions")
	}
	utm := shape.Clone()
	for _, pg := range utm {
		for _, ring := range pg {
			for i, p := range ring {
				x, y := crs.UTM38N.Forward(p[0], p[1])
				ring[i] = orb.Point{x, y}
			}
		}
	}
	inside := func(mp orb.MultiPolygon, c *crs.CRS) map[int64]bool {
		out := map[int64]bool{}
		for i := range incs {
			x, y := c.Forward(incs[i].Lon, incs[i].Lat)
			if planar.MultiPolygonContains(mp, orb.Point{x, y}) {
				out[int64(i+1)] = true
			}
		}
		return out
	}
	cases := []struct {
		name string
		e    cql2.Expr
		want map[int64]bool
	}{
		{"intersects", cql2.Spatial{Op: "S_INTERSECTS", A: cql2.Property{Name: "geometry"}, B: cql2.Geometry{G: shape}}, inside(shape, crs.CRS84)},
		{"within, literal first as contains", cql2.Spatial{Op: "S_CONTAINS", A: cql2.Geometry{G: shape}, B: cql2.Property{Name: "geometry"}}, inside(shape, crs.CRS84)},
		{"intersects in UTM 38N", cql2.Spatial{Op: "S_INTERSECTS", A: cql2.Property{Name: "geometry"}, B: cql2.Geometry{G: utm, CRS: crs.UTM38N.URI}}, inside(utm, crs.UTM38N)},
	}
	disjoint := map[int64]bool{}
	for i := range incs {
		if !cases[0].want[int64(i+1)] {
			disjoint[int64(i+1)] = true
		}
	}
	cases = append(cases, struct {
		name string
		e    cql2.Expr
		want map[int64]bool
	}{"disjoint", cql2.Spatial{Op: "S_DISJOINT", A: cql2.Property{Name: "geometry"}, B: cql2.Geometry{G: shape}}, disjoint})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.want) < 100 || len(tc.want) > 3900 {
				t.Fatalf("reference selects %d of 4000: a poor test", len(tc.want))
			}
			got, matched := ids(t, st, incident.Filter{Expr: tc.e})
			if matched != int64(len(tc.want)) || len(got) != len(tc.want) {
				t.Fatalf("numberMatched %d, %d rows; want %d", matched, len(got), len(tc.want))
			}
			for _, id := range got {
				if !tc.want[id] {
					t.Fatalf("incident %d selected; the reference does not select it", id)
				}
			}
			n, err := st.Count(ctx, incident.Filter{Expr: tc.e, BBox: &orb.Bound{Min: orb.Point{38, 29}, Max: orb.Point{49, 38}}})
			if err != nil || n != int64(len(tc.want)) {
				t.Fatalf("Count with a bbox around Iraq: %d, %v; want %d", n, err, len(tc.want))
			}
		})
	}
}

// TestCQL2TemporalOnDates: temporal functions on event_date agree with
// comparisons of the date text, and a date against a date-time spans its day.
func TestCQL2TemporalOnDates(t *testing.T) {
	st, incs := openSynthetic(t, 1500)
	count := func(pred func(d string) bool) int64 {
		var n int64
		for _, inc := range incs {
			if pred(inc.EventDate) {
				n++
			}
		}
		return n
	}
	cases := []struct {
		filter string
		want   int64
	}{
		{"T_BEFORE(event_date, DATE('2021-06-01'))", count(func(d string) bool { return d < "2021-06-01" })},
		{"T_AFTER(event_date, DATE('2021-06-01'))", count(func(d string) bool { return d > "2021-06-01" })},
		{"T_INTERSECTS(event_date, INTERVAL('2021-01-01', '2021-03-31'))", count(func(d string) bool { return d >= "2021-01-01" && d <= "2021-03-31" })},
		{"T_DURING(event_date, INTERVAL('2021-01-01', '2021-03-31'))", count(func(d string) bool { return d > "2021-01-01" && d < "2021-03-31" })},
		{"T_DURING(event_date, INTERVAL('..', '2021-03-31'))", count(func(d string) bool { return d < "2021-03-31" })},
		{"T_EQUALS(event_date, DATE('2021-05-08'))", count(func(d string) bool { return d == "2021-05-08" })},
		{"T_INTERSECTS(event_date, TIMESTAMP('2021-05-08T13:00:00Z'))", count(func(d string) bool { return d == "2021-05-08" })},
		{"T_DISJOINT(event_date, INTERVAL('2021-01-01T00:00:00Z', '2021-12-31T23:59:59Z'))", count(func(d string) bool { return d < "2021-01-01" || d > "2021-12-31" })},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			e, err := cql2.Parse(tc.filter) // the store checks it as it compiles it
			if err != nil {
				t.Fatal(err)
			}
			n, err := st.Count(context.Background(), incident.Filter{Expr: e})
			if err != nil || n != tc.want {
				t.Fatalf("%d, %v; want %d", n, err, tc.want)
			}
		})
	}
}

// TestCQL2GridEdges: the grid that settles most points of a polygon filter
// in SQL (geo.Grid) agrees with locating each point in Go on the points
// where it could go wrong: the outline's vertices and points on its edges,
// and points on the grid's own lines, for the functions that tell interior,
// boundary and exterior apart.
func TestCQL2GridEdges(t *testing.T) {
	ctx := context.Background()
	var anbar orb.Polygon
	for _, r := range testsrv.Regions(t).All() {
		if r.Name == "Anbar" {
			anbar = r.Shape[0]
		}
	}
	holed := orb.Polygon{{{40, 32}, {42, 32}, {42, 34}, {40, 34}, {40, 32}}, {{40.5, 32.5}, {40.5, 33}, {41, 33}, {41, 32.5}, {40.5, 32.5}}}
	for name, shape := range map[string]orb.Polygon{"Anbar": anbar, "square with a hole": holed} {
		t.Run(name, func(t *testing.T) {
			st := testsrv.Open(t)
			g, ok := geo.Prepare(shape).Grid(1 << 16)
			if !ok {
				t.Fatal("no grid")
			}
			var pts []orb.Point
			for _, r := range shape {
				for i := 0; i+1 < len(r); i++ {
					a, c := r[i], r[i+1]
					pts = append(pts, a, orb.Point{(a[0] + c[0]) / 2, (a[1] + c[1]) / 2})
				}
			}
			b := g.Bound
			for i := 0; i <= g.W; i += 7 {
				pts = append(pts, orb.Point{b.Min[0] + float64(i)/g.KX(), (b.Min[1] + b.Max[1]) / 2})
			}
			for i := 0; i <= g.H; i += 7 {
				pts = append(pts, orb.Point{(b.Min[0] + b.Max[0]) / 2, b.Min[1] + float64(i)/g.KY()})
			}
			if len(pts) > 20000 {
				pts = pts[:20000]
			}
			incs := make([]incident.Incident, len(pts))
			for i, p := range pts {
				incs[i] = synth.Incident(11, i+1)
				incs[i].Lon, incs[i].Lat = incident.RoundCoord(p[0]), incident.RoundCoord(p[1])
				pts[i] = orb.Point{incs[i].Lon, incs[i].Lat}
			}
			if _, err := st.Upsert(ctx, incs); err != nil {
				t.Fatal(err)
			}
			prep := geo.Prepare(shape)
			for _, op := range []string{"S_INTERSECTS", "S_WITHIN", "S_TOUCHES", "S_DISJOINT"} {
				want := map[int64]bool{}
				for i, p := range pts {
					if r, _ := prep.Relate(op, p); r {
						want[int64(i+1)] = true
					}
				}
				got, matched := ids(t, st, incident.Filter{Expr: cql2.Spatial{Op: op, A: cql2.Property{Name: "geometry"}, B: cql2.Geometry{G: shape}}})
				if matched != int64(len(want)) || len(got) != len(want) {
					t.Fatalf("%s: numberMatched %d, %d rows; locating each point gives %d", op, matched, len(got), len(want))
				}
				for _, id := range got {
					if !want[id] {
						t.Fatalf("%s: incident %d at %v selected; Relate says no", op, id, pts[id-1])
					}
				}
			}
		})
	}
}
