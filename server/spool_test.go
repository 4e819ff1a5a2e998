package server

import (
	"bytes"
	"io"
	"net"
	"net/http/httputil"
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

// TestSendChunkedCarriesTakenBuffers: buffers the encoder hands over (Take,
// not copied) and written ones, through memory and the file, reach the
// client in order as a valid chunked body that ends with the last chunk.
func TestSendChunkedCarriesTakenBuffers(t *testing.T) {
	var budget atomic.Int64
	sp := newSpool(&budget, 64<<20)
	var want bytes.Buffer
	go func() {
		for i := range 300 {
			p := bytes.Repeat([]byte{byte(i)}, 1+(i*7919)%(100<<10))
			want.Write(p)
			var err error
			if i%3 == 0 {
				_, err = sp.Write(p)
			} else {
				err = sp.Take(p)
			}
			if err != nil {
				sp.CloseWrite(err)
				return
			}
		}
		sp.CloseWrite(nil)
	}()
	client, srv := net.Pipe()
	sent := make(chan error, 1)
	go func() {
		sent <- sendChunked(srv, sp, func() {})
		srv.Close()
	}()
	raw, err := io.ReadAll(client)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(raw, []byte("\r\n0\r\n\r\n")) {
		t.Fatalf("the body does not end with the last chunk: …%q", raw[max(0, len(raw)-20):])
	}
	got, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("decoded %d bytes, wrote %d: not the same", len(got), want.Len())
	}
	if sp.file == nil {
		t.Fatal("the spool never used its file: the test does not cover it")
	}
}
