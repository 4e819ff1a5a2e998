package geo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"incidentmap/incident"
)

// Region is one administrative boundary: a governorate with its polygon.
type Region struct {
	ISO        string           // ISO 3166-2 code, e.g. IQ-AN; the feature id
	Name       string           // governorate, as ACLED spells it (the incidents' admin1)
	NameSource string           // the name the boundary source uses
	NameAr     string           // the Arabic name (Natural Earth's name_ar); "" when unknown
	Region     string           // grouping: Kurdistan Region or the governorate itself
	Shape      orb.MultiPolygon // lon/lat, exterior rings counter-clockwise
	Bound      orb.Bound
	// GeometryJSON is the GeoJSON geometry as it came, for serving it as is.
	GeometryJSON []byte
}

// Regions is a set of boundaries with an index that answers which one holds
// a point. It is read-only once built, so one value may serve every request.
type Regions struct {
	list []Region
	grid grid
}

// ParseRegions reads a GeoJSON FeatureCollection of Polygon or MultiPolygon
// features with properties iso_3166_2, name (optional name_source, region),
// as seed/regions.geojson holds them, and indexes them.
func ParseRegions(data []byte) (*Regions, error) {
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		return nil, fmt.Errorf("regions: %w", err)
	}
	rs := &Regions{}
	seen := map[string]bool{}
	for i, f := range fc.Features {
		r := Region{
			ISO:        f.Properties.MustString("iso_3166_2", ""),
			Name:       f.Properties.MustString("name", ""),
			NameSource: f.Properties.MustString("name_source", ""),
			NameAr:     f.Properties.MustString("name_ar", ""),
			Region:     f.Properties.MustString("region", ""),
		}
		if r.ISO == "" || r.Name == "" {
			return nil, fmt.Errorf("regions: feature %d lacks iso_3166_2 or name", i+1)
		}
		if seen[r.ISO] {
			return nil, fmt.Errorf("regions: feature %d repeats %s", i+1, r.ISO)
		}
		seen[r.ISO] = true
		r.Name = incident.CanonicalAdmin1(r.Name)
		if r.Region == "" {
			r.Region = incident.RegionOf(r.Name)
		}
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			r.Shape = orb.MultiPolygon{g}
		case orb.MultiPolygon:
			r.Shape = g
		default:
			return nil, fmt.Errorf("regions: %s has a %T geometry, want a polygon", r.ISO, f.Geometry)
		}
		for _, p := range r.Shape {
			for k, ring := range p {
				if len(ring) < 4 || !ring.Closed() {
					return nil, fmt.Errorf("regions: %s ring %d is not a closed ring of 4 or more points", r.ISO, k)
				}
			}
		}
		r.Bound = r.Shape.Bound()
		if r.GeometryJSON, err = geojson.NewGeometry(f.Geometry).MarshalJSON(); err != nil {
			return nil, fmt.Errorf("regions: %s geometry: %w", r.ISO, err)
		}
		rs.list = append(rs.list, r)
	}
	rs.grid = newGrid(rs.list, gridCell)
	return rs, nil
}

// All returns the regions in file order. The slice is shared: do not modify it.
func (rs *Regions) All() []Region { return rs.list }

// Locate returns the region holding p, or nil when none does. A point on a
// border shared by two regions goes to the first in file order.
func (rs *Regions) Locate(p orb.Point) *Region {
	i := rs.grid.locate(rs.list, p)
	if i < 0 {
		return nil
	}
	return &rs.list[i]
}

// gridCell is the grid's cell size in degrees (about 5 km): small enough
// that most cells lie inside one region and need no polygon test.
const gridCell = 0.05

// grid is a uniform lon/lat grid over the regions' bounds. A cell holds the
// region covering it whole, -1 for none, or -2-k for cells a border crosses,
// whose candidates are mixed[k].
type grid struct {
	bound      orb.Bound
	size       float64
	cols, rows int
	cells      []int32
	mixed      [][]int32
}

