package server

import (
	"bytes"
	"io"
	"sync/atomic"
	"testing"
)

// TestSpoolKeepsOrderAcrossMemoryAndFile writes pieces of every size,
// empty ones too, through memory and the file, and reads back the same
// bytes in order. (An empty write once queued a chunk that read as a file
// range: the read failed with "invalid argument".)
func TestSpoolKeepsOrderAcrossMemoryAndFile(t *testing.T) {
	var budget atomic.Int64
	sp := newSpool(&budget, 64<<20)
	var want bytes.Buffer
	go func() {
		for i := range 400 {
			p := bytes.Repeat([]byte{byte(i)}, (i*7919)%(40<<10))
			want.Write(p)
			if _, err := sp.Write(p); err != nil {
				sp.CloseWrite(err)
				return
			}
			sp.Write(nil)
		}
		sp.CloseWrite(nil)
	}()
	got, err := io.ReadAll(sp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("read %d bytes, wrote %d: not the same", len(got), want.Len())
	}
	if sp.file == nil {
		t.Fatal("the spool never used its file: the test does not cover it")
	}
	sp.Abort()
	if budget.Load() != 0 {
		t.Fatalf("disk budget %d after Abort, want 0", budget.Load())
	}
}
