package server

import (
	"math"
	"slices"

	"incidentmap/store"
)

// The store clusters a tile on a square grid (64×64 cells, 4 screen pixels
// each on a 256-pixel tile): drawn as circles sized by their counts, the
// cells overlap and show the grid. declutter merges them into clusters
// whose circles do not overlap, as the page draws them:
//
//	cluster of n ≥ 2:  radius min(28, 9 + 4·log10 n) CSS pixels
//	single incident:   radius 4, 5, 6 or 7 by fatalities (0, ≥1, ≥3, ≥10)
//
// on a tile of TileCSSPixels, with ClusterGap pixels between any two.
const (
	// TileCSSPixels is the size the map page draws a tile at.
	TileCSSPixels = 256
	// ClusterMaxRadius is the largest cluster circle, in CSS pixels.
	ClusterMaxRadius = 28
	// ClusterGap is the least space between two marks, in CSS pixels.
	ClusterGap = 2
)

// clusterRadius is the radius of the mark of n incidents with fat
// fatalities in CSS pixels (see above).
func clusterRadius(n, fat int) float64 {
	if n <= 1 {
		switch {
		case fat >= 10:
			return 7
		case fat >= 3:
			return 6
		case fat >= 1:
			return 5
		}
		return 4
	}
	return math.Min(ClusterMaxRadius, 9+4*math.Log10(float64(n)))
}

// mark is a cluster or single incident being laid out, at x, y in tile
// units (0 to TileExtent).
type mark struct {
	x, y   float64
	n, fat int
	single *store.TilePoint // the incident, while the mark holds only it
	key    int64            // the grid cell it started as, for a stable order
}

// radius is the mark's radius in tile units.
func (m *mark) radius() float64 {
	return clusterRadius(m.n, m.fat) * TileExtent / TileCSSPixels
}

// absorb merges o into m: counts add up, the position is the weighted
// centroid, and m is a cluster from now on.
func (m *mark) absorb(o *mark) {
	n := float64(m.n + o.n)
	m.x = (m.x*float64(m.n) + o.x*float64(o.n)) / n
	m.y = (m.y*float64(m.n) + o.y*float64(o.n)) / n
	m.n += o.n
	m.fat += o.fat
	m.single = nil
}

// declutter merges marks whose circles would overlap (closer than the sum of
// their radii and the gap) until none do, and returns what is left: the
// counts still add up to the input's. Bigger marks absorb their neighbours
// first, so the big clusters stay where their incidents are densest. Each
// pass looks for overlaps through a hash of cells as wide as the largest
// possible reach, so a pass costs about the number of marks; a pass that
// merges nothing has checked every pair at the final positions.
func declutter(marks []mark) []mark {
	gap := float64(ClusterGap) * TileExtent / TileCSSPixels
	reach := 2*float64(ClusterMaxRadius)*TileExtent/TileCSSPixels + gap
	for {
		slices.SortFunc(marks, func(a, b mark) int {
			if a.n != b.n {
				return b.n - a.n
			}
			if a.key != b.key {
				if a.key < b.key {
					return -1
				}
				return 1
			}
			return 0
		})
		type cellKey struct{ cx, cy int }
		cellOf := func(m *mark) cellKey { return cellKey{int(math.Floor(m.x / reach)), int(math.Floor(m.y / reach))} }
		hash := make(map[cellKey][]int, len(marks))
		for i := range marks {
			k := cellOf(&marks[i])
			hash[k] = append(hash[k], i)
		}
		dead := make([]bool, len(marks))
		merged := false
		for i := range marks {
			if dead[i] {
				continue
			}
			m := &marks[i]
			k := cellOf(m)
			for dx := -1; dx <= 1; dx++ {
				for dy := -1; dy <= 1; dy++ {
					for _, j := range hash[cellKey{k.cx + dx, k.cy + dy}] {
						if j == i || dead[j] {
							continue
						}
						o := &marks[j]
						if math.Hypot(m.x-o.x, m.y-o.y) < m.radius()+o.radius()+gap {
							m.absorb(o)
							dead[j], merged = true, true
						}
					}
				}
			}
		}
		if !merged {
			return marks
		}
		kept := marks[:0]
		for i := range marks {
			if !dead[i] {
				kept = append(kept, marks[i])
			}
		}
		marks = kept
	}
}
