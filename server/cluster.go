package server

import (
	"cmp"
	"context"
	"fmt"
	"incidentmap/incident"
	"math"
	"slices"
	"sync"

	"github.com/paulmach/orb/maptile"

	"incidentmap/geo"
	"incidentmap/internal/vcache"
)

// The store groups a tile's incidents on a square grid (64×64 cells, 4
// screen pixels each on a 256-pixel tile): drawn as circles sized by their
// counts, the cells would overlap and show the grid. layoutClusters turns
// them into clusters whose circles do not overlap, as the page draws them:
//
//	cluster of n ≥ 2:  radius min(28, 9 + 4·log10 n) CSS pixels
//	single incident:   radius 4, 5, 6 or 7 by fatalities (0, ≥1, ≥3, ≥10)
//
// with ClusterGap pixels between any two — across tile edges too, and with
// every incident counted in exactly one tile's clusters.
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

// mark is a grid cell, and then the cluster or single incident laid out
// from it, at x, y in CSS pixels of the whole world at the tile's zoom (tile
// x spans 256·x to 256·(x+1)), so the cells of neighbouring tiles share one
// plane.
type mark struct {
	x, y   float64
	n, fat int
	single *incident.TilePoint // the incident, while the mark holds only it
	key    int64               // the grid cell's global key, for a stable order
}

// radius is the mark's radius in CSS pixels.
func (m *mark) radius() float64 { return clusterRadius(m.n, m.fat) }

// layoutReach is how close, in CSS pixels, a cell must be to a leader for it
// to take the cell: two of the largest circles and the gap, so two leaders
// are never closer than that and their circles never overlap. It is the
// same for every leader, so whether a leader takes a cell does not depend on
// what else it took — which is what keeps the layout local.
const layoutReach = 2*ClusterMaxRadius + ClusterGap

// layoutBlock is the side, in CSS pixels, of the blocks of the global grid
// layoutClusters works through; wider than layoutReach, so that blocks of
// one phase (every other block in both directions) never reach each other.
const layoutBlock = 64

// layoutMargin is how many tiles around a tile layoutClusters must see to
// lay out the tile's clusters exactly as its neighbours do: a block's
// leaders depend on blocks up to three blocks away (one more a phase), and
// its members on leaders one block further: four blocks, one tile.
const layoutMargin = 1

