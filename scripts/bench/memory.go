package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"incidentmap/scripts/internal/serverproc"
)

// The memory soak (bench -memory DURATION, make bench-memory): mixed read
// traffic in which almost every request is one the server has not seen —
// filtered pages at many offsets, bbox pages, tiles of every zoom and
// filter, aggregations, region counts, long CQL2 filters, now and then a
// full download — from 32 connections, while the server's memory is read
// every few seconds: its resident set (/proc), Go's heap, SQLite's heap and
// what each cache holds (/metrics). Bounded means that the resident set
// levels off while the number of distinct requests keeps growing.

// memSample is one reading of the server's memory.
type memSample struct {
	at             time.Duration
	requests       int64
	rss, anon      int64 // bytes resident: all, anonymous (the rest is the binary's pages)
	goHeap, goHeld int64 // Go's heap in use, and all Go holds from the OS and has not released
	sql            int64 // SQLite's heap
	caches         map[string]int64
}

// runMemory serves db with the server's default memory settings and runs
// the soak for dur.
func runMemory(bin, db string, dur time.Duration) error {
	addr, err := serverproc.FreeAddr()
	if err != nil {
		return err
	}
	// Defaults but for rate limits, which would refuse most of the traffic.
	p, err := serverproc.Start(bin, db, addr, nil, 10*time.Minute, "--rate-limit", "0", "--max-limit", "1000000",
		"--write-timeout", "10m", "--request-timeout", "10m")
	if err != nil {
		return err
	}
	defer p.Stop()
	s := &server{base: p.Base, cmd: p.Cmd, proc: p,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "memory soak: %s of mixed distinct reads at 32 connections against %s (load %s)\n\n", dur, db, loadavg())
	fmt.Fprintln(w, "| s | requests | RSS MB (anonymous) | Go heap in use / Go held MB | SQLite heap MB | rest of anonymous (C malloc, stacks of threads) MB | caches MB: tiles / pages / grids / counts / aggregates |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	w.Flush()

	var reqs, errs atomic.Int64
	var firstErr atomic.Value
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 16))
			for ctx.Err() == nil {
				path, hdr := mixedRequest(r, i == 0)
				if _, _, _, err := s.get(path, hdr...); err != nil {
					if ctx.Err() == nil && errs.Add(1) == 1 {
						firstErr.Store(err.Error())
					}
				}
				reqs.Add(1)
			}
		}()
	}
	var samples []memSample
	t0 := time.Now()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	sample := func() {
		m := readMemory(s)
		m.at, m.requests = time.Since(t0), reqs.Load()
		samples = append(samples, m)
		c := m.caches
		fmt.Fprintf(w, "| %.0f | %d | %.1f (%.1f) | %.1f / %.1f | %.1f | %.1f | %.1f / %.1f / %.1f / %.1f / %.1f |\n", m.at.Seconds(), m.requests,
			mib(m.rss), mib(m.anon), mib(m.goHeap), mib(m.goHeld), mib(m.sql), mib(m.anon-m.goHeld-m.sql), mib(c["tiles"]), mib(c["pages"]), mib(c["grids"]), mib(c["counts"]), mib(c["aggregates"]))
		w.Flush()
	}
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			sample()
		}
	}
	wg.Wait()
	time.Sleep(2 * time.Second) // what the server keeps, not what it frees at once
	sample()
	if len(samples) < 2 {
		return fmt.Errorf("memory soak: too short to sample")
	}
	half := samples[len(samples)/2]
	last := samples[len(samples)-1]
	var rssMax int64
	for _, m := range samples {
		rssMax = max(rssMax, m.rss)
	}
	fmt.Fprintf(w, "\n%d requests (%.0f/s), %d errors%s; server peak RSS (VmHWM) %s, largest sample %.1f MB; RSS at half time %.1f MB after %d requests, at the end %.1f MB after %d (load %s)\n",
		last.requests, float64(last.requests)/last.at.Seconds(), errs.Load(), errNote(firstErr.Load()), vmHWM(p.Pid()), mib(rssMax),
		mib(half.rss), half.requests, mib(last.rss), last.requests, loadavg())
	return nil
}

func errNote(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf(" (first: %.200s)", v)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// readMemory reads the server's resident set and its /metrics.
func readMemory(s *server) memSample {
	pid := s.proc.Pid()
	m := memSample{rss: serverproc.ProcKB(pid, "VmRSS") << 10, anon: serverproc.ProcKB(pid, "RssAnon") << 10, caches: map[string]int64{}}
	var sys, released int64
	resp, err := s.client.Get(s.base + "/metrics")
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		switch {
		case name == "go_memstats_heap_inuse_bytes":
			m.goHeap = int64(f)
		case name == "go_memstats_sys_bytes":
			sys = int64(f)
		case name == "go_memstats_heap_released_bytes":
			released = int64(f)
		case name == "incidentmap_sqlite_memory_bytes":
			m.sql = int64(f)
		case strings.HasPrefix(name, `incidentmap_cache_bytes{cache="`):
			m.caches[strings.TrimSuffix(strings.TrimPrefix(name, `incidentmap_cache_bytes{cache="`), `"}`)] = int64(f)
		}
	}
	io.Copy(io.Discard, resp.Body)
	m.goHeld = sys - released
	return m
}

