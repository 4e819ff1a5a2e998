// Command bench measures incidentmap against a large database (make bench):
// it starts `incidentmap serve` on 127.0.0.1 over the given database, drives
// it with plain HTTP clients and prints one table of the issue #8 targets.
// Figures are wall-clock on whatever machine runs it; a shared machine makes
// them noisy, so it reports percentiles over repeated requests.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "./incidentmap", "the incidentmap binary")
	db := flag.String("db", "bench-data/bench-1m.db", "database to serve (not modified)")
	loadSecs := flag.Int("load-seconds", 5, "duration of the 32-connection load")
	seqFile := flag.String("import", "", "also time `incidentmap import` of this GeoJSON text sequence file into a new database, and `incidentmap export` of the database")
	flag.Parse()
	if err := run(*bin, *db, time.Duration(*loadSecs)*time.Second, *seqFile); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type row struct{ what, target, got string }

func run(bin, db string, loadFor time.Duration, seqFile string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	var rows []row

	// Server start on the existing database: process start until /readyz is 200.
	start := time.Now()
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", addr, "--max-limit", "1000000",
		"--rate-limit", "0", "--write-timeout", "10m")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Since(start) > time.Minute {
			return errors.New("server not ready after a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	rows = append(rows, row{"server start on the existing DB (to /readyz 200)", "≤ 1 s", ms(time.Since(start))})

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	get := func(path string, hdr ...string) (time.Duration, int, error) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, 0, err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
		return time.Since(t0), int(n), err
	}
	timed := func(path string, n int, hdr ...string) ([]time.Duration, int, error) {
		var ds []time.Duration
		size := 0
		for range n {
			d, sz, err := get(path, hdr...)
			if err != nil {
				return nil, 0, err
			}
			ds, size = append(ds, d), sz
		}
		slices.Sort(ds)
		return ds, size, nil
	}

	// A bbox page of 1,000 features in central Baghdad (dense): round trip on
	// loopback, so it includes encoding and transfer of the whole page. The
	// first request is cold (its count is not cached yet).
	ds, size, err := timed("/collections/incidents/items?bbox=44.30,33.25,44.45,33.40&limit=1000", 61)
	if err != nil {
		return err
	}
	rows = append(rows, row{"bbox page of 1,000 features, p50 / p99 (first, cold)", "≤ 5 / ≤ 20 ms",
		fmt.Sprintf("%s / %s (%s), %d KB", ms(pct(ds[1:], 50)), ms(pct(ds[1:], 99)), ms(ds[0]), size/1024)})

	// numberMatched of a bbox+date filter (limit=1: the count dominates):
	// cold, every request a different date range so no cached count serves
	// it; then warm, one filter repeated.
	// eachDay times one request of format (a path with a %02d day) for
	// days 1 to n, sorted: each a different query, so none is cached.
	eachDay := func(format string, n int) ([]time.Duration, error) {
		var out []time.Duration
		for day := 1; day <= n; day++ {
			d, _, err := get(fmt.Sprintf(format, day))
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		slices.Sort(out)
		return out, nil
	}
	cold, err := eachDay("/collections/incidents/items?bbox=43.0,33.0,44.5,34.0&datetime=2020-01-%02d/2020-12-31&limit=1", 20)
	if err != nil {
		return err
	}
	ds, _, err = timed("/collections/incidents/items?bbox=43.0,33.0,44.5,34.0&datetime=2020-01-01/2020-12-31&limit=1", 20)
	if err != nil {
		return err
	}
	rows = append(rows, row{"numberMatched, bbox + datetime, cold p50 / p95; cached p50", "≤ 50 ms",
		fmt.Sprintf("%s / %s; %s", ms(pct(cold, 50)), ms(pct(cold, 95)), ms(pct(ds, 50)))})

	// z=6 tiles over Iraq, gzipped: cold, the first request of each of the
	// six tiles covering the country; then warm, one tile (6/39/25: Baghdad
	// to Mosul and Erbil, 80% of the set) repeated.
	cold = cold[:0]
	size = 0
	for _, xy := range [][2]int{{39, 25}, {38, 25}, {39, 26}, {38, 26}, {39, 24}, {40, 25}} {
		d, sz, err := get(fmt.Sprintf("/collections/incidents/tiles/WebMercatorQuad/6/%d/%d", xy[0], xy[1]), "Accept-Encoding", "gzip")
		if err != nil {
			return err
		}
		cold, size = append(cold, d), max(size, sz)
	}
	slices.Sort(cold)
	tile := "/collections/incidents/tiles/WebMercatorQuad/6/39/25"
	ds, _, err = timed(tile, 20, "Accept-Encoding", "gzip")
	if err != nil {
		return err
	}
	rows = append(rows, row{"z=6 tiles over Iraq (clustered), cold p50 / max; cached p95; largest", "≤ 50 ms, ≤ 200 KB",
		fmt.Sprintf("%s / %s; %s; %d KB", ms(pct(cold, 50)), ms(cold[len(cold)-1]), ms(pct(ds, 95)), size/1024)})

	// Counts per governorate (the map page's choropleth), every request a
	// different date range: not in the table, but the page asks it on
	// every filter change.
	if cold, err = eachDay("/collections/regions/items?limit=100&datetime=2019-02-%02d/2023-06-30", 10); err != nil {
		return err
	}
	d0, _, err := get("/collections/regions/items?limit=100")
	if err != nil {
		return err
	}
	rows = append(rows, row{"counts per region (choropleth), date-filtered p50 / max; unfiltered", "(the page's)",
		fmt.Sprintf("%s / %s; %s", ms(pct(cold, 50)), ms(cold[len(cold)-1]), ms(d0))})

	// Aggregations (issue 14): the timeline's month × event_type over every
	// incident. Uncached: each request a new query (a fatality bound above
	// any stored, so it still counts all 1,000,000 from the same index);
	// cached: the plain query, which serve also computes at start. And the
	// top actors, uncached the same way.
	if cold, err = eachDay("/collections/incidents/aggregate?group_by=month,event_type&max_fatalities=10000%02d", 10); err != nil {
		return err
	}
	if ds, _, err = timed("/collections/incidents/aggregate?group_by=month,event_type", 20); err != nil {
		return err
	}
	actors, err := eachDay("/collections/incidents/aggregate?group_by=actor1&limit=10&max_fatalities=20000%02d", 5)
	if err != nil {
		return err
	}
	rows = append(rows, row{"aggregate month × event_type of all, uncached p50 / max; cached p50; top actors uncached p50", "p50 ≤ 100 ms",
		fmt.Sprintf("%s / %s; %s; %s", ms(pct(cold, 50)), ms(cold[len(cold)-1]), ms(pct(ds, 50)), ms(pct(actors, 50)))})

	// /items?limit=100 under 32 concurrent connections.
	var okN, errN atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), loadFor)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, _, err := get("/collections/incidents/items?limit=100"); err != nil {
					errN.Add(1)
				} else {
					okN.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	cancel()
	el := time.Since(t0)
	rows = append(rows, row{"/items?limit=100, 32 connections", "≥ 5,000 req/s, 0 errors",
		fmt.Sprintf("%.0f req/s, %d errors (%d requests in %.1f s)", float64(okN.Load())/el.Seconds(), errN.Load(), okN.Load(), el.Seconds())})

	// Full GeoJSON export: one page of every feature, streamed. Peak RSS is
	// the server process's high-water mark (VmHWM) after the export, which
	// also covers the requests before it.
	d, size, err := get("/collections/incidents/items?limit=1000000")
	if err != nil {
		return err
	}
	hwm := vmHWM(cmd.Process.Pid)
	rows = append(rows, row{"full GeoJSON export, 1,000,000 features", "≤ 2 s, RSS ≤ 64 MB",
		fmt.Sprintf("%s, %d MB, server peak RSS %s", ms(d), size>>20, hwm)})

	// The load figure comes from building the database (gen --db), if recorded.
	if b, err := os.ReadFile(strings.TrimSuffix(db, ".db") + ".load.txt"); err == nil {
		rows = append(rows, row{"load of 1,000,000 rows (gen --db: one bulk import)", "≤ 15 s", strings.TrimSpace(string(b))})
	}
	if seqFile != "" {
		more, err := cliBenchmarks(bin, db, seqFile)
		if err != nil {
			return err
		}
		rows = append(rows, more...)
	}

	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "\n| what | target | measured |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s |\n", r.what, r.target, r.got)
	}
	return w.Flush()
}

