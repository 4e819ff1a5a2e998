package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"incidentmap/incident"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"incidentmap/internal/memtest"
	"incidentmap/internal/testsrv"
	"incidentmap/server"
)

// gzipped compresses b at the best ratio, as an attacker would.
func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bomb is a gzip of prefix followed by unit repeated to n bytes, written a
// chunk at a time.
func bomb(t *testing.T, prefix, unit string, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write([]byte(prefix))
	chunk := bytes.Repeat([]byte(unit), (1<<20)/len(unit))
	for ; n > 0; n -= len(chunk) {
		if _, err := zw.Write(chunk[:min(n, len(chunk))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// allocatedDuring reports the bytes the process allocated while fn ran. The
// server runs in this process, so this bounds what a request cost it.
func allocatedDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// startQuietWriter is startWriter without the tile warm-up, whose allocations
// would blur the memory figures, and with a small import limit.
func startQuietWriter(t *testing.T, importLimit int64) writer {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.WarmTiles = false
	if importLimit > 0 {
		cfg.ImportBodyLimit = importLimit
	}
	srv := testsrv.Start(t, testsrv.OpenSeeded(t), &cfg)
	tok, err := srv.Store.CreateToken(context.Background(), "tester")
	if err != nil {
		t.Fatal(err)
	}
	return writer{srv, tok}
}

// TestGzipBombIsRefusedWithoutInflating posts a 128 MB body of zeros gzipped to
// about 125 KB, under the 1 MiB body limit. The decoded size is what counts:
// 413, and the server allocates a few MB, not the 128 MB the body inflates to.
func TestGzipBombIsRefusedWithoutInflating(t *testing.T) {
	w := startQuietWriter(t, 2<<20)
	zeros := string(bomb(t, "", "\x00", 64<<20))
	// Imports get files of valid rows, repeated: each row is fine, so only
	// the decoded size can stop them (the import limit is 2 MiB here; rows
	// carry 2 KB of notes so that 2 MiB are a thousand rows, quickly checked).
	notes := strings.Repeat("n", 2000)
	row := `{"type":"Feature","geometry":{"type":"Point","coordinates":[44.4,33.3]},"properties":{"event_id":"B-1","event_date":"2021-05-01","event_type":"Riots","notes":"` + notes + `"}}`
	csvRows := string(bomb(t, "event_id_cnty,event_date,event_type,latitude,longitude,notes\n", "B-1,2021-05-01,Riots,33.3,44.4,"+notes+"\n", 64<<20))
	collection := string(bomb(t, `{"type":"FeatureCollection","features":[`+row, ","+row, 64<<20))
	sequence := string(bomb(t, "", "\x1e"+row+"\n", 64<<20))
	for _, b := range []string{zeros, csvRows, collection, sequence} {
		if len(b) > 1<<20 {
			t.Fatalf("bomb of %d bytes is over the plain body limit; the test would not test decoding", len(b))
		}
	}
	gz := map[string]string{"Content-Encoding": "gzip"}
	for _, tc := range []struct{ name, method, path, ctype, bomb string }{
		{"create", "POST", "/collections/incidents/items", "application/geo+json", zeros},
		{"replace", "PUT", "/collections/incidents/items/1", "application/geo+json", zeros},
		{"patch", "PATCH", "/collections/incidents/items/1", "application/merge-patch+json", zeros},
		{"import csv", "POST", "/collections/incidents/import", "text/csv", csvRows},
		{"import geojson", "POST", "/collections/incidents/import", "application/geo+json", collection},
		{"import geojsonseq", "POST", "/collections/incidents/import", "application/geo+json-seq", sequence},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bomb := tc.bomb
			var resp *http.Response
			var body []byte
			send := func() { resp, body = w.send(t, tc.method, tc.path, tc.ctype, bomb, gz) }
			// A write reads at most its 1 MiB: all it allocates is bounded.
			// An import reads and checks rows up to its limit, a chunk at a
			// time, making garbage as it goes: what it holds at once is.
			var used uint64
			what, bound := "allocated", uint64(8<<20)
			if strings.HasSuffix(tc.path, "/import") {
				what, bound = "held at most", 32<<20
				used = memtest.PeakHeap(send)
			} else {
				used = allocatedDuring(send)
			}
			jsonError(t, resp, body, http.StatusRequestEntityTooLarge, "PayloadTooLarge")
			if !strings.Contains(string(body), "decoded from gzip") {
				t.Errorf("the 413 does not say the decoded body is too large: %s", body)
			}
			t.Logf("%s: %s %d KB for a %d-byte gzip of 64 MiB", tc.name, what, used>>10, len(bomb))
			if used > bound {
				t.Errorf("%s: the server %s %d MB for the bomb; it must stop at the limit", tc.name, what, used>>20)
			}
		})
	}
	// The database is as it was: 13 seed incidents, incident 1 unchanged.
	n, err := w.srv.Store.Count(context.Background(), incident.Filter{})
	if err != nil || n != 13 {
		t.Fatalf("count after the bombs: %d, %v; want 13", n, err)
	}
}

// TestGzipBodyLimitAppliesToDecodedSize: a 5 KB gzip of a Feature whose notes
// are 5,000,000 characters was stored (201); the decoded body is over 1 MiB,
// so it is a 413 and nothing is stored. A small gzipped Feature is accepted,
// and a corrupt or unknown coding is refused.
func TestGzipBodyLimitAppliesToDecodedSize(t *testing.T) {
	w := startQuietWriter(t, 0)
	gz := map[string]string{"Content-Encoding": "gzip"}
	huge := strings.Replace(newFeature, `"notes":"drone"`, `"notes":"`+strings.Repeat("a", 5_000_000)+`"`, 1)
	small := gzipped(t, []byte(huge))
	if len(small) > 10<<10 {
		t.Fatalf("gzip of %d bytes; want a small one", len(small))
	}
	resp, body := w.send(t, "POST", "/collections/incidents/items", "application/geo+json", string(small), gz)
	jsonError(t, resp, body, http.StatusRequestEntityTooLarge, "PayloadTooLarge")
	if n, _ := w.srv.Store.Count(context.Background(), incident.Filter{}); n != 13 {
		t.Fatalf("%d incidents after the refused body; want 13", n)
	}

	resp, body = w.send(t, "POST", "/collections/incidents/items", "application/geo+json", string(gzipped(t, []byte(newFeature))), gz)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("gzipped feature: %d %s", resp.StatusCode, body)
	}
	if f := decodeWFeature(t, body); f.Properties["event_id"] != "API-1" || f.Properties["notes"] != "drone" {
		t.Fatalf("gzipped feature stored as %v", f.Properties)
	}

	corrupt := gzipped(t, []byte(newFeature))
	corrupt = corrupt[:len(corrupt)-12] // cut into the deflate data and trailer
	resp, body = w.send(t, "POST", "/collections/incidents/items", "application/geo+json", string(corrupt), gz)
	jsonError(t, resp, body, http.StatusBadRequest, "InvalidRequestBody")

	resp, body = w.send(t, "POST", "/collections/incidents/items", "application/geo+json", newFeature,
		map[string]string{"Content-Encoding": "br"})
	jsonError(t, resp, body, http.StatusUnsupportedMediaType, "UnsupportedContentEncoding")

	// A gzipped import under the limit loads.
	csv := "event_id_cnty,event_date,event_type,latitude,longitude\nGZ-1,2021-01-02,Riots,33.3,44.4\n"
	resp, body = w.send(t, "POST", "/collections/incidents/import", "text/csv", string(gzipped(t, []byte(csv))), gz)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"inserted":1`) {
		t.Fatalf("gzipped import: %d %s", resp.StatusCode, body)
	}
}

// TestHandlersDoNotReadBodiesWhole: fiber's c.Body() inflates a compressed
// body whole and reads a streamed one whole, before any limit applies. Every
// handler reads bodies through readBody or requestBody instead.
func TestHandlersDoNotReadBodiesWhole(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			code, _, _ := strings.Cut(line, "//")
			if strings.Contains(code, "c.Body()") || strings.Contains(code, "BodyParser(") {
				t.Errorf("%s:%d reads the request body whole: %s; use readBody (limits the decoded size)", name, i+1, strings.TrimSpace(line))
			}
		}
	}
}
