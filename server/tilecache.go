package server

import (
	"unsafe"

	"incidentmap/incident"
	"incidentmap/internal/vcache"
)

// Default byte budgets of the server's caches (Config.TileCacheBytes,
// PageCacheBytes, GridCacheBytes).
const (
	// DefaultTileCacheBytes holds some hundred encoded tiles: the z0–z6
	// warm-up over Iraq and the tiles map viewers share.
	DefaultTileCacheBytes = 4 << 20
	// DefaultPageCacheBytes holds items pages asked again: some dozen
	// pages of 100 features, or five of 1,000.
	DefaultPageCacheBytes = 4 << 20
	// DefaultGridCacheBytes holds the cluster grids that neighbouring
	// tiles' layouts read again (each tile's grid is read by nine), about
	// 80,000 cells.
	DefaultGridCacheBytes = 4 << 20
)

// byteCache keeps encoded bodies — vector tiles, items pages — of the
// current data version, up to a byte budget. A low-zoom tile of a large
// database aggregates hundreds of thousands of incidents, and every map
// viewer asks for the same few tiles and pages until the data changes; any
// change (the version is the change log's, whoever writes) empties it, and
// the least recently used bodies make room for new ones.
type byteCache struct{ c *vcache.Cache[[]byte] }

func newByteCache(limit int64) byteCache { return byteCache{vcache.New[[]byte](limit)} }

func (t byteCache) get(version int64, key string) ([]byte, bool) { return t.c.Get(version, key) }

func (t byteCache) put(version int64, key string, b []byte) {
	t.c.Put(version, key, b, int64(cap(b)))
}

// gridCellsBytes is what a tile's grid holds on the heap: its marks and the
// incidents of single-incident cells.
func gridCellsBytes(g tileGridCells) int64 {
	n := int64(cap(g.cells)) * int64(unsafe.Sizeof(mark{}))
	for i := range g.cells {
		if p := g.cells[i].single; p != nil {
			n += int64(unsafe.Sizeof(incident.TilePoint{})) + vcache.StringBytes(p.EventDate) + vcache.StringBytes(p.EventType)
		}
	}
	return n
}
