package geo

import (
	"math"
	"slices"

	"github.com/paulmach/orb"

	"incidentmap/incident"
)

// CellZoom is the Web Mercator zoom level of the spatial key: the world is
// 2^24 cells a side, about 2.4 m at the equator, finer than any incident's
// location is known.
const CellZoom = 24

// mercatorMaxLat is the latitude where Web Mercator's square world ends.
const mercatorMaxLat = 85.0511287798066

// CellRange is an inclusive range of cell keys.
type CellRange struct{ Lo, Hi int64 }

// CellXY is the column and row of the CellZoom Web Mercator tile holding a
// point (row 0 at the top, as in map tiles). Points beyond Web Mercator's
// latitude limit clamp to the first or last row, and longitude 180 to the
// last column, so every valid point has a cell.
func CellXY(lon, lat float64) (x, y uint32) {
	fx, fy := MercatorXY(lon, lat, 1<<CellZoom)
	return clampCell(fx), clampCell(fy)
}

// MercatorXY projects a point to Web Mercator in units of the tiles of a
// zoom level with n tiles a side (row 0 at the top): the integer parts are
// the tile, the fractions the position in it. Latitudes beyond Web
// Mercator's limit clamp to its edge.
func MercatorXY(lon, lat, n float64) (x, y float64) {
	lat = math.Max(-mercatorMaxLat, math.Min(mercatorMaxLat, lat))
	s := math.Sin(lat * math.Pi / 180)
	return (lon + 180) / 360 * n, (0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)) * n
}

func clampCell(f float64) uint32 {
	const last = 1<<CellZoom - 1
	switch {
	case !(f >= 0): // also NaN
		return 0
	case f >= last:
		return last
	}
	return uint32(f)
}

// Cell is the spatial key of a point: the Morton (Z-order) code of its cell,
// x and y bits interleaved. Every Web Mercator tile of zoom ≤ CellZoom then
// holds exactly one contiguous range of keys (TileCells), and a key shifted
// right by 2·k bits is the key of the enclosing cell k zoom levels up — which
// is what lets SQL answer bbox queries from a B-tree index and cluster a tile
// with GROUP BY.
func Cell(lon, lat float64) int64 {
	x, y := CellXY(lon, lat)
	return morton(x, y)
}

// morton interleaves the bits of x (even positions) and y (odd positions).
func morton(x, y uint32) int64 {
	return int64(spreadBits(x) | spreadBits(y)<<1)
}

// spreadBits puts bit i of v at bit 2i.
func spreadBits(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

// TileCells is the range of cell keys inside Web Mercator tile z/x/y (z ≤
// CellZoom).
func TileCells(z, x, y uint32) CellRange {
	shift := 2 * (CellZoom - z)
	lo := morton(x, y) << shift
	return CellRange{Lo: lo, Hi: lo + (int64(1) << shift) - 1}
}

// TileAggGrid is where the tile pre-aggregates (incident.TileAggMinLevel…
// TileAggMaxLevel) hold the clustering grid of tile z/x/y: the cells of
// level z+6 and the range of their keys at that level; ok is false when
// that level is not kept.
func TileAggGrid(z, x, y uint32) (level int, keys CellRange, ok bool) {
	level = int(z) + 6
	if level > incident.TileAggMaxLevel || level > CellZoom {
		return 0, CellRange{}, false
	}
	r := TileCells(z, x, y)
	shift := 2 * (CellZoom - level)
	return level, CellRange{Lo: r.Lo >> shift, Hi: r.Hi >> shift}, true
}

// TileAggKept says whether the pre-aggregates keep the clustering grid of
// tiles of zoom z.
func TileAggKept(z uint32) bool {
	_, _, ok := TileAggGrid(z, 0, 0)
	return ok
}

// TileAggCell is the one pre-aggregated cell that is tile z/x/y itself (its
// level is z); ok is false when level z is not kept.
func TileAggCell(z, x, y uint32) (level int, key int64, ok bool) {
	level = int(z)
	if level < incident.TileAggMinLevel || level > incident.TileAggMaxLevel {
		return 0, 0, false
	}
	return level, TileCells(z, x, y).Lo >> (2 * (CellZoom - level)), true
}

// CellRanges returns at most max sorted, disjoint key ranges that together
// hold every cell a point inside b can have. The cover is a quadtree walk
// that splits the tiles b cuts through until the budget of ranges would run
// out, so it may hold cells outside b: callers still compare coordinates.
func CellRanges(b orb.Bound, max int) []CellRange {
	if max < 1 {
		max = 1
	}
	x0, y0 := CellXY(b.Min[0], b.Max[1]) // the top left: rows grow southwards
	x1, y1 := CellXY(b.Max[0], b.Min[1])
	type tile struct{ x, y uint32 }
	var done []CellRange
	level := []tile{{0, 0}} // the partly covered tiles of zoom z
	for z := uint32(0); len(level) > 0; z++ {
		shift := CellZoom - z
		var next []tile
		for _, t := range level {
			tx0, ty0 := t.x<<shift, t.y<<shift
			tx1, ty1 := tx0+(1<<shift)-1, ty0+(1<<shift)-1
			if tx1 < x0 || tx0 > x1 || ty1 < y0 || ty0 > y1 {
				continue // outside
			}
			if (tx0 >= x0 && tx1 <= x1 && ty0 >= y0 && ty1 <= y1) || z == CellZoom {
				done = append(done, TileCells(z, t.x, t.y))
				continue
			}
			next = append(next, tile{2 * t.x, 2 * t.y}, tile{2*t.x + 1, 2 * t.y},
				tile{2 * t.x, 2*t.y + 1}, tile{2*t.x + 1, 2*t.y + 1})
		}
		// Splitting once more yields up to four ranges a cut tile: when that
		// could pass the budget, the cut tiles are taken whole.
		if len(done)+len(next) > max {
			for i := 0; i < len(next); i += 4 {
				p := next[i]
				done = append(done, TileCells(z, p.x/2, p.y/2))
			}
			break
		}
		level = next
	}
	return mergeRanges(done)
}

// mergeRanges sorts ranges and joins those that touch.
func mergeRanges(rs []CellRange) []CellRange {
	slices.SortFunc(rs, func(a, b CellRange) int {
		switch {
		case a.Lo < b.Lo:
			return -1
		case a.Lo > b.Lo:
			return 1
		}
		return 0
	})
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && r.Lo <= out[n-1].Hi+1 {
			out[n-1].Hi = max(out[n-1].Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return out
}
