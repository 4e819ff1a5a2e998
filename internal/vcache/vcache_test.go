package vcache

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// The bytes a cache accounts never exceed its limit, whatever is put: many
// distinct keys of random sizes, some larger than the whole limit, from
// several goroutines; and the accounted bytes are the sum of what it holds.
func TestBytesStayUnderLimit(t *testing.T) {
	const limit = 1 << 20
	c := New[[]byte](limit)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range 2000 {
				n := r.IntN(300 << 10)
				if i%97 == 0 {
					n = 2 << 20 // larger than the limit: not kept
				}
				key := fmt.Sprintf("g%d-%d-%s", g, i, make([]byte, r.IntN(4096)))
				c.Put(1, key, make([]byte, n), int64(n))
				if st := c.Stats(); st.Bytes > limit {
					t.Errorf("after put %d: %d bytes accounted, limit %d", i, st.Bytes, limit)
					return
				}
			}
		}()
	}
	wg.Wait()
	st := c.Stats()
	var sum int64
	for k, e := range c.byKey {
		sum += Cost(k, int64(len(e.v)))
	}
	if sum != st.Bytes || st.Bytes > limit || st.Entries != int64(len(c.byKey)) {
		t.Fatalf("accounted %d bytes in %d entries, holds %d bytes in %d", st.Bytes, st.Entries, sum, len(c.byKey))
	}
	if st.Evictions == 0 || st.Entries == 0 {
		t.Fatalf("stats %+v: want evictions and some entries kept", st)
	}
}

// The least recently used value goes first: one read keeps a value.
func TestLeastRecentlyUsedGoesFirst(t *testing.T) {
	per := Cost("k0", 1000)
	c := New[int](3 * per)
	for i := range 3 {
		c.Put(7, fmt.Sprint("k", i), i, 1000)
	}
	if _, ok := c.Get(7, "k0"); !ok {
		t.Fatal("k0 missing before the limit was reached")
	}
	c.Put(7, "k3", 3, 1000) // evicts k1, the least recently used
	for key, want := range map[string]bool{"k0": true, "k1": false, "k2": true, "k3": true} {
		if _, ok := c.Get(7, key); ok != want {
			t.Errorf("%s kept = %v, want %v", key, ok, want)
		}
	}
	if st := c.Stats(); st.Bytes != 3*per || st.Entries != 3 || st.Evictions != 1 {
		t.Errorf("stats %+v", st)
	}
	c.SetLimit(per) // shrinking drops the least recent down to the limit
	if st := c.Stats(); st.Entries != 1 || st.Bytes != per {
		t.Errorf("after SetLimit: %+v", st)
	}
}

// A newer data version empties the cache; an older one is neither kept nor
// served; replacing a key does not count it twice.
func TestVersions(t *testing.T) {
	c := New[string](1 << 20)
	c.Put(5, "a", "five", 4)
	c.Put(5, "a", "five again", 10)
	if st := c.Stats(); st.Entries != 1 || st.Bytes != Cost("a", 10) {
		t.Fatalf("replaced key: %+v", st)
	}
	if _, ok := c.Get(6, "a"); ok {
		t.Fatal("a value of version 5 served for version 6")
	}
	c.Put(4, "b", "four", 4)
	if _, ok := c.Get(4, "b"); ok {
		t.Fatal("a value of an older version was kept")
	}
	c.Put(6, "c", "six", 3)
	if _, ok := c.Get(5, "a"); ok {
		t.Fatal("version 5's values survived version 6")
	}
	if v, ok := c.Get(6, "c"); !ok || v != "six" {
		t.Fatalf("c = %q, %v", v, ok)
	}
	c.Forget()
	if st := c.Stats(); st.Entries != 0 || st.Bytes != 0 {
		t.Fatalf("after Forget: %+v", st)
	}
	var zero Cache[int] // keeps nothing until given a limit
	zero.Put(1, "x", 1, 8)
	if _, ok := zero.Get(1, "x"); ok {
		t.Fatal("the zero cache kept a value")
	}
}

// Update changes a value under the lock with its new size, and evicts like
// Put.
func TestUpdate(t *testing.T) {
	c := New[[]int](Cost("k", 80) + Cost("j", 16))
	add := func(key string, n int) {
		c.Update(3, key, func(old []int, ok bool) ([]int, int64) {
			v := append(append([]int(nil), old...), n)
			return v, int64(8 * len(v))
		})
	}
	for i := range 10 {
		add("k", i)
	}
	if v, ok := c.Get(3, "k"); !ok || len(v) != 10 || v[9] != 9 {
		t.Fatalf("k = %v, %v", v, ok)
	}
	if st := c.Stats(); st.Bytes != Cost("k", 80) || st.Entries != 1 {
		t.Fatalf("stats %+v", st)
	}
	add("j", 1)
	add("j", 2) // 16 bytes: k and j fit together
	if _, ok := c.Get(3, "k"); !ok {
		t.Fatal("k dropped though both fit")
	}
	add("k", 10) // k grows past the room: j, least recently used, goes
	if _, ok := c.Get(3, "j"); ok {
		t.Fatal("j kept past the limit")
	}
	if st := c.Stats(); st.Bytes > st.Limit {
		t.Fatalf("stats %+v over the limit", st)
	}
	c.Update(2, "k", func([]int, bool) ([]int, int64) { t.Fatal("an older version updated"); return nil, 0 })
}
