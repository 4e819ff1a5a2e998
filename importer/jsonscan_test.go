package importer

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestPlain8 checks the word-at-a-time test against the byte table: it may
// send a plain word to the slow path but must never pass a special byte.
func TestPlain8(t *testing.T) {
	check := func(w [8]byte) {
		t.Helper()
		want := true
		for _, c := range w {
			want = want && strPlain[c]
		}
		if got := plain8(binary.LittleEndian.Uint64(w[:])); got && !want {
			t.Fatalf("plain8(%q) = true, but it holds a special byte", w)
		}
	}
	plainRuns := 0
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			w := [8]byte{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}
			w[pos] = byte(c)
			check(w)
			if strPlain[c] && plain8(binary.LittleEndian.Uint64(w[:])) {
				plainRuns++
			}
		}
	}
	if plainRuns != 8*(0x80-0x20-2) {
		t.Errorf("plain8 passed %d of the %d plain words", plainRuns, 8*(0x80-0x20-2))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 200000; n++ {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		check(w)
		for i := range w {
			if r.IntN(3) > 0 {
				w[i] = byte(0x20 + r.IntN(0x60))
			}
		}
		check(w)
	}
}