// layoutClusters lays out the grid cells of a region as clusters whose
// circles do not overlap, and returns them. Every cluster has a leader (the
// cell it grew from) and sits at the leader's centroid — where its incidents
// are densest —, holding every cell it took.
//
// The plane is cut into layoutBlock-pixel blocks of a global grid, taken in
// four phases by the parity of their column and row (blocks of one phase are
// a block apart, so they cannot reach each other). In its phase, a block's
// cells are visited biggest first (ties by key): a cell that no leader has
// taken becomes a leader and takes every untaken cell (in its block or a
// later one) within layoutReach. A later leader was out of that reach, so no
// two circles overlap.
//
// The result for a cell depends only on cells at most four blocks (one
// tile, layoutMargin) away, and not on where the region ends beyond that:
// a tile laid out with its eight neighbours gets exactly the clusters the
// whole map would, keeps those whose leader is inside it, and so agrees with
// every neighbour on the clusters near their common edge. Each incident is
// then counted once, in the tile of its cluster's leader.
func layoutClusters(cells []mark) []mark {
	type bk struct{ x, y int64 }
	blockOf := func(m *mark) bk {
		return bk{int64(math.Floor(m.x / layoutBlock)), int64(math.Floor(m.y / layoutBlock))}
	}
	// Phase, then block (row, column), then biggest first, then key: the
	// order of visits, the same in every region that holds the cells. The
	// first three packed in one number per cell before sorting: computing
	// them in the comparison was three quarters of a dense tile's layout.
	type order struct {
		block uint64 // phase, row, column
		n     int
		key   int64
		i     int
	}
	ord := make([]order, len(cells))
	for i := range cells {
		b := blockOf(&cells[i])
		// World pixels are ≥ 0 and < 2^30 blocks a side up to zoom 22.
		ph := uint64(b.x&1) + 2*uint64(b.y&1)
		ord[i] = order{ph<<62 | uint64(b.y&(1<<31-1))<<31 | uint64(b.x&(1<<31-1)), cells[i].n, cells[i].key, i}
	}
	slices.SortFunc(ord, func(a, b order) int {
		if a.block != b.block {
			if a.block < b.block {
				return -1
			}
			return 1
		}
		if a.n != b.n {
			return b.n - a.n
		}
		return cmp.Compare(a.key, b.key)
	})
	sorted := make([]mark, len(cells))
	for j, o := range ord {
		sorted[j] = cells[o.i]
	}
	cells = sorted
	hash := make(map[bk][]int, len(cells)/4+1)
	for i := range cells {
		b := blockOf(&cells[i])
		hash[b] = append(hash[b], i)
	}
	taken := make([]bool, len(cells))
	var out []mark
	for i := range cells {
		if taken[i] {
			continue
		}
		taken[i] = true
		leader := cells[i]
		b := blockOf(&leader)
		for dy := int64(-1); dy <= 1; dy++ {
			for dx := int64(-1); dx <= 1; dx++ {
				for _, j := range hash[bk{b.x + dx, b.y + dy}] {
					if taken[j] {
						continue
					}
					o := &cells[j]
					if math.Hypot(o.x-leader.x, o.y-leader.y) < layoutReach {
						taken[j] = true
						leader.n += o.n
						leader.fat += o.fat
						leader.single = nil
					}
				}
			}
		}
		out = append(out, leader)
	}
	return out
}

// clusterTile lays out the clusters tile t draws (layoutClusters): the grid
// cells of t and its eight neighbours, of which it keeps the clusters whose
// leader lies in t.
//
// From zoom TileClusterBelowZoom a tile of at most TileMaxPoints incidents
// draws them one by one. The cells of such a neighbour are its own, so a
// clustered tile leaves them out.
func (h *handlers) clusterTile(ctx context.Context, t maptile.Tile, g gridQuery) ([]mark, error) {
	side := int64(1) << t.Z
	var cells []mark
	for dy := int64(-layoutMargin); dy <= layoutMargin; dy++ {
		for dx := int64(-layoutMargin); dx <= layoutMargin; dx++ {
			x, y := int64(t.X)+dx, int64(t.Y)+dy
			if x < 0 || y < 0 || x >= side || y >= side {
				continue
			}
			n := maptile.New(uint32(x), uint32(y), t.Z)
			if n != t && t.Z >= TileClusterBelowZoom {
				// A neighbour the engine can count without reading it.
				count, known, err := h.store.TileCount(ctx, g.f, n)
				if err != nil {
					return nil, err
				}
				if known && count <= TileMaxPoints {
					continue // it draws its incidents one by one
				}
			}
			grid, err := h.tileGrid(ctx, n, g)
			if err != nil {
				return nil, err
			}
			if n != t && t.Z >= TileClusterBelowZoom && grid.count <= TileMaxPoints {
				continue // it draws its incidents one by one
			}
			cells = append(cells, grid.cells...)
		}
	}
	var kept []mark
	var singles []int64
	ox, oy := float64(t.X)*TileCSSPixels, float64(t.Y)*TileCSSPixels
	for _, m := range layoutClusters(cells) {
		if m.x >= ox && m.x < ox+TileCSSPixels && m.y >= oy && m.y < oy+TileCSSPixels {
			kept = append(kept, m)
			if m.single != nil {
				singles = append(singles, m.single.ID)
			}
		}
	}
	return h.readSingles(ctx, kept, singles)
}

