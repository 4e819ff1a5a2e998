package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// countCacheSize bounds how many counts the cache keeps for one data version.
const countCacheSize = 4096

// countCache remembers numberMatched per query for one data version. A count
// over a million rows costs milliseconds to tens of milliseconds, and map
// pages and GIS clients ask for the same counts again and again between
// changes; any change (by anyone: the version is the change log's) empties it.
type countCache struct {
	mu      sync.Mutex
	version int64
	byQuery map[string]int64
}

func (c *countCache) get(version int64, key string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version {
		return 0, false
	}
	n, ok := c.byQuery[key]
	return n, ok
}

func (c *countCache) put(version int64, key string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version || c.byQuery == nil || len(c.byQuery) >= countCacheSize {
		if version < c.version {
			return // a reader of an older snapshot finished late
		}
		c.version, c.byQuery = version, map[string]int64{}
	}
	c.byQuery[key] = n
}

// countIn counts what f matches inside tx (a read snapshot), through the
// cache of the snapshot's data version.
func (s *SQLite) countIn(ctx context.Context, tx *sql.Tx, f Filter) (int64, error) {
	var version int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM change_log").Scan(&version); err != nil {
		return 0, fmt.Errorf("count incidents: data version: %w", err)
	}
	q, args := f.countQuery()
	key := fmt.Sprint(q, args)
	if n, ok := s.counts.get(version, key); ok {
		return n, nil
	}
	var n int64
	if err := tx.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count incidents: %w", err)
	}
	s.counts.put(version, key, n)
	return n, nil
}
