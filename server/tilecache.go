package server

import "sync"

// tileCacheBytes bounds the bytes of tiles the server keeps in memory.
const tileCacheBytes = 32 << 20

// tileCache keeps encoded tiles for one data version. A low-zoom tile of a
// large database aggregates hundreds of thousands of incidents, and every
// map viewer asks for the same few tiles until the data changes; any change
// (the version is the change log's, whoever writes) empties the cache, and
// so does reaching its byte budget.
type tileCache struct {
	max     int // bytes kept at most; 0 means tileCacheBytes
	mu      sync.Mutex
	version int64
	size    int
	tiles   map[string][]byte
}

func (t *tileCache) get(version int64, key string) ([]byte, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.version != version {
		return nil, false
	}
	b, ok := t.tiles[key]
	return b, ok
}

func (t *tileCache) put(version int64, key string, b []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if version < t.version {
		return // built from an older snapshot than the cache holds
	}
	budget := t.max
	if budget == 0 {
		budget = tileCacheBytes
	}
	if t.version != version || t.tiles == nil || t.size+len(b) > budget {
		t.version, t.size, t.tiles = version, 0, map[string][]byte{}
	}
	t.tiles[key] = b
	t.size += len(b)
}
