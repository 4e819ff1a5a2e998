package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// Location is where a point lies relative to a geometry, in the sense of the
// DE-9IM model that CQL2's spatial functions are defined by.
type Location int

// The three places a point can be.
const (
	Exterior Location = iota
	Boundary
	Interior
)

// Prepared is a geometry made ready to locate many points: its bound (to
// reject most points at once) and its edges grouped by horizontal bands, so
// that a test reads the few edges near the point instead of all of them.
// A governorate outline of thousands of vertices then costs tens of edge
// tests per point.
type Prepared struct {
	Geom  orb.Geometry
	Bound orb.Bound
	// polygons (Polygon, MultiPolygon, Bound) as rings of edges in bands
	polys []preparedPolygon
	// lines: each component with its boundary points (mod-2 rule)
	lines    []orb.LineString
	lineEnds map[orb.Point]int
	points   []orb.Point
	parts    []*Prepared // members of a collection
}

type preparedPolygon struct {
	rings []bandedRing // [0] the shell, then the holes
}

type bandedRing struct {
	ring  orb.Ring
	minY  float64
	step  float64
	bands [][]int32 // indexes of edges (ring[i], ring[i+1]) crossing each band
}

// Prepare readies g for Locate.
func Prepare(g orb.Geometry) *Prepared {
	p := &Prepared{Geom: g, Bound: g.Bound()}
	switch g := g.(type) {
	case orb.Point:
		p.points = []orb.Point{g}
	case orb.MultiPoint:
		p.points = g
	case orb.LineString:
		p.addLines(g)
	case orb.MultiLineString:
		p.addLines(g...)
	case orb.Polygon:
		p.polys = []preparedPolygon{preparePolygon(g)}
	case orb.MultiPolygon:
		for _, pg := range g {
			p.polys = append(p.polys, preparePolygon(pg))
		}
	case orb.Bound:
		p.polys = []preparedPolygon{preparePolygon(g.ToPolygon())}
	case orb.Ring:
		p.polys = []preparedPolygon{preparePolygon(orb.Polygon{g})}
	case orb.Collection:
		for _, m := range g {
			p.parts = append(p.parts, Prepare(m))
		}
	}
	return p
}

func (p *Prepared) addLines(ls ...orb.LineString) {
	p.lineEnds = map[orb.Point]int{}
	for _, l := range ls {
		p.lines = append(p.lines, l)
		if len(l) > 1 && l[0] != l[len(l)-1] {
			p.lineEnds[l[0]]++
			p.lineEnds[l[len(l)-1]]++
		}
	}
}

func preparePolygon(pg orb.Polygon) preparedPolygon {
	out := preparedPolygon{}
	for _, r := range pg {
		out.rings = append(out.rings, bandRing(r))
	}
	return out
}

// bandRing groups a ring's edges into about one band per 4 edges.
func bandRing(r orb.Ring) bandedRing {
	b := r.Bound()
	n := max(1, min(4096, len(r)/4))
	br := bandedRing{ring: r, minY: b.Min[1], step: (b.Max[1] - b.Min[1]) / float64(n)}
	br.bands = make([][]int32, n)
	for i := 0; i+1 < len(r); i++ {
		lo, hi := br.band(math.Min(r[i][1], r[i+1][1])), br.band(math.Max(r[i][1], r[i+1][1]))
		for k := lo; k <= hi; k++ {
			br.bands[k] = append(br.bands[k], int32(i))
		}
	}
	return br
}

func (br *bandedRing) band(y float64) int {
	if br.step <= 0 {
		return 0
	}
	k := int((y - br.minY) / br.step)
	return max(0, min(len(br.bands)-1, k))
}

// locate is where pt lies relative to the ring as a filled area.
func (br *bandedRing) locate(pt orb.Point) Location {
	b := br.band(pt[1])
	inside := false
	for _, i := range br.bands[b] {
		a, c := br.ring[i], br.ring[i+1]
		if onSegmentEps(pt, a, c) {
			return Boundary
		}
		// Crossing number: the edge straddles the point's row (half-open, so
		// a vertex on the row counts once) and crosses it right of the point.
		if (a[1] > pt[1]) != (c[1] > pt[1]) {
			x := a[0] + (pt[1]-a[1])*(c[0]-a[0])/(c[1]-a[1])
			if x > pt[0] {
				inside = !inside
			}
		}
	}
	if inside {
		return Interior
	}
	return Exterior
}

