package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
	"incidentmap/server"
)

// rawGet sends one HTTP/1.1 GET on a new connection and reads the response
// by hand: the header, and the body's chunks as they came (their sizes) and
// decoded. It reads until the server closes the connection.
func rawGet(t *testing.T, addr, path, acceptEncoding string) (textproto.MIMEHeader, []int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept-Encoding: %s\r\n\r\n", path, addr, acceptEncoding)
	br := bufio.NewReader(conn)
	tp := textproto.NewReader(br)
	status, err := tp.ReadLine()
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 200 ") {
		t.Fatalf("GET %s: status line %q, %v", path, status, err)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Get("Transfer-Encoding") != "chunked" {
		t.Fatalf("GET %s: Transfer-Encoding %q, want chunked", path, hdr.Get("Transfer-Encoding"))
	}
	var sizes []int
	var body []byte
	for {
		line, err := tp.ReadLine()
		if err != nil {
			t.Fatalf("GET %s: chunk size: %v", path, err)
		}
		n, err := strconv.ParseInt(line, 16, 64)
		if err != nil {
			t.Fatalf("GET %s: chunk size %q", path, line)
		}
		if n == 0 {
			if l, _ := tp.ReadLine(); l != "" {
				t.Fatalf("GET %s: %q after the last chunk", path, l)
			}
			break
		}
		sizes = append(sizes, int(n))
		chunk := make([]byte, n+2)
		if _, err := io.ReadFull(br, chunk); err != nil || !bytes.HasSuffix(chunk, []byte("\r\n")) {
			t.Fatalf("GET %s: chunk of %d: %v", path, n, err)
		}
		body = append(body, chunk[:n]...)
	}
	if rest, _ := io.ReadAll(br); len(rest) > 0 {
		t.Fatalf("GET %s: %d bytes after the body", path, len(rest))
	}
	return hdr, sizes, body
}

// TestPlainDownloadsGoOutInLargeChunks: a download that is not compressed
// is written on the connection in chunks of up to 256 KB (fasthttp's own
// body stream sends 4 KB chunks, two system calls each), with the headers
// the middleware set, the same bytes as the compressed download, and the
// connection closed after it; the next request is served as usual.
func TestPlainDownloadsGoOutInLargeChunks(t *testing.T) {
	st := openSynthetic(t, 5000)
	cfg := server.DefaultConfig()
	cfg.WarmTiles = false
	srv := testsrv.Start(t, st, &cfg)
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, f := range []string{"geojson", "geojsonseq", "csv", "kml"} {
		path := "/collections/incidents/download?f=" + f
		hdr, sizes, plain := rawGet(t, addr, path, "identity")
		if len(plain) < 1<<20 {
			t.Fatalf("f=%s: %d bytes; the test needs a download of several chunks", f, len(plain))
		}
		// Chunks of the encoder's buffers (a few hundred KB) or of the spool
		// file's reads (256 KB); some are shorter (the file's head, the end
		// of a file range, the last rows), none of them many.
		if max := len(plain)/(64<<10) + 4; len(sizes) > max {
			t.Errorf("f=%s: %d bytes in %d chunks; want at most %d (sizes %v)", f, len(plain), len(sizes), max, sizes)
		}
		for k, want := range map[string]string{"Connection": "close", "X-Content-Type-Options": "nosniff",
			"Cache-Control": "no-cache", "Content-Disposition": "attachment; filename=\"incidents-"} {
			if !strings.HasPrefix(hdr.Get(k), want) {
				t.Errorf("f=%s: %s %q, want %q", f, k, hdr.Get(k), want)
			}
		}
		if hdr.Get("Etag") == "" || !strings.Contains(strings.Join(hdr.Values("Vary"), ","), "Accept-Encoding") {
			t.Errorf("f=%s: ETag %q, Vary %q: want an ETag and Vary: Accept-Encoding", f, hdr.Get("Etag"), hdr.Values("Vary"))
		}

		// The same download compressed goes the other way; same bytes.
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("f=%s with Accept-Encoding gzip: Content-Encoding %q", f, resp.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		zipped, err := io.ReadAll(zr)
		resp.Body.Close()
		if err != nil || !bytes.Equal(zipped, plain) {
			t.Fatalf("f=%s: gzipped download %d bytes (%v), plain %d: not the same", f, len(zipped), err, len(plain))
		}
	}
	var col struct{ ID string }
	srv.GetJSON(t, "/collections/incidents", http.StatusOK, &col)
	if col.ID != "incidents" {
		t.Fatalf("after the downloads: collection %q", col.ID)
	}
}
