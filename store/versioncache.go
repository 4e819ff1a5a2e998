package store

import (
	"context"
	"database/sql"
	"fmt"
	"unsafe"

	"incidentmap/incident"
	"incidentmap/internal/vcache"
)

// Default byte budgets of the store's caches (see WithCacheBytes).
const (
	// DefaultCountCacheBytes holds the counts, where pages start
	// (spatialpage.go), extents and counts per region: some thousands of counts of filters of ordinary length, or a
	// few dozen region lists (73 KB each with their boundaries).
	DefaultCountCacheBytes = 1 << 20
	// DefaultAggregateCacheBytes holds grouped rows of aggregations: the
	// timeline's day × sub-event type rows of a few filter states (a few
	// hundred KB to some MB each) and the groups asked of them.
	DefaultAggregateCacheBytes = 2 << 20
)

// WithCacheBytes sets the bytes the store's caches may hold: counts (with
// extents and counts per region) and aggregations. Zero keeps the default;
// a negative size caches nothing.
func WithCacheBytes(counts, aggregates int64) Option {
	return func(s *SQLite) {
		if counts != 0 {
			s.countCache.SetLimit(counts)
		}
		if aggregates != 0 {
			s.aggCache.SetLimit(aggregates)
		}
	}
}

// CacheStats says what each of the store's caches holds (bytes as
// accounted, their limit, entries), for the server's metrics.
func (s *SQLite) CacheStats() map[string]vcache.Stats {
	return map[string]vcache.Stats{"counts": s.countCache.Stats(), "aggregates": s.aggCache.Stats()}
}

// versionCache is one kind of value — counts, the extent, counts per
// region, grouped rows — kept in one of the store's byte-bounded caches for
// the data version it was computed at. Over a million rows each costs tens
// to hundreds of milliseconds, and map pages and GIS clients ask for the
// same ones again and again between changes; any change (by anyone: the
// version is the change log's) empties the cache.
type versionCache[V any] struct {
	c    *vcache.Cache[any]
	kind string        // prefix of the keys: kinds sharing a cache do not collide
	size func(V) int64 // heap bytes a value holds
}

func newVersionCache[V any](c *vcache.Cache[any], kind string, size func(V) int64) versionCache[V] {
	return versionCache[V]{c: c, kind: kind + "\x00", size: size}
}

func (c *versionCache[V]) get(version int64, key string) (V, bool) {
	v, ok := c.c.Get(version, c.kind+key)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (c *versionCache[V]) put(version int64, key string, v V) {
	c.c.Put(version, c.kind+key, v, c.size(v))
}

// update sets key's value to fn of its value (the zero value when it has
// none), under the cache's lock: what fn returns must not share memory that
// a reader of the old value may still use.
func (c *versionCache[V]) update(version int64, key string, fn func(V) V) {
	c.c.Update(version, c.kind+key, func(old any, ok bool) (any, int64) {
		var o V
		if ok {
			o = old.(V)
		}
		v := fn(o)
		return v, c.size(v)
	})
}

// cachedIn returns the value of key for tx's snapshot from cache, or
// computes it in tx and keeps it.
func cachedIn[V any](ctx context.Context, tx *sql.Tx, cache *versionCache[V], key string, compute func() (V, error)) (V, error) {
	var version int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM change_log").Scan(&version); err != nil {
		var zero V
		return zero, fmt.Errorf("data version: %w", err)
	}
	if v, ok := cache.get(version, key); ok {
		return v, nil
	}
	v, err := compute()
	if err != nil {
		return v, err
	}
	cache.put(version, key, v)
	return v, nil
}

// cached is cachedIn in a read snapshot of its own.
func cached[V any](ctx context.Context, s *SQLite, cache *versionCache[V], key string, compute func(*sql.Tx) (V, error)) (V, error) {
	tx, err := s.ro.BeginTx(ctx, nil)
	if err != nil {
		var zero V
		return zero, fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	return cachedIn(ctx, tx, cache, key, func() (V, error) { return compute(tx) })
}

// initCaches makes the store's caches with their default budgets.
func (s *SQLite) initCaches() {
	s.countCache = vcache.New[any](DefaultCountCacheBytes)
	s.aggCache = vcache.New[any](DefaultAggregateCacheBytes)
	s.counts = newVersionCache(s.countCache, "count", func(int64) int64 { return 8 })
	s.positions = newVersionCache(s.countCache, "positions", func(ps []position) int64 {
		n := int64(cap(ps)) * int64(unsafe.Sizeof(position{}))
		for _, p := range ps {
			n += vcache.StringBytes(p.key.date)
		}
		return n
	})
	s.extents = newVersionCache(s.countCache, "extent", func(e incident.Extent) int64 {
		return int64(unsafe.Sizeof(e)) + vcache.StringBytes(e.FirstDate) + vcache.StringBytes(e.LastDate)
	})
	s.regionStats = newVersionCache(s.countCache, "regions", regionStatsBytes)
	s.aggregates = newVersionCache(s.aggCache, "rows", rawGroupsBytes)
	s.rolled = newVersionCache(s.aggCache, "groups", AggregationBytes)
}

func regionStatsBytes(list []incident.RegionStats) int64 {
	n := int64(cap(list)) * int64(unsafe.Sizeof(incident.RegionStats{}))
	for _, r := range list {
		for _, s := range []string{r.ISO, r.Name, r.NameSource, r.NameAr, r.Region} {
			n += vcache.StringBytes(s)
		}
		n += int64(cap(r.Geometry))
	}
	return n
}

func rawGroupsBytes(rows []incident.RawGroup) int64 {
	n := int64(cap(rows)) * int64(unsafe.Sizeof(incident.RawGroup{}))
	for _, r := range rows {
		n += int64(cap(r.Vals)) * 16
		for _, v := range r.Vals {
			n += vcache.StringBytes(v)
		}
	}
	return n
}

// AggregationBytes is what an aggregation's groups hold on the heap, as
// the caches of both engines count it.
func AggregationBytes(a incident.Aggregation) int64 {
	n := int64(unsafe.Sizeof(a)) + int64(cap(a.Keys))*16 + int64(cap(a.Groups))*int64(unsafe.Sizeof(incident.Group{}))
	for _, g := range a.Groups {
		n += int64(cap(g.Keys)) * 16
		for _, k := range g.Keys {
			n += vcache.StringBytes(k)
		}
	}
	return n
}
