package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// versionCacheSize bounds how many values a cache keeps for one data version.
const versionCacheSize = 4096

// versionCache remembers values computed from the incidents — counts, the
// extent, counts per region — per query for one data version. Over a million
// rows each costs tens to hundreds of milliseconds, and map pages and GIS
// clients ask for the same ones again and again between changes; any change
// (by anyone: the version is the change log's) empties the cache.
type versionCache[V any] struct {
	mu      sync.Mutex
	version int64
	byKey   map[string]V
	limit   int // values kept for one data version; 0 is versionCacheSize
}

func (c *versionCache[V]) get(version int64, key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version {
		var zero V
		return zero, false
	}
	v, ok := c.byKey[key]
	return v, ok
}

func (c *versionCache[V]) put(version int64, key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version {
		return // a reader of an older snapshot finished late
	}
	limit := c.limit
	if limit <= 0 {
		limit = versionCacheSize
	}
	if c.version != version || c.byKey == nil || len(c.byKey) >= limit {
		c.version, c.byKey = version, map[string]V{}
	}
	c.byKey[key] = v
}

// update sets key's value to fn of its value (the zero value when it has
// none), under the cache's lock: what fn returns must not share memory that
// a reader of the old value may still use.
func (c *versionCache[V]) update(version int64, key string, fn func(V) V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version {
		return
	}
	limit := c.limit
	if limit <= 0 {
		limit = versionCacheSize
	}
	var old V
	if c.version == version && c.byKey != nil {
		old = c.byKey[key]
	}
	if _, ok := c.byKey[key]; c.version != version || c.byKey == nil || !ok && len(c.byKey) >= limit {
		c.version, c.byKey = version, map[string]V{}
	}
	c.byKey[key] = fn(old)
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
