package geo

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

func TestCellKnownValues(t *testing.T) {
	// (0, 0) is the top left corner of the south-east quarter at every zoom:
	// x = y = 2^23, whose interleaving is 0b11 followed by 46 zero bits.
	if got, want := Cell(0, 0), int64(3)<<46; got != want {
		t.Errorf("Cell(0, 0) = %#x, want %#x", got, want)
	}
	if got := Cell(-180, 90); got != 0 {
		t.Errorf("Cell(-180, 90) = %#x, want 0 (top left)", got)
	}
	if got, want := Cell(180, -90), int64(1)<<48-1; got != want {
		t.Errorf("Cell(180, -90) = %#x, want %#x (bottom right, clamped)", got, want)
	}
	// Baghdad airport: its zoom-10 tile is 637/411 (maptile.At agrees), so the key shifted down
	// 2·14 bits is that tile's Morton code.
	x, y := CellXY(44.2346, 33.2625)
	if x>>14 != 637 || y>>14 != 411 {
		t.Errorf("zoom-10 tile of Baghdad airport = %d/%d, want 637/411", x>>14, y>>14)
	}
}

func TestCellsOfTiles(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		lon, lat := rnd.Float64()*360-180, rnd.Float64()*170-85
		z := maptile.Zoom(rnd.IntN(CellZoom + 1))
		tile := maptile.At(orb.Point{lon, lat}, z)
		r := TileCells(uint32(z), tile.X, tile.Y)
		c := Cell(lon, lat)
		// maptile and Cell round the same projection independently; allow the
		// point to be a hair over a tile edge only at the deepest zooms.
		if (c < r.Lo || c > r.Hi) && z < 20 {
			t.Fatalf("Cell(%v, %v) = %#x is outside tile %d/%d/%d %#x–%#x", lon, lat, c, z, tile.X, tile.Y, r.Lo, r.Hi)
		}
	}
}

func TestCellRangesCoverTheBound(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		w, h := rnd.Float64()*rnd.Float64()*40, rnd.Float64()*rnd.Float64()*40
		minLon, minLat := rnd.Float64()*(360-w)-180, rnd.Float64()*(180-h)-90
		b := orb.Bound{Min: orb.Point{minLon, minLat}, Max: orb.Point{minLon + w, minLat + h}}
		max := 1 + rnd.IntN(40)
		rs := CellRanges(b, max)
		if len(rs) == 0 || len(rs) > max {
			t.Fatalf("bound %v: %d ranges, want 1 to %d", b, len(rs), max)
		}
		for j := 1; j < len(rs); j++ {
			if rs[j].Lo <= rs[j-1].Hi+1 || rs[j].Lo > rs[j].Hi {
				t.Fatalf("bound %v: ranges %v not sorted, disjoint and apart", b, rs)
			}
		}
		for range 200 {
			p := orb.Point{b.Min[0] + rnd.Float64()*w, b.Min[1] + rnd.Float64()*h}
			if i%7 == 0 { // the corners and edges too
				p = orb.Point{b.Min[0], b.Max[1]}
			}
			c := Cell(p[0], p[1])
			found := false
			for _, r := range rs {
				if c >= r.Lo && c <= r.Hi {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("bound %v: point %v (cell %#x) is in no range of %v", b, p, c, rs)
			}
		}
	}
}

func TestCellRangesAreTight(t *testing.T) {
	// Central Baghdad, the bench's dense bbox: 32 ranges must not cover more
	// than a few times the bbox's own cells.
	b := orb.Bound{Min: orb.Point{44.30, 33.25}, Max: orb.Point{44.45, 33.40}}
	x0, y0 := CellXY(b.Min[0], b.Max[1])
	x1, y1 := CellXY(b.Max[0], b.Min[1])
	want := float64(x1-x0+1) * float64(y1-y0+1)
	var got float64
	for _, r := range CellRanges(b, 32) {
		got += float64(r.Hi - r.Lo + 1)
	}
	if got > 4*want {
		t.Errorf("32 ranges cover %.0f cells, want at most 4 × the bbox's %.0f", got, want)
	}
}
