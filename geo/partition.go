package geo

import (
	"fmt"

	"github.com/paulmach/orb"
)

// CheckPartition reports the first reason why polys is not a clean partition
// of an area into pieces whose union has outlineRings outer rings and no hole:
// a ring not closed or too short, a ring not wound as RFC 7946 recommends
// (exterior counter-clockwise, holes clockwise), two segments that cross or
// touch other than at a shared vertex (self-intersections included), an edge
// drawn twice in the same direction (overlap), or borders that do not meet
// (a gap shows as an extra, clockwise outline ring; a piece lying on another
// as an extra counter-clockwise one).
func CheckPartition(polys []orb.MultiPolygon, outlineRings int) error {
	type dirEdge struct{ a, b orb.Point }
	seen := map[dirEdge]int{} // directed edge → polygon index
	type seg struct {
		a, b orb.Point
		box  orb.Bound
		who  int
	}
	var segs []seg
	for i, mp := range polys {
		for j, p := range mp {
			for k, r := range p {
				where := fmt.Sprintf("piece %d polygon %d ring %d", i, j, k)
				if len(r) < 4 {
					return fmt.Errorf("%s has %d points; a ring needs at least 4", where, len(r))
				}
				if !r.Closed() {
					return fmt.Errorf("%s is not closed", where)
				}
				want := orb.CCW
				if k > 0 {
					want = orb.CW
				}
				if o := r.Orientation(); o != want {
					return fmt.Errorf("%s is wound %v, want %v", where, o, want)
				}
				for n := 0; n+1 < len(r); n++ {
					e := dirEdge{r[n], r[n+1]}
					if e.a == e.b {
						return fmt.Errorf("%s repeats point %v", where, e.a)
					}
					if prev, dup := seen[e]; dup {
						return fmt.Errorf("%s draws edge %v→%v that piece %d draws in the same direction: overlap", where, e.a, e.b, prev)
					}
					seen[e] = i
					segs = append(segs, seg{e.a, e.b, orb.MultiPoint{e.a, e.b}.Bound(), i})
				}
			}
		}
	}
	for i := range segs {
		for j := i + 1; j < len(segs); j++ {
			s, u := segs[i], segs[j]
			if !s.box.Intersects(u.box) {
				continue
			}
			if SegmentsConflict(s.a, s.b, u.a, u.b) {
				return fmt.Errorf("segment %v–%v (piece %d) meets %v–%v (piece %d) other than at a shared vertex",
					s.a, s.b, s.who, u.a, u.b, u.who)
			}
		}
	}
	// The outline: edges no neighbour draws back. Shared borders cancel out.
	next := map[orb.Point][]orb.Point{}
	count := 0
	for e := range seen {
		if _, shared := seen[dirEdge{e.b, e.a}]; shared {
			continue
		}
		next[e.a] = append(next[e.a], e.b)
		count++
	}
	var cw, ccw int
	for count > 0 {
		var start orb.Point
		for p, n := range next {
			if len(n) > 0 {
				start = p
				break
			}
		}
		ring := orb.Ring{start}
		for p := start; ; {
			n := next[p]
			if len(n) == 0 {
				return fmt.Errorf("outline breaks off at %v", p)
			}
			q := n[len(n)-1]
			next[p] = n[:len(n)-1]
			count--
			ring = append(ring, q)
			p = q
			if p == start {
				break
			}
		}
		if ring.Orientation() == orb.CW {
			cw++
		} else {
			ccw++
		}
	}
	if cw > 0 || ccw != outlineRings {
		return fmt.Errorf("the union has %d outer rings and %d holes; want %d and none (gaps or overlaps between neighbours)",
			ccw, cw, outlineRings)
	}
	return nil
}

// SegmentsConflict reports whether segments ab and cd meet anywhere except
// where they are the same segment (either direction) or share only an end
// point at which neither continues along the other.
func SegmentsConflict(a, b, c, d orb.Point) bool {
	if (a == c && b == d) || (a == d && b == c) {
		return false
	}
	d1 := cross(c, d, a)
	d2 := cross(c, d, b)
	d3 := cross(a, b, c)
	d4 := cross(a, b, d)
	if d1 == 0 && d2 == 0 {
		// Collinear: they conflict when they overlap in more than a point.
		return collinearOverlap(a, b, c, d)
	}
	shared := a == c || a == d || b == c || b == d
	if shared {
		// Not collinear and sharing an end: they meet only there.
		return false
	}
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	// An end point lying on the other segment: a touch.
	return (d1 == 0 && onSegment(c, d, a)) || (d2 == 0 && onSegment(c, d, b)) ||
		(d3 == 0 && onSegment(a, b, c)) || (d4 == 0 && onSegment(a, b, d))
}

// cross is the z of (b-a)×(p-a): >0 when p is left of ab.
func cross(a, b, p orb.Point) float64 {
	return (b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])
}

// onSegment reports whether p, collinear with ab, lies within its box.
func onSegment(a, b, p orb.Point) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) &&
		min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

// collinearOverlap reports whether collinear segments share more than one point.
func collinearOverlap(a, b, c, d orb.Point) bool {
	axis := 0
	if abs(b[0]-a[0]) < abs(b[1]-a[1]) {
		axis = 1
	}
	lo1, hi1 := min(a[axis], b[axis]), max(a[axis], b[axis])
	lo2, hi2 := min(c[axis], d[axis]), max(c[axis], d[axis])
	return min(hi1, hi2) > max(lo1, lo2)
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
