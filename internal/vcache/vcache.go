// Package vcache is the byte-bounded cache behind every in-memory cache of
// the server and the engines: values computed from the incidents (counts,
// aggregations, tiles, pages) for one data version, kept until the data
// changes or the cache needs their room.
//
// The bound is in bytes, not entries, because the values differ by five
// orders of magnitude (a count is 8 bytes, a grouped aggregation or a page
// of 1,000 features a megabyte) and the keys are request-made (a CQL2 filter
// may be kilobytes long): a bound in entries lets memory grow with the kind
// of request asked, a bound in bytes does not. When a value does not fit,
// the least recently used ones go first.
package vcache

import "sync"

// EntryOverhead is the bytes counted for each entry beyond its key and
// value: the map slot, the entry's own record and the key's header.
const EntryOverhead = 112

// Cache keeps values of one data version (the change log's sequence the
// snapshot saw) up to a byte limit. A value of a newer version empties it;
// one of an older version (a reader that finished late) is not kept. It is
// safe for concurrent use. The zero value keeps nothing until SetLimit.
type Cache[V any] struct {
	mu         sync.Mutex
	limit      int64
	version    int64
	bytes      int64
	byKey      map[string]*entry[V]
	head, tail *entry[V] // most and least recently used
	hits       int64
	misses     int64
	evictions  int64
}

type entry[V any] struct {
	key        string
	v          V
	cost       int64
	prev, next *entry[V]
}

// New is a cache that keeps at most limit bytes.
func New[V any](limit int64) *Cache[V] {
	c := &Cache[V]{}
	c.SetLimit(limit)
	return c
}

// SetLimit changes the bytes the cache may keep (0 or less: nothing), and
// drops the least recently used values until they fit.
func (c *Cache[V]) SetLimit(limit int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limit = max(limit, 0)
	c.evict(0)
}

// Cost is what a value of the given bytes under key counts against the
// limit.
func Cost(key string, bytes int64) int64 { return int64(len(key)) + bytes + EntryOverhead }

// Get returns the value of key kept for version, if there is one.
func (c *Cache[V]) Get(version int64, key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok || c.version != version {
		c.misses++
		var zero V
		return zero, false
	}
	c.hits++
	c.unlink(e)
	c.pushFront(e)
	return e.v, true
}

// Put keeps v under key for version; bytes is what v holds in memory (its
// slices and strings: the caller knows their shape). A value that alone
// exceeds the limit is not kept.
func (c *Cache[V]) Put(version int64, key string, v V, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version {
		return // computed from an older snapshot than the cache holds
	}
	if version != c.version || c.byKey == nil {
		c.clear()
		c.version = version
	}
	if old, ok := c.byKey[key]; ok {
		c.remove(old)
	}
	c.put(key, v, bytes)
}

// put adds key, not in the cache, if it fits at all.
func (c *Cache[V]) put(key string, v V, bytes int64) {
	cost := Cost(key, bytes)
	if cost > c.limit {
		return
	}
	c.evict(cost)
	e := &entry[V]{key: key, v: v, cost: cost}
	c.byKey[key] = e
	c.pushFront(e)
	c.bytes += cost
}

// Update sets key's value for version to what fn makes of the value kept
// (ok false: none), with its bytes, under the cache's lock, so that two
// updates of one key do not lose each other's change. What fn returns must
// not share memory that a reader of the old value may still use.
func (c *Cache[V]) Update(version int64, key string, fn func(old V, ok bool) (V, int64)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version {
		return
	}
	if version != c.version || c.byKey == nil {
		c.clear()
		c.version = version
	}
	var old V
	e, ok := c.byKey[key]
	if ok {
		old = e.v
		c.remove(e)
	}
	v, bytes := fn(old, ok)
	c.put(key, v, bytes)
}

// Forget empties the cache.
func (c *Cache[V]) Forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clear()
	c.version = -1
}

// Stats is what a cache holds and has done, for metrics.
type Stats struct {
	Bytes, Limit, Entries   int64
	Hits, Misses, Evictions int64
}

// Stats says what the cache holds now and has done since it was made.
func (c *Cache[V]) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Bytes: c.bytes, Limit: c.limit, Entries: int64(len(c.byKey)),
		Hits: c.hits, Misses: c.misses, Evictions: c.evictions}
}

// evict drops least recently used values until room more bytes fit.
func (c *Cache[V]) evict(room int64) {
	for c.tail != nil && c.bytes+room > c.limit {
		c.remove(c.tail)
		c.evictions++
	}
}

func (c *Cache[V]) clear() {
	c.byKey = map[string]*entry[V]{}
	c.head, c.tail, c.bytes = nil, nil, 0
}

func (c *Cache[V]) remove(e *entry[V]) {
	c.unlink(e)
	delete(c.byKey, e.key)
	c.bytes -= e.cost
}

func (c *Cache[V]) unlink(e *entry[V]) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (c *Cache[V]) pushFront(e *entry[V]) {
	e.next = c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
}

// StringBytes is what a string's bytes take on the heap, as counted here:
// its length and the allocation's rounding, about 16 bytes on average.
func StringBytes(s string) int64 {
	if s == "" {
		return 0
	}
	return int64(len(s)) + 16
}
