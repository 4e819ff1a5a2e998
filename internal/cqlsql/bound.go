package cqlsql

import (
	"math"

	"github.com/paulmach/orb"

	"incidentmap/cql2"
	"incidentmap/geo"
	"incidentmap/incident"
)

// Bound is the box every match of f lies in: the bbox, narrowed by the
// spatial functions among the top-level conditions of the CQL2 filter (see
// cqlBound); nil when nothing bounds the points. The exact tests stay in the
// conditions: the bound only chooses the cell-index ranges to read. Pages of
// a bounded filter come in spatial order, cell key first, in both engines.
func Bound(f incident.Filter) *orb.Bound {
	b := f.BBox
	if f.Expr == nil {
		return b
	}
	cb, ok := cqlBound(f.Expr)
	switch {
	case !ok:
		return b
	case b != nil && !geo.CrossesAntimeridian(*b):
		cb = intersectBounds(*b, cb)
	}
	if cb.Min[0] > cb.Max[0] || cb.Min[1] > cb.Max[1] {
		// Disjoint boxes: one empty cell range, which holds no point.
		return &orb.Bound{Min: orb.Point{-180, 90}, Max: orb.Point{-180, 90}}
	}
	return &cb
}

// cqlBound is the box every match of e lies in, from the spatial functions
// among its top-level AND conditions; ok is false when e does not bound the
// points.
func cqlBound(e cql2.Expr) (orb.Bound, bool) {
	switch e := e.(type) {
	case cql2.And:
		l, lok := cqlBound(e.L)
		r, rok := cqlBound(e.R)
		switch {
		case lok && rok:
			return intersectBounds(l, r), true
		case lok:
			return l, true
		}
		return r, rok
	case cql2.Spatial:
		op, lit, ok := SpatialLiteral(e)
		if !ok || !needsClosure(op) {
			return orb.Bound{}, false
		}
		return LonLatBound(lit), true
	}
	return orb.Bound{}, false
}

// intersectBounds is the common part of two boxes; an empty intersection is
// an inverted box, which matches nothing.
func intersectBounds(a, b orb.Bound) orb.Bound {
	return orb.Bound{
		Min: orb.Point{math.Max(a.Min[0], b.Min[0]), math.Max(a.Min[1], b.Min[1])},
		Max: orb.Point{math.Min(a.Max[0], b.Max[0]), math.Min(a.Max[1], b.Max[1])},
	}
}

// needsClosure reports whether op (feature op literal) holds only of points
// in the literal's closure, so the literal's box bounds the matches.
func needsClosure(op string) bool {
	switch op {
	case "S_INTERSECTS", "S_WITHIN", "S_TOUCHES", "S_EQUALS", "S_CONTAINS":
		return true
	}
	return false
}