// mixedRequest is a random read request of the map page's and GIS clients'
// kinds, nearly always one not asked before; downloads (a full export
// each) only from the worker that may.
func mixedRequest(r *rand.Rand, downloads bool) (string, []string) {
	// A box inside Iraq (38.8–48.6 E, 29.0–37.4 N), of 0.05–2 degrees.
	box := func() string {
		w := 0.05 + r.Float64()*1.95
		x, y := 38.8+r.Float64()*(9.8-w), 29.0+r.Float64()*(8.4-w)
		return fmt.Sprintf("%.4f,%.4f,%.4f,%.4f", x, y, x+w, y+w)
	}
	year := 2015 + r.IntN(10)
	switch k := r.IntN(100); {
	case downloads && k == 0:
		return "/collections/incidents/download?f=" + []string{"geojson", "geojsonseq", "csv"}[r.IntN(3)], nil
	case k < 30: // a filtered page at some offset
		shape := filterShapes[r.IntN(len(filterShapes))]
		vals := url.Values{}
		for _, kv := range strings.Split(shape, "&") {
			key, v, _ := strings.Cut(kv, "=")
			vals.Set(key, v)
		}
		vals.Set("limit", strconv.Itoa([]int{10, 100, 100, 1000}[r.IntN(4)]))
		vals.Set("offset", strconv.Itoa(100*r.IntN(50)))
		return "/collections/incidents/items?" + vals.Encode(), nil
	case k < 45: // a bbox page, often with dates
		q := "bbox=" + box() + "&limit=" + []string{"100", "1000"}[r.IntN(2)]
		if r.IntN(2) == 0 {
			q += fmt.Sprintf("&datetime=%d-01-01/%d-12-31", year, year)
		}
		return "/collections/incidents/items?" + q, nil
	case k < 75: // a tile of any zoom over Iraq, some filtered
		z := maptile.Zoom(4 + r.IntN(11))
		t := maptile.At(orb.Point{38.8 + r.Float64()*9.8, 29.0 + r.Float64()*8.4}, z)
		q := []string{"", "", "?event_types=Battles,Riots", fmt.Sprintf("?datetime=%d-01-01/%d-12-31", year, year), "?min_fatalities=3"}[r.IntN(5)]
		return fmt.Sprintf("/collections/incidents/tiles/WebMercatorQuad/%d/%d/%d%s", t.Z, t.X, t.Y, q), []string{"Accept-Encoding", "gzip"}
	case k < 85: // an aggregation (the timeline, charts) of a new filter state
		g := []string{"month,event_type", "week", "year,sub_event_type", "actor1&limit=10", "admin1"}[r.IntN(5)]
		return fmt.Sprintf("/collections/incidents/aggregate?group_by=%s&datetime=%d-%02d-01/..&max_fatalities=%d", g, year, 1+r.IntN(12), 1000+r.IntN(100000)), nil
	case k < 92: // the choropleth of a date range
		return fmt.Sprintf("/collections/regions/items?limit=100&datetime=%d-%02d-%02d/2025-12-31", year, 1+r.IntN(12), 1+r.IntN(28)), nil
	default: // a long CQL2 filter (a key of kilobytes in every cache)
		var ids []string
		for range 200 + r.IntN(400) {
			ids = append(ids, strconv.Itoa(1+r.IntN(1_000_000)))
		}
		slices.Sort(ids)
		return "/collections/incidents/items?limit=100&filter=" + url.QueryEscape("fatalities >= 0 AND id IN ("+strings.Join(ids, ",")+")"), nil
	}
}

// memoryRow is the server's memory after everything before it in the run,
// and what holds it.
func memoryRow(s *server) row {
	m := readMemory(s)
	var caches int64
	for _, b := range m.caches {
		caches += b
	}
	return row{"server RSS after the whole run (load, filtered table, tiles, aggregates, downloads): peak; now, of which anonymous: Go held / SQLite heap; caches' bytes", "bounded, ≤ 64 MB",
		fmt.Sprintf("peak %s; now %.1f MB, anonymous %.1f MB: Go %.1f MB (heap in use %.1f) / SQLite %.1f MB; caches %.1f MB (load %s)",
			vmHWM(s.proc.Pid()), mib(m.rss), mib(m.anon), mib(m.goHeld), mib(m.goHeap), mib(m.sql), mib(caches), loadavg())}
}