func newGrid(list []Region, size float64) grid {
	var g grid
	if len(list) == 0 {
		return g
	}
	g.bound = list[0].Bound
	for _, r := range list[1:] {
		g.bound = g.bound.Union(r.Bound)
	}
	g.size = size
	g.cols = int(math.Ceil((g.bound.Max[0]-g.bound.Min[0])/size)) + 1
	g.rows = int(math.Ceil((g.bound.Max[1]-g.bound.Min[1])/size)) + 1
	n := g.cols * g.rows
	// crossed[c] lists the regions with an edge through cell c.
	crossed := make([][]int32, n)
	for i, r := range list {
		for _, p := range r.Shape {
			for _, ring := range p {
				for k := 0; k+1 < len(ring); k++ {
					g.markEdge(crossed, int32(i), ring[k], ring[k+1])
				}
			}
		}
	}
	g.cells = make([]int32, n)
	for c := range g.cells {
		if len(crossed[c]) > 0 {
			g.cells[c] = int32(-2 - len(g.mixed))
			g.mixed = append(g.mixed, crossed[c])
			continue
		}
		// No border crosses the cell, so whichever region holds its centre
		// holds all of it.
		col, row := c%g.cols, c/g.cols
		centre := orb.Point{g.bound.Min[0] + (float64(col)+0.5)*size, g.bound.Min[1] + (float64(row)+0.5)*size}
		g.cells[c] = int32(scan(list, nil, centre))
	}
	return g
}

// markEdge adds region i to every cell the segment ab passes through.
func (g *grid) markEdge(crossed [][]int32, i int32, a, b orb.Point) {
	c0, r0 := g.cellOf(orb.Point{min(a[0], b[0]), min(a[1], b[1])})
	c1, r1 := g.cellOf(orb.Point{max(a[0], b[0]), max(a[1], b[1])})
	for row := r0; row <= r1; row++ {
		for col := c0; col <= c1; col++ {
			// Grow the cell a little so an edge along a cell side counts
			// for the cells on both sides.
			eps := g.size * 1e-9
			cell := orb.Bound{
				Min: orb.Point{g.bound.Min[0] + float64(col)*g.size - eps, g.bound.Min[1] + float64(row)*g.size - eps},
				Max: orb.Point{g.bound.Min[0] + float64(col+1)*g.size + eps, g.bound.Min[1] + float64(row+1)*g.size + eps},
			}
			if !segmentMeetsBox(a, b, cell) {
				continue
			}
			k := row*g.cols + col
			if l := crossed[k]; len(l) == 0 || l[len(l)-1] != i {
				crossed[k] = append(l, i)
			}
		}
	}
}

// cellOf returns the column and row of p, clamped to the grid.
func (g *grid) cellOf(p orb.Point) (int, int) {
	col := int((p[0] - g.bound.Min[0]) / g.size)
	row := int((p[1] - g.bound.Min[1]) / g.size)
	return max(0, min(col, g.cols-1)), max(0, min(row, g.rows-1))
}

func (g *grid) locate(list []Region, p orb.Point) int {
	if len(g.cells) == 0 || !g.bound.Contains(p) {
		return -1
	}
	col, row := g.cellOf(p)
	c := g.cells[row*g.cols+col]
	if c >= -1 {
		return int(c)
	}
	return scan(list, g.mixed[-2-c], p)
}

// scan tests the candidates (every region when nil), bounding box first.
func scan(list []Region, candidates []int32, p orb.Point) int {
	if candidates == nil {
		for i := range list {
			if list[i].Bound.Contains(p) && planar.MultiPolygonContains(list[i].Shape, p) {
				return i
			}
		}
		return -1
	}
	for _, i := range candidates {
		if list[i].Bound.Contains(p) && planar.MultiPolygonContains(list[i].Shape, p) {
			return int(i)
		}
	}
	return -1
}

// segmentMeetsBox reports whether segment ab touches box b (Liang–Barsky).
func segmentMeetsBox(a, b orb.Point, box orb.Bound) bool {
	t0, t1 := 0.0, 1.0
	d := orb.Point{b[0] - a[0], b[1] - a[1]}
	for axis := 0; axis < 2; axis++ {
		if d[axis] == 0 {
			if a[axis] < box.Min[axis] || a[axis] > box.Max[axis] {
				return false
			}
			continue
		}
		ta := (box.Min[axis] - a[axis]) / d[axis]
		tb := (box.Max[axis] - a[axis]) / d[axis]
		if ta > tb {
			ta, tb = tb, ta
		}
		t0, t1 = max(t0, ta), min(t1, tb)
		if t0 > t1 {
			return false
		}
	}
	return true
}
