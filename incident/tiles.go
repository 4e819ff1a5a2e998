package incident

import (
	"math"
	"slices"
)

// Tile pre-aggregates. A tile of zoom z clusters its incidents on the cells
// of zoom z+6 (TileGridSize = 64 a side); counting them one by one costs
// what lies under the tile, 8.7 s for the densest tile of zoom 6 at ten
// million incidents. Both engines therefore keep, per cell of every zoom
// TileAggMinLevel…TileAggMaxLevel and event type, the count, fatalities,
// sums of the coordinates (for the centroid) and of the ids (the id of a
// cell of one), exact on every write, and answer a tile whose filter selects
// by event type at most (TileTypes) from those rows: at most 4,096 cells ×
// types, whatever the data size.
const (
	// TileAggMinLevel is the coarsest cell zoom pre-aggregated: the grid of
	// zoom-0 tiles.
	TileAggMinLevel = 6
	// TileAggMaxLevel is the finest: the grid of zoom-12 tiles. Finer cells
	// hold about one incident each (no saving, as many rows again as
	// incidents) and deeper tiles few enough to read.
	TileAggMaxLevel = 18
	// TileCoordScale is the fixed point of the coordinate sums: a centroid is
	// the mean of trunc(coordinate × TileCoordScale), in whole numbers, so a
	// sum kept by adding and subtracting equals one computed afresh to the
	// last bit (float sums depend on their order).
	TileCoordScale = 10000000
)

// TileTypes says whether pre-aggregates by event type answer f over a tile
// (f's bbox aside: a tile is its own box): ok when f restricts nothing but
// the event type (event_types, or event_type equality). types are the event
// types f selects, nil for all; a non-nil empty list selects nothing.
func TileTypes(f Filter) (types []string, ok bool) {
	if !f.Interval.IsZero() || len(f.SubEventTypes) > 0 || len(f.Regions) > 0 || len(f.Actors) > 0 ||
		f.MinFatalities != nil || f.MaxFatalities != nil || f.IDs != nil || f.Expr != nil ||
		len(f.Text) > 0 || f.UpdatedSince != "" {
		return nil, false
	}
	if len(f.EventTypes) > 0 {
		types = slices.Clone(f.EventTypes)
	}
	for _, e := range f.Equals {
		v, isText := e.Value.(string)
		if e.Field != "event_type" || !isText {
			return nil, false
		}
		if types == nil {
			types = []string{v}
			continue
		}
		if slices.Contains(types, v) {
			types = []string{v}
		} else {
			types = []string{}
		}
	}
	if types != nil {
		slices.Sort(types)
		types = slices.Compact(types)
	}
	return types, true
}

// TileCentroid is the centroid of a cell from its sums of fixed-point
// coordinates and its count, the same arithmetic for both engines and both
// ways of counting.
func TileCentroid(lonSum, latSum, n int64) (lon, lat float64) {
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	return float64(lonSum) / float64(n) / TileCoordScale, float64(latSum) / float64(n) / TileCoordScale
}
