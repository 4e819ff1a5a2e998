package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/server"
	"incidentmap/store"
	"incidentmap/synth"
)

// walTestRows is the size of the table the stalled readers stream: its
// GeoJSON (~15 MB) is far more than the socket buffers between them.
const walTestRows = 30000

// openSynthetic opens a store on a new file holding n synthetic incidents,
// with the WAL of their loading checkpointed away (closed and opened again).
func openSynthetic(t *testing.T, n int) *store.SQLite {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "incidents.db")
	st, err := store.Open(ctx, path, store.WithRegions(testsrv.Regions(t)))
	if err != nil {
		t.Fatal(err)
	}
	incs := make([]incident.Incident, n)
	for i := range incs {
		incs[i] = synth.Incident(9, i+1)
	}
	if _, err := st.Upsert(ctx, incs); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = store.Open(ctx, path, store.WithRegions(testsrv.Regions(t))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// stalledReader opens path with a tiny receive buffer, reads the first 2 KB
// and then stops reading, keeping the connection open.
func stalledReader(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept-Encoding: identity\r\n\r\n", path, addr)
	if _, err := io.ReadFull(conn, make([]byte, 2048)); err != nil {
		t.Fatalf("stalled reader %s: %v", path, err)
	}
	return conn
}

// TestStalledReadersDoNotPinTheWAL is issue 15's attack: readers that open
// large streamed responses, read 2 KB and stop, while writes go on. Each
// held its read snapshot until the request deadline, so SQLite could not
// start the WAL over and it grew with every write (221 MB in a 5 s burst).
// Streams now spool and release the snapshot when their rows are read: the
// WAL stays under 40 MB during the burst (SQLite's 4 MB autocheckpoint plus
// the burst's largest transaction) and under journal_size_limit (32 MB)
// after it, and the stalled readers are cut off after the stall timeout.
func TestStalledReadersDoNotPinTheWAL(t *testing.T) {
	st := openSynthetic(t, walTestRows)
	cfg := server.DefaultConfig()
	cfg.WarmTiles = false
	cfg.StreamStallTimeout = 30 * time.Second
	srv := testsrv.Start(t, st, &cfg)
	addr := strings.TrimPrefix(srv.URL, "http://")

	var readers []net.Conn
	paths := []string{"/collections/incidents/download?f=geojson", "/collections/incidents/items?f=csv",
		"/collections/incidents/items?limit=10000", "/collections/incidents/download?f=geojson&bbox=-180,-90,180,90"}
	if os.Getenv("WALDEBUG") == "none" {
		paths = nil
	}
	for _, p := range paths {
		readers = append(readers, stalledReader(t, addr, p))
	}

	// The streams read their rows into their spools and let the snapshot go
	// (on a loaded 2-core machine that takes a few seconds); before, each held
	// it until the request deadline (30 s) or the stall cut it.
	waitGauge(t, srv, "incidentmap_stream_snapshots", 0, 25*time.Second)

	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if n := st.WALSize(); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	// The burst: 4 s of transactions that each change 100 rows.
	ctx := context.Background()
	written := 0
	for start := time.Now(); time.Since(start) < 4*time.Second; written++ {
		incs := make([]incident.Incident, 100)
		for i := range incs {
			incs[i] = synth.Incident(9, 1+(written*100+i)%walTestRows)
			incs[i].Fatalities = 1000 + written
		}
		if _, err := st.Upsert(ctx, incs); err != nil {
			t.Fatal(err)
		}
		if os.Getenv("WALDEBUG") != "" {
			t.Logf("%v wal %.1f MB", time.Now().Format("05.000"), float64(st.WALSize())/(1<<20))
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d transactions of 100 rows; WAL peak %.1f MB", written, float64(peak.Load())/(1<<20))
	if p := peak.Load(); p > 16<<20 {
		t.Errorf("WAL peaked at %.1f MB behind 4 stalled readers; want under 16 MB", float64(p)/(1<<20))
	}

	for _, c := range readers {
		c.Close()
	}
	// With the readers gone the checkpointer cuts the WAL back.
	deadline := time.Now().Add(15 * time.Second)
	for st.WALSize() > 32<<20 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if n := st.WALSize(); n > 32<<20 {
		t.Errorf("WAL %.1f MB 15 s after the burst; want at most journal_size_limit, 32 MB", float64(n)/(1<<20))
	}
	var fc struct {
		NumberMatched int `json:"numberMatched"`
	}
	srv.GetJSON(t, "/collections/incidents/items?limit=1&min_fatalities=1000", http.StatusOK, &fc)
	if want := min(written*100, walTestRows); fc.NumberMatched != want {
		t.Errorf("%d rows carry the burst's fatalities, want %d: every write kept", fc.NumberMatched, want)
	}
}

// TestStreamsPerIPCap: a client IP gets MaxStreamsPerIP streamed responses
// at once; one more is a 429 until one of them ends.
func TestStreamsPerIPCap(t *testing.T) {
	st := openSynthetic(t, walTestRows)
	cfg := server.DefaultConfig()
	cfg.WarmTiles = false
	cfg.MaxStreamsPerIP = 2
	cfg.RateLimitLoopback = true // the cap, like rate limits, spares loopback otherwise
	cfg.RateLimit, cfg.WriteRateLimit = 0, 0
	cfg.StreamStallTimeout = 2 * time.Second
	srv := testsrv.Start(t, st, &cfg)
	addr := strings.TrimPrefix(srv.URL, "http://")
	a := stalledReader(t, addr, "/collections/incidents/download?f=geojson")
	stalledReader(t, addr, "/collections/incidents/items?f=csv")
	// A third download is refused; a small page is built in one buffer
	// (not a stream) and so is not counted.
	status, _, body := srv.Get(t, "/collections/incidents/items?f=geojsonseq&limit=5")
	if status != http.StatusTooManyRequests || codeOf(body) != "TooManyRequests" {
		t.Fatalf("a third stream from one IP: %d %s; want 429", status, body)
	}
	// Other requests are not streams and go on.
	if status, _, _ := srv.Get(t, "/collections/incidents/items/1"); status != http.StatusOK {
		t.Fatalf("a single feature while at the cap: %d", status)
	}
	a.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _, _ = srv.Get(t, "/collections/incidents/items?f=geojsonseq&limit=5")
		if status == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status != http.StatusOK {
		t.Fatalf("after a stream ended: %d; want 200", status)
	}
}

// waitGauge waits until the metric name reads want, or fails after wait.
func waitGauge(t *testing.T, srv *testsrv.Server, name string, want float64, wait time.Duration) {
	t.Helper()
	deadline := time.Now().Add(wait)
	var got string
	for {
		_, _, body := srv.Get(t, "/metrics")
		for _, l := range strings.Split(string(body), "\n") {
			if v, ok := strings.CutPrefix(l, name+" "); ok {
				got = v
			}
		}
		if got == strconv.FormatFloat(want, 'g', -1, 64) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %q after %v, want %v", name, got, wait, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestStalledReaderCutOff: a client that accepts nothing of a streamed
// response for StreamStallTimeout is cut off, and gets a truncated body.
func TestStalledReaderCutOff(t *testing.T) {
	st := openSynthetic(t, walTestRows)
	cfg := server.DefaultConfig()
	cfg.WarmTiles = false
	cfg.StreamStallTimeout = 2 * time.Second
	srv := testsrv.Start(t, st, &cfg)
	c := stalledReader(t, strings.TrimPrefix(srv.URL, "http://"), "/collections/incidents/download?f=geojson")
	time.Sleep(4 * time.Second)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	b, err := io.ReadAll(bufio.NewReader(c))
	if err != nil {
		t.Fatalf("reading on after the stall: %v (%d bytes); want the connection closed", err, len(b))
	}
	if len(b) > 10<<20 || strings.HasSuffix(string(b), "0\r\n\r\n") {
		t.Fatalf("the stalled reader got %d more bytes and a complete response; want it cut off", len(b))
	}
}