// onSegmentEps reports whether pt lies on the segment a–c (within rounding).
func onSegmentEps(pt, a, c orb.Point) bool {
	if pt[0] < math.Min(a[0], c[0]) || pt[0] > math.Max(a[0], c[0]) ||
		pt[1] < math.Min(a[1], c[1]) || pt[1] > math.Max(a[1], c[1]) {
		return false
	}
	cross := (c[0]-a[0])*(pt[1]-a[1]) - (c[1]-a[1])*(pt[0]-a[0])
	scale := math.Max(math.Abs(c[0]-a[0]), math.Abs(c[1]-a[1]))
	return math.Abs(cross) <= 1e-12*math.Max(scale, 1)*math.Max(scale, 1)
}

// Locate is where pt lies relative to the prepared geometry: in its
// interior, on its boundary, or outside. For a collection it is the best
// place over the members (used for intersection only).
func (p *Prepared) Locate(pt orb.Point) Location {
	if pt[0] < p.Bound.Min[0] || pt[0] > p.Bound.Max[0] || pt[1] < p.Bound.Min[1] || pt[1] > p.Bound.Max[1] {
		return Exterior
	}
	best := Exterior
	for _, q := range p.points {
		if q == pt {
			return Interior // a point has no boundary
		}
	}
	for _, l := range p.lines {
		for i := 0; i+1 < len(l); i++ {
			if onSegmentEps(pt, l[i], l[i+1]) {
				if p.lineEnds[pt]%2 == 1 {
					return Boundary
				}
				return Interior
			}
		}
	}
	for _, pg := range p.polys {
		switch loc := pg.locate(pt); loc {
		case Interior:
			return Interior
		case Boundary:
			best = Boundary
		}
	}
	for _, m := range p.parts {
		best = max(best, m.Locate(pt))
	}
	return best
}

func (pg preparedPolygon) locate(pt orb.Point) Location {
	loc := pg.rings[0].locate(pt)
	if loc != Interior {
		return loc
	}
	for _, h := range pg.rings[1:] {
		switch h.locate(pt) {
		case Interior:
			return Exterior
		case Boundary:
			return Boundary
		}
	}
	return Interior
}

// OnlyPoint reports whether every position of the geometry is pt (a Point
// or MultiPoint of pt alone): what S_EQUALS and S_CONTAINS need of a
// geometry compared with a point feature.
func (p *Prepared) OnlyPoint(pt orb.Point) bool {
	if len(p.points) == 0 || len(p.lines) > 0 || len(p.polys) > 0 || len(p.parts) > 0 {
		return false
	}
	for _, q := range p.points {
		if q != pt {
			return false
		}
	}
	return true
}

// Relate answers a CQL2 spatial function (S_INTERSECTS, …) between a point
// feature pt (first argument) and the prepared geometry (second), following
// DE-9IM for a point: it intersects what holds it anywhere, is within what
// holds it in its interior, touches what holds it on the boundary only,
// equals and contains only a geometry that is itself that point, and
// neither overlaps nor crosses anything (a point has no part outside
// itself). ok is false for an unknown name.
func (p *Prepared) Relate(op string, pt orb.Point) (result, ok bool) {
	switch op {
	case "S_INTERSECTS":
		return p.Locate(pt) != Exterior, true
	case "S_DISJOINT":
		return p.Locate(pt) == Exterior, true
	case "S_WITHIN":
		return p.Locate(pt) == Interior, true
	case "S_TOUCHES":
		return p.Locate(pt) == Boundary, true
	case "S_EQUALS", "S_CONTAINS":
		return p.OnlyPoint(pt), true
	case "S_OVERLAPS", "S_CROSSES":
		return false, true
	}
	return false, false
}

// Converse is the spatial function that holds of (b, a) when op holds of
// (a, b): S_WITHIN and S_CONTAINS swap, the others are symmetric.
func Converse(op string) string {
	switch op {
	case "S_WITHIN":
		return "S_CONTAINS"
	case "S_CONTAINS":
		return "S_WITHIN"
	}
	return op
}