func pct(ds []time.Duration, p int) time.Duration {
	i := (len(ds)*p + 99) / 100
	return ds[min(max(i-1, 0), len(ds)-1)]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

var hwmRe = regexp.MustCompile(`VmHWM:\s+(\d+) kB`)

// vmHWM is a process's peak resident set size, from /proc (Linux).
func vmHWM(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	m := hwmRe.FindSubmatch(b)
	if m == nil {
		return "unknown"
	}
	kb, _ := strconv.Atoi(string(m[1]))
	return fmt.Sprintf("%d MB", kb/1024)
}

// cliBenchmarks times the command line import of seqFile into a new database
// beside db, and the GeoJSON export of db to a file, with each process's
// peak RSS (getrusage).
func cliBenchmarks(bin, db, seqFile string) ([]row, error) {
	target := strings.TrimSuffix(db, ".db") + ".import-bench.db"
	for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
		os.Remove(target + suffix)
	}
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
			os.Remove(target + suffix)
		}
	}()
	var out []row
	d, rss, err := timeCommand(bin, "import", "--db", target, seqFile)
	if err != nil {
		return nil, err
	}
	out = append(out, row{"incidentmap import of 1,000,000 rows (GeoJSON text sequence, into a new database)", "≤ 15 s, bounded memory",
		fmt.Sprintf("%s, peak RSS %d MB", ms(d), rss>>20)})
	exported := strings.TrimSuffix(db, ".db") + ".export-bench.geojson"
	defer os.Remove(exported)
	d, rss, err = timeCommand(bin, "export", "--db", db, "--format", "geojson", "--out", exported)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(exported)
	if err != nil {
		return nil, err
	}
	out = append(out, row{"incidentmap export --format geojson, 1,000,000 features", "≤ 2 s, RSS ≤ 64 MB",
		fmt.Sprintf("%s for %d MB, peak RSS %d MB", ms(d), fi.Size()>>20, rss>>20)})
	return out, nil
}

// timeCommand runs bin with args and returns its wall time and peak RSS.
func timeCommand(bin string, args ...string) (time.Duration, int64, error) {
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, stderr.String())
	}
	d := time.Since(t0)
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10 // kilobytes on Linux
	}
	return d, rss, nil
}
