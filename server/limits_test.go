package server_test

import (
	"context"
	"fmt"
	"incidentmap/incident"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"incidentmap/internal/memtest"
	"incidentmap/internal/testsrv"
	"incidentmap/server"
)

// TestWriteAPIFieldLimits: the write API refuses text over its limit with a
// 400 naming the property (and quoting only the start of the value).
func TestWriteAPIFieldLimits(t *testing.T) {
	w := startWriter(t)
	long := strings.Replace(newFeature, `"notes":"drone"`, `"notes":"`+strings.Repeat("n", 64<<10+1)+`"`, 1)
	resp, body := w.send(t, "POST", "/collections/incidents/items", "application/geo+json", long, nil)
	jsonError(t, resp, body, http.StatusBadRequest, "InvalidRequestBody")
	if !strings.Contains(string(body), "notes") || !strings.Contains(string(body), "65537 bytes long; at most 65536") || len(body) > 1000 {
		t.Fatalf("notes over the limit: %s", body)
	}
	resp, body = w.send(t, "PATCH", "/collections/incidents/items/1", "application/merge-patch+json",
		`{"properties":{"actor1":"`+strings.Repeat("a", 1025)+`"}}`, nil)
	jsonError(t, resp, body, http.StatusBadRequest, "InvalidRequestBody")
	if !strings.Contains(string(body), "actor1") {
		t.Fatalf("actor1 over the limit: %s", body)
	}
	// At the limits it is stored, whole.
	ok := strings.Replace(newFeature, `"notes":"drone"`, `"notes":"`+strings.Repeat("n", 64<<10)+`","actor1":"`+strings.Repeat("a", 1024)+`"`, 1)
	resp, body = w.send(t, "POST", "/collections/incidents/items", "application/geo+json", ok, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("at the limits: %d %.300s", resp.StatusCode, body)
	}
	inc, err := w.srv.Store.Incident(context.Background(), decodeWFeature(t, body).ID)
	if err != nil || len(inc.Notes) != 64<<10 || len(inc.Actor1) != 1024 {
		t.Fatalf("stored notes %d, actor1 %d bytes (%v)", len(inc.Notes), len(inc.Actor1), err)
	}
}

// csvRows streams an ACLED CSV of n rows, each with notes of noteBytes.
type csvRows struct {
	n, row    int
	notes     string
	pending   []byte
	headerOut bool
}

func (c *csvRows) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		switch {
		case !c.headerOut:
			c.pending = []byte("event_id_cnty,event_date,event_type,latitude,longitude,notes\n")
			c.headerOut = true
		case c.row < c.n:
			c.row++
			c.pending = fmt.Appendf(nil, "BIG-%d,2021-05-01,Riots,33.%d,44.4,%s\n", c.row, c.row%1000, c.notes)
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// TestLargeImportHoldsBoundedMemory streams a 96 MB CSV to the import
// endpoint. The server read every import body whole before (c.Body(): 637 MB
// for a 212 MB file); it now holds rows a chunk at a time, so its Go heap
// stays at a few tens of MB however large the file (SQLite's page cache, in
// C, is bounded separately by cache_size).
func TestLargeImportHoldsBoundedMemory(t *testing.T) {
	w := startQuietWriter(t, 0)
	const rows, noteBytes = 6 << 10, 16 << 10
	file := &csvRows{n: rows, notes: strings.Repeat("n", noteBytes)}
	size := int64(0)
	for b := make([]byte, 64<<10); ; {
		n, err := file.Read(b)
		size += int64(n)
		if err != nil {
			break
		}
	}
	file = &csvRows{n: rows, notes: strings.Repeat("n", noteBytes)}

	req, err := http.NewRequest("POST", w.srv.URL+"/collections/incidents/import", file)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+w.token)
	var resp *http.Response
	grew := memtest.PeakHeap(func() { resp, err = http.DefaultClient.Do(req) })
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), fmt.Sprintf(`"inserted":%d`, rows)) {
		t.Fatalf("import of %d MB: %d %.300s", size>>20, resp.StatusCode, body)
	}
	t.Logf("import of %d MB (%d rows): Go heap grew by at most %d MB", size>>20, rows, grew>>20)
	if grew > 64<<20 {
		t.Errorf("the heap grew by %d MB importing a %d MB file; it must not grow with the file", grew>>20, size>>20)
	}
	if n, err := w.srv.Store.Count(context.Background(), incident.Filter{}); err != nil || n != 13+rows {
		t.Fatalf("%d incidents (%v), want %d", n, err, 13+rows)
	}
}

// slowBody sends a CSV in small pieces with pauses, as a slow uplink would.
type slowBody struct {
	parts []string
	pause time.Duration
	sent  bool
}

func (s *slowBody) Read(p []byte) (int, error) {
	if len(s.parts) == 0 {
		return 0, io.EOF
	}
	if s.sent {
		time.Sleep(s.pause)
	}
	s.sent = true
	n := copy(p, s.parts[0])
	s.parts[0] = s.parts[0][n:]
	if s.parts[0] == "" {
		s.parts = s.parts[1:]
	}
	return n, nil
}

// TestStreamedImportOutlivesReadTimeout: an import body streams in while its
// rows are checked, so reading it may take longer than --read-timeout; it
// gets the write timeout instead (a 1 GB import was cut at 60 s).
func TestStreamedImportOutlivesReadTimeout(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.WarmTiles = false
	cfg.ReadTimeout = 500 * time.Millisecond
	srv := testsrv.Start(t, testsrv.OpenSeeded(t), &cfg)
	tok, err := srv.Store.CreateToken(context.Background(), "tester")
	if err != nil {
		t.Fatal(err)
	}
	// The first 16 KB come at once (the server reads 8 KB before the
	// handler starts), the rest over 1.6 s.
	first := "event_id_cnty,event_date,event_type,latitude,longitude\n"
	for i := range 500 {
		first += fmt.Sprintf("FAST-%d,2021-05-01,Riots,33.3,44.4\n", i)
	}
	parts := []string{first}
	size := len(first)
	for i := range 8 {
		parts = append(parts, fmt.Sprintf("SLOW-%d,2021-05-01,Riots,33.3,44.4\n", i))
		size += len(parts[len(parts)-1])
	}
	req, err := http.NewRequest("POST", srv.URL+"/collections/incidents/import", &slowBody{parts: parts, pause: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(size)
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"inserted":508`) {
		t.Fatalf("slow import (1.8 s, read timeout 0.5 s): %d %s", resp.StatusCode, body)
	}
}
