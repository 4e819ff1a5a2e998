package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestByteSizeFlag(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1048576": 1 << 20, "8MiB": 8 << 20, "8M": 8 << 20, "8 MB": 8 << 20,
		"512KiB": 512 << 10, "512k": 512 << 10, "1GiB": 1 << 30, "2g": 2 << 30, "100B": 100} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("%q: %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "8 PiB", "1.5MiB", "9999999999GiB"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("%q accepted as %d bytes", in, b)
		}
	}
	for n, want := range map[int64]string{8 << 20: "8MiB", 512 << 10: "512KiB", 1 << 30: "1GiB", 1000: "1000", 0: "0"} {
		b := byteSize(n)
		if got := b.String(); got != want {
			t.Errorf("String(%d) = %q, want %q", n, got, want)
		}
	}
}

// serve's memory flags reach the caches and the limits: /metrics shows
// each cache's budget as given (0 turns a cache off) and SQLite's soft heap
// limit; a bad size is a usage error naming the flag.
func TestServeMemoryFlags(t *testing.T) {
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "m.db")
	st, err := openStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Upsert(context.Background(), syntheticIncidents("SYN-MEM", 0, 50)); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, err := exec.Command(bin, "serve", "--db", db, "--page-cache-bytes", "lots").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "page-cache-bytes") {
		t.Fatalf("--page-cache-bytes lots: %v, %s; want a usage error naming the flag", err, out)
	}

	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", addr, "--warm-tiles=false",
		"--page-cache-bytes", "3MiB", "--tile-cache-bytes", "0", "--grid-cache-bytes", "640KiB",
		"--count-cache-bytes", "100000", "--aggregate-cache-bytes", "1MiB", "--sqlite-memory-bytes", "12MiB", "--memory-limit", "96MiB")
	cmd.Env = append(cmd.Environ(), "INCIDENTMAP_AGGREGATE_CACHE_BYTES=5MiB") // the command line wins
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	waitReady(t, base)
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`incidentmap_cache_limit_bytes{cache="pages"} 3.145728e+06`,
		`incidentmap_cache_limit_bytes{cache="tiles"} 0`,
		`incidentmap_cache_limit_bytes{cache="grids"} 655360`,
		`incidentmap_cache_limit_bytes{cache="counts"} 100000`,
		`incidentmap_cache_limit_bytes{cache="aggregates"} 1.048576e+06`,
		`incidentmap_sqlite_soft_heap_limit_bytes 1.2582912e+07`,
		`go_gc_gomemlimit_bytes 1.00663296e+08`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("/metrics lacks %q; it has:\n%s", want, strings.Join(regexp.MustCompile(`(?m)^(incidentmap_cache_limit|incidentmap_sqlite|go_gc_gomem).*$`).FindAllString(string(body), -1), "\n"))
		}
	}
}
