package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// Mixed is the class of a grid cell that the geometry's boundary passes
// through (or near): its points must be located one by one.
const Mixed Location = 3

// Grid classifies the cells of a regular W×H grid over a polygon's bound:
// a cell the boundary keeps away from lies wholly in the interior or wholly
// in the exterior, so every point in it is answered by its cell alone; only
// the points of Mixed cells need Locate. It lets SQL answer most points of a
// governorate filter by arithmetic on their coordinates instead of a call
// into Go per point.
//
// Cell (cx, cy) holds the longitudes Bound.Min[0] + [cx, cx+1)·width/W and
// the latitudes Bound.Min[1] + [cy, cy+1)·height/H (row 0 at the south); a
// point on the bound's east or north edge is in the last column or row.
// Classes are decided with a margin around each cell far wider than the
// rounding of that arithmetic, so a point the rounding puts in a
// neighbouring cell is still answered right.
type Grid struct {
	Bound   orb.Bound
	W, H    int
	Classes []Location // W·H classes, row by row from the south: Interior, Exterior or Mixed
}

// Cell is the index in Classes of the cell holding pt, which must lie in the
// grid's bound; it computes exactly what the SQL of a grid test computes.
func (g *Grid) Cell(pt orb.Point) int {
	cx := min(int((pt[0]-g.Bound.Min[0])*g.KX()), g.W-1)
	cy := min(int((pt[1]-g.Bound.Min[1])*g.KY()), g.H-1)
	return cy*g.W + cx
}

// KX is the number of columns per degree of longitude.
func (g *Grid) KX() float64 { return float64(g.W) / (g.Bound.Max[0] - g.Bound.Min[0]) }

// KY is the number of rows per degree of latitude.
func (g *Grid) KY() float64 { return float64(g.H) / (g.Bound.Max[1] - g.Bound.Min[1]) }

// Grid classifies about maxCells cells over the bound of a prepared
// polygon, polygons or box (ok false for any other geometry, whose points
// are not settled by an area, and for a bound without width or height).
// It reads each edge once per row it crosses and locates one point per run
// of unmixed cells, so a grid of 65,536 cells over an outline of thousands
// of vertices takes about a millisecond.
func (p *Prepared) Grid(maxCells int) (g *Grid, ok bool) {
	if len(p.polys) == 0 || len(p.points) > 0 || len(p.lines) > 0 || len(p.parts) > 0 {
		return nil, false
	}
	b := p.Bound
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	if !(w > 0 && h > 0) || math.IsInf(w, 0) || math.IsInf(h, 0) || maxCells < 1 {
		return nil, false
	}
	cols := int(math.Round(math.Sqrt(float64(maxCells) * w / h)))
	cols = max(1, min(maxCells, cols))
	rows := max(1, maxCells/cols)
	g = &Grid{Bound: b, W: cols, H: rows, Classes: make([]Location, cols*rows)}
	cw, ch := w/float64(cols), h/float64(rows)
	// The margin: cells this near an edge are Mixed. A millionth of a cell,
	// and never under 1e-9° (0.1 mm), is far beyond the rounding of the
	// cell arithmetic and of Locate's boundary test.
	mx, my := math.Max(cw*1e-6, 1e-9), math.Max(ch*1e-6, 1e-9)
	col := func(x float64) int { return max(0, min(cols-1, int(math.Floor((x-b.Min[0])/cw)))) }
	row := func(y float64) int { return max(0, min(rows-1, int(math.Floor((y-b.Min[1])/ch)))) }
	for _, pg := range p.polys {
		for _, r := range pg.rings {
			ring := r.ring
			for i := 0; i+1 < len(ring); i++ {
				a, c := ring[i], ring[i+1]
				for cy := row(math.Min(a[1], c[1]) - my); cy <= row(math.Max(a[1], c[1])+my); cy++ {
					lo := b.Min[1] + float64(cy)*ch - my
					x0, x1, meets := xSpan(a, c, lo, lo+ch+2*my)
					if !meets {
						continue
					}
					for cx := col(x0 - mx); cx <= col(x1+mx); cx++ {
						g.Classes[cy*cols+cx] = Mixed
					}
				}
			}
		}
	}
	// Between Mixed cells, a run of cells holds no edge, so it lies on one
	// side of the boundary: the side of its first cell's centre.
	for cy := range rows {
		y := b.Min[1] + (float64(cy)+0.5)*ch
		cls := Location(-1)
		for cx := range cols {
			i := cy*cols + cx
			if g.Classes[i] == Mixed {
				cls = -1
				continue
			}
			if cls < 0 {
				cls = p.Locate(orb.Point{b.Min[0] + (float64(cx)+0.5)*cw, y})
				if cls == Boundary { // not expected away from the edges; be safe
					cls = Mixed
				}
			}
			g.Classes[i] = cls
		}
	}
	return g, true
}

// xSpan is the range of longitudes of the part of segment a–c whose
// latitudes lie in [ylo, yhi]; meets is false when there is none.
func xSpan(a, c orb.Point, ylo, yhi float64) (x0, x1 float64, meets bool) {
	if a[1] == c[1] {
		if a[1] < ylo || a[1] > yhi {
			return 0, 0, false
		}
		return math.Min(a[0], c[0]), math.Max(a[0], c[0]), true
	}
	t0, t1 := (ylo-a[1])/(c[1]-a[1]), (yhi-a[1])/(c[1]-a[1])
	if t0 > t1 {
		t0, t1 = t1, t0
	}
	t0, t1 = math.Max(t0, 0), math.Min(t1, 1)
	if t0 > t1 {
		return 0, 0, false
	}
	xa, xb := a[0]+t0*(c[0]-a[0]), a[0]+t1*(c[0]-a[0])
	return math.Min(xa, xb), math.Max(xa, xb), true
}

// RelateLocation answers Relate for every point of one Location of an areal
// geometry (a Grid's Interior or Exterior cells): for a point against a
// polygon, the spatial functions depend on where the point lies and nothing
// else. ok is false for an unknown name.
func RelateLocation(op string, loc Location) (result, ok bool) {
	switch op {
	case "S_INTERSECTS":
		return loc != Exterior, true
	case "S_DISJOINT":
		return loc == Exterior, true
	case "S_WITHIN":
		return loc == Interior, true
	case "S_TOUCHES":
		return loc == Boundary, true
	case "S_EQUALS", "S_CONTAINS", "S_OVERLAPS", "S_CROSSES":
		return false, true // a point never equals nor contains an area
	}
	return false, false
}