// readSingles reads the point, date and type of the single incidents ids
// among marks (the grids name them by id only). Leaders are layoutReach
// apart, so a tile keeps a few dozen marks at most, while its nine grids
// hold thousands of cells of one: reading only these is what keeps a dense
// tile's layout cheap. An incident deleted since its grid was read is left
// out; one changed since is drawn as it is now.
func (h *handlers) readSingles(ctx context.Context, marks []mark, ids []int64) ([]mark, error) {
	if len(ids) == 0 {
		return marks, nil
	}
	points, err := h.store.TilePointsByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("single incidents: %w", err)
	}
	byID := make(map[int64]*incident.TilePoint, len(points))
	for i := range points {
		byID[points[i].ID] = &points[i]
	}
	out := marks[:0]
	for _, m := range marks {
		if m.single != nil {
			if m.single = byID[m.single.ID]; m.single == nil {
				continue
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// gridQuery is the filter of a tile request, with what names it in the grid
// cache.
type gridQuery struct {
	f       incident.Filter
	key     string // the filter's canonical query string
	version int64  // the data version the request reads
	cache   bool   // whether version is known, so the cache may be used
}

// tileGridCells is one tile's grid as marks, and how many incidents it holds.
type tileGridCells struct {
	cells []mark
	count int
}

// tileGrid returns the grid cells of tile t as marks on the world plane,
// from the cache when another tile's layout read them already (each tile's
// grid is read by nine layouts).
func (h *handlers) tileGrid(ctx context.Context, t maptile.Tile, g gridQuery) (tileGridCells, error) {
	key := fmt.Sprintf("%d/%d/%d?%s", t.Z, t.X, t.Y, g.key)
	if !g.cache {
		return h.readTileGrid(ctx, t, g.f)
	}
	return h.grids.get(g.version, key, func() (tileGridCells, error) { return h.readTileGrid(ctx, t, g.f) })
}

// readTileGrid reads tile t's grid from the store.
func (h *handlers) readTileGrid(ctx context.Context, t maptile.Tile, f incident.Filter) (tileGridCells, error) {
	cells, err := h.store.TileGrid(ctx, f, t)
	if err != nil {
		return tileGridCells{}, fmt.Errorf("tile grid %d/%d/%d: %w", t.Z, t.X, t.Y, err)
	}
	side := float64(uint64(1) << t.Z)
	out := tileGridCells{cells: make([]mark, len(cells))}
	for i := range cells {
		cl := &cells[i]
		wx, wy := geo.MercatorXY(cl.Lon, cl.Lat, side)
		out.cells[i] = mark{x: wx * TileCSSPixels, y: wy * TileCSSPixels, n: cl.Count, fat: cl.Fatalities, single: cl.Single, key: cl.Key}
		out.count += cl.Count
	}
	return out, nil
}

// gridCache keeps tiles' grid cells for one data version, up to a byte
// budget, like the tile cache keeps tiles, and reads each grid once when
// several layouts ask for it at the same time.
type gridCache struct {
	cells    *vcache.Cache[tileGridCells]
	mu       sync.Mutex
	version  int64
	inflight map[string]*gridCall
}

// gridCall is a grid being read; done closes when it is.
type gridCall struct {
	done chan struct{}
	res  tileGridCells
	err  error
}

// get returns the grid named key of data version v, reading it with read
// unless it is cached or being read.
func (c *gridCache) get(v int64, key string, read func() (tileGridCells, error)) (tileGridCells, error) {
	if g, ok := c.cells.Get(v, key); ok {
		return g, nil
	}
	c.mu.Lock()
	if c.version != v || c.inflight == nil {
		if v < c.version {
			c.mu.Unlock()
			return read() // an older snapshot than the cache holds
		}
		c.version, c.inflight = v, map[string]*gridCall{}
	}
	if call, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		<-call.done
		return call.res, call.err
	}
	call := &gridCall{done: make(chan struct{})}
	c.inflight[key] = call
	c.mu.Unlock()

	call.res, call.err = read()
	if call.err == nil {
		c.cells.Put(v, key, call.res, gridCellsBytes(call.res))
	}
	close(call.done)

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version == v && c.inflight[key] == call {
		delete(c.inflight, key)
	}
	return call.res, call.err
}
