// Command bench measures incidentmap against large databases.
//
// make bench: it starts `incidentmap serve` on 127.0.0.1 over one database,
// drives it with plain HTTP clients and prints the table of the issue #8 and
// #16 targets, then the table of filtered queries (every items parameter and
// the common CQL2 shapes, alone and combined).
//
// make bench-growth (-growth 100000,1000000,10000000): builds a database of
// each size with gen (once, kept in -data) and prints how each cost grows
// with the data.
//
// Figures are wall-clock on whatever machine runs it; a shared machine makes
// them noisy, so it reports percentiles over repeated requests. "Cold" means
// that no cache of ours answers: the server starts without its tile warm-up,
// a cold tile is checked to be an X-Cache MISS, and a cold count is the first
// request of its query after start (counts are cached per query).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"incidentmap/scripts/internal/serverproc"
)

func main() {
	bin := flag.String("bin", "./incidentmap", "the incidentmap binary")
	db := flag.String("db", "bench-data/bench-1m.db", "database to serve (not modified)")
	loadSecs := flag.Int("load-seconds", 5, "duration of the 32-connection load")
	seqFile := flag.String("import", "", "also time `incidentmap import` of this GeoJSON text sequence file into a new database, and `incidentmap export` of the database")
	filters := flag.Bool("filters", true, "also print the table of filtered queries")
	growth := flag.String("growth", "", "comma-separated database sizes: build each with gen in -data (once) and print the growth table instead")
	data := flag.String("data", "bench-data", "folder of the growth databases")
	shapes := flag.String("shapes", "", "print only the table of filtered queries, of the shapes this regular expression matches (\".\" for all)")
	memory := flag.Duration("memory", 0, "run the memory soak instead for this long: mixed distinct reads at 32 connections, the server's RSS, Go heap, SQLite heap and cache bytes every 5 s")
	bbox := flag.Bool("bbox", false, "print only the rows of the bbox page of 1,000 (built, 8 connections) and of uncached pages of 100")
	tiles := flag.Bool("tiles", false, "print only the cold tile rows of the growth table for -db, each with the server's CPU time for its six tiles")
	engines := flag.Bool("engines", false, "print the engines table instead: the SQLite engine on -db and the PostGIS engine on a throw-away PostgreSQL loaded from it by migrate, side by side")
	flag.Parse()
	var err error
	if *memory > 0 {
		err = runMemory(*bin, *db, *memory)
	} else if *bbox {
		err = runBBox(*bin, *db, time.Duration(*loadSecs)*time.Second)
	} else if *tiles {
		err = runTiles(*bin, *db)
	} else if *engines {
		err = runEngines(*bin, *db, time.Duration(*loadSecs)*time.Second)
	} else if *shapes != "" {
		err = runShapes(*bin, *db, *shapes)
	} else if *growth != "" {
		err = runGrowth(*bin, *data, *growth)
	} else {
		err = run(*bin, *db, time.Duration(*loadSecs)*time.Second, *seqFile, *filters)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type row struct{ what, target, got string }

// server is a running `incidentmap serve` and a client for it.
type server struct {
	base    string
	cmd     *exec.Cmd
	proc    *serverproc.Server
	client  *http.Client
	started time.Duration // process start to /readyz 200
}

// startServer serves db on a free loopback port, without the tile warm-up
// (so that tiles are cold until asked) and without rate limits, and waits
// until it is ready.
func startServer(bin, db string) (*server, error) {
	addr, err := serverproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	p, err := serverproc.Start(bin, db, addr, nil, 10*time.Minute, "--max-limit", "1000000",
		"--rate-limit", "0", "--write-timeout", "10m", "--request-timeout", "10m", "--warm-tiles=false")
	if err != nil {
		return nil, err
	}
	return &server{base: p.Base, cmd: p.Cmd, proc: p, started: p.Started,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}}, nil
}

func (s *server) stop() { s.proc.Stop() }

// get fetches path and returns the round trip, the body size and the
// response's X-Cache header.
func (s *server) get(path string, hdr ...string) (time.Duration, int, string, error) {
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	t0 := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return time.Since(t0), int(n), resp.Header.Get("X-Cache"), err
}

// timed fetches path n times and returns the sorted round trips.
func (s *server) timed(path string, n int, hdr ...string) ([]time.Duration, int, error) {
	var ds []time.Duration
	size := 0
	for range n {
		d, sz, _, err := s.get(path, hdr...)
		if err != nil {
			return nil, 0, err
		}
		ds, size = append(ds, d), sz
	}
	slices.Sort(ds)
	return ds, size, nil
}

// getBody is get that also returns the body.
func (s *server) getBody(path string) (time.Duration, []byte, string, error) {
	t0 := time.Now()
	resp, err := s.client.Get(s.base + path)
	if err != nil {
		return 0, nil, "", err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("GET %s: status %d: %.200s", path, resp.StatusCode, body)
	}
	return time.Since(t0), body, resp.Header.Get("X-Cache"), err
}

// cold fetches path and fails if a cache of the server answered it
// (X-Cache HIT): a cold figure is a request the server worked for.
func (s *server) cold(path string) (time.Duration, []byte, error) {
	d, body, xc, err := s.getBody(path)
	if err == nil && xc == "HIT" {
		err = fmt.Errorf("GET %s: X-Cache HIT: not a cold request", path)
	}
	return d, body, err
}

var matchedRe = regexp.MustCompile(`"numberMatched":(\d+)`)

// counted asks path cold and, when the answer goes without numberMatched
// (the server left a long count to the background), asks again every 10 ms
// until it carries it: first is the first answer's round trip and with
// whether it carried the number, counted the time from the first request to
// an answer with it, matched the number ("" when there is none after
// countPatience).
func (s *server) counted(path string) (first time.Duration, with string, counted time.Duration, matched string, err error) {
	t0 := time.Now()
	first, body, err := s.cold(path)
	with = "with numberMatched"
	for err == nil {
		if m := matchedRe.FindSubmatch(body); m != nil {
			return first, with, time.Since(t0), string(m[1]), nil
		}
		with = "without numberMatched"
		if time.Since(t0) > countPatience {
			return first, with, time.Since(t0), "", nil
		}
		time.Sleep(10 * time.Millisecond)
		_, body, _, err = s.getBody(path)
	}
	return 0, "", 0, "", err
}

// countPatience is how long counted waits for a background count.
const countPatience = 3 * time.Minute

// eachDay times one request of format (a path with a %02d day) for days 1
// to n, sorted: each a different query, so no cached count answers it (and
// none is a cache hit). With count, each figure is the time until the answer
// carries numberMatched (see counted).
func (s *server) eachDay(format string, n int, count ...bool) ([]time.Duration, error) {
	var out []time.Duration
	for day := 1; day <= n; day++ {
		path := fmt.Sprintf(format, day)
		var d time.Duration
		var err error
		if len(count) > 0 && count[0] {
			_, _, d, _, err = s.counted(path)
		} else {
			d, _, err = s.cold(path)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return out, nil
}

// offsetPages times pages 2 to n+1 of a limit=100 path (offsets 100, 200,
// …, past the path's own offset): the count is cached after the first page,
// the pages are not.
func (s *server) offsetPages(path string, n int) ([]time.Duration, error) {
	u, err := url.Parse(path)
	if err != nil {
		return nil, err
	}
	vals := u.Query()
	base, _ := strconv.Atoi(vals.Get("offset"))
	var out []time.Duration
	for i := 1; i <= n; i++ {
		vals.Set("offset", strconv.Itoa(base+i*100))
		u.RawQuery = vals.Encode()
		d, _, _, err := s.get(u.String())
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return out, nil
}

// coldTiles fetches each tile once, gzipped, and fails unless the server
// built it for the request (X-Cache MISS): a tile served from a cache is not
// a cold figure.
func (s *server) coldTiles(z int, xys [][2]int) ([]time.Duration, int, error) {
	return s.coldTilesOf(z, xys, "")
}

// coldTilesOf is coldTiles with the query (filter parameters) query.
func (s *server) coldTilesOf(z int, xys [][2]int, query string) ([]time.Duration, int, error) {
	var out []time.Duration
	size := 0
	for _, xy := range xys {
		path := fmt.Sprintf("/collections/incidents/tiles/WebMercatorQuad/%d/%d/%d", z, xy[0], xy[1])
		if query != "" {
			path += "?" + query
		}
		d, sz, xc, err := s.get(path, "Accept-Encoding", "gzip")
		if err != nil {
			return nil, 0, err
		}
		if xc != "MISS" {
			return nil, 0, fmt.Errorf("GET %s: X-Cache %q, want MISS: not a cold tile", path, xc)
		}
		out, size = append(out, d), max(size, sz)
	}
	slices.Sort(out)
	return out, size, nil
}

// z6Iraq are the six z=6 tiles covering Iraq; 6/39/25 (Baghdad to Mosul and
// Erbil) holds 80% of the synthetic set.
var z6Iraq = [][2]int{{39, 25}, {38, 25}, {39, 26}, {38, 26}, {39, 24}, {40, 25}}

// z10Baghdad are z=10 tiles over Baghdad and around it (dense).
var z10Baghdad = [][2]int{{638, 414}, {637, 414}, {638, 413}, {637, 413}, {639, 414}, {638, 415}}

// z10Dense are the densest z=10 tiles of the synthetic set: 10/638/411
// (Baghdad) holds 12 % of it, 10/634/400 (Mosul) 6 %.
var z10Dense = [][2]int{{638, 411}, {634, 400}, {636, 411}, {637, 411}, {638, 412}, {639, 411}}

// z12Baghdad are the densest z=12 tiles of the synthetic set, over central
// Baghdad (12/2552/1645 holds 2.8 % of it) and Mosul (12/2538/1603).
var z12Baghdad = [][2]int{{2552, 1645}, {2538, 1603}, {2553, 1645}, {2540, 1644}, {2552, 1644}, {2553, 1644}}

// tileRows are the cold tile rows of the growth table: unfiltered, by event
// type (both answered by the engines' pre-aggregates), and with a date range
// (SQLite's tile_periods, zooms 0–10; PostGIS reads the incidents).
var tileRows = []struct {
	name  string
	z     int
	xys   [][2]int
	query string
}{
	{"z=6 tiles over Iraq, cold p50 / max of 6", 6, z6Iraq, ""},
	{"z=10 tiles over Baghdad, cold p50 / max of 6", 10, z10Baghdad, ""},
	{"z=10 densest tiles (Baghdad, Mosul), cold p50 / max of 6", 10, z10Dense, ""},
	{"z=12 densest tiles (Baghdad, Mosul), cold p50 / max of 6", 12, z12Baghdad, ""},
	{"z=6 tiles over Iraq, `event_types=Battles,Riots`, cold p50 / max of 6", 6, z6Iraq, "event_types=Battles,Riots"},
	{"z=6 tiles over Iraq, `datetime=2021` (SQLite: tile_periods), cold p50 / max of 6", 6, z6Iraq, "datetime=2021-01-01/2021-12-31"},
	{"z=10 densest tiles, `datetime=2021` (SQLite: tile_periods), cold p50 / max of 6", 10, z10Dense, "datetime=2021-01-01/2021-12-31"},
}

// runTiles prints the growth table's cold tile rows for db alone, with the
// server's CPU time (user + system, from /proc) per row of six tiles: on a
// busy machine wall time is mostly waiting for a core, the CPU is not.
func runTiles(bin, db string) error {
	s, err := startServer(bin, db)
	if err != nil {
		return err
	}
	defer s.stop()
	fmt.Printf("\n| cold tiles (%s) | p50 / max | server CPU for the 6 |\n|---|---|---|\n", filepath.Base(db))
	for _, t := range tileRows {
		cpu0 := serverproc.CPU(s.proc.Pid())
		cold, _, err := s.coldTilesOf(t.z, t.xys, t.query)
		if err != nil {
			return err
		}
		cpu := serverproc.CPU(s.proc.Pid()) - cpu0
		fmt.Printf("| %s | %s / %s | %s |\n", t.name, ms(pct(cold, 50)), ms(cold[len(cold)-1]), ms(cpu))
	}
	return nil
}

func run(bin, db string, loadFor time.Duration, seqFile string, filters bool) error {
	var rows []row
	s, err := startServer(bin, db)
	if err != nil {
		return err
	}
	defer s.stop()
	rows = append(rows, row{"server start on the existing DB (to /readyz 200)", "≤ 1 s", ms(s.started)})

	brows, err := bboxRows(s, loadFor)
	if err != nil {
		return err
	}
	rows = append(rows, brows...)

	// numberMatched of a bbox+date filter (limit=1: the count dominates):
	// cold, every request a different date range so no cached count serves
	// it; then warm, one filter repeated.
	cold, err := s.eachDay("/collections/incidents/items?bbox=43.0,33.0,44.5,34.0&datetime=2020-01-%02d/2020-12-31&limit=1", 20, true)
	if err != nil {
		return err
	}
	ds, _, err := s.timed("/collections/incidents/items?bbox=43.0,33.0,44.5,34.0&datetime=2020-01-01/2020-12-31&limit=1", 20)
	if err != nil {
		return err
	}
	rows = append(rows, row{"numberMatched, bbox + datetime, cold p50 / p95 (until an answer carries it); cached p50", "≤ 50 ms",
		fmt.Sprintf("%s / %s; %s", ms(pct(cold, 50)), ms(pct(cold, 95)), ms(pct(ds, 50)))})

	// z=6 tiles over Iraq and z=10 over Baghdad, gzipped: cold (the server
	// started without warm-up; each checked to be a MISS), then cached, one
	// tile repeated.
	cold, size, err := s.coldTiles(6, z6Iraq)
	if err != nil {
		return err
	}
	ds, _, err = s.timed("/collections/incidents/tiles/WebMercatorQuad/6/39/25", 20, "Accept-Encoding", "gzip")
	if err != nil {
		return err
	}
	rows = append(rows, row{"z=6 tiles over Iraq (clustered), cold p50 / max of 6; cached p95; largest", "≤ 50 ms p95 cold, ≤ 200 KB",
		fmt.Sprintf("%s / %s; %s; %d KB", ms(pct(cold, 50)), ms(cold[len(cold)-1]), ms(pct(ds, 95)), size/1024)})
	cold, size, err = s.coldTiles(10, z10Baghdad)
	if err != nil {
		return err
	}
	rows = append(rows, row{"z=10 tiles over Baghdad, cold p50 / max of 6; largest", "≤ 50 ms p95 cold",
		fmt.Sprintf("%s / %s; %d KB", ms(pct(cold, 50)), ms(cold[len(cold)-1]), size/1024)})

	// Counts per governorate (the map page's choropleth), every request a
	// different date range.
	if cold, err = s.eachDay("/collections/regions/items?limit=100&datetime=2019-02-%02d/2023-06-30", 10); err != nil {
		return err
	}
	d0, _, _, err := s.get("/collections/regions/items?limit=100")
	if err != nil {
		return err
	}
	rows = append(rows, row{"counts per region (choropleth), date-filtered p50 / max; unfiltered", "(the page's)",
		fmt.Sprintf("%s / %s; %s", ms(pct(cold, 50)), ms(cold[len(cold)-1]), ms(d0))})

	// Aggregations (issue 14): the timeline's month × event_type over every
	// incident. Uncached: each request a new query — an open date range
	// starting before the first incident (so it still counts all 1,000,000,
	// from daily_stats), or a fatality bound above any stored (from the
	// incidents' index, as any other filter); cached: the plain query again.
	// And the top actors, uncached.
	if cold, err = s.eachDay("/collections/incidents/aggregate?group_by=month,event_type&datetime=2015-12-%02d/..", 10); err != nil {
		return err
	}
	viaIndex, err := s.eachDay("/collections/incidents/aggregate?group_by=month,event_type&max_fatalities=10000%02d", 5)
	if err != nil {
		return err
	}
	if ds, _, err = s.timed("/collections/incidents/aggregate?group_by=month,event_type", 20); err != nil {
		return err
	}
	actors, err := s.eachDay("/collections/incidents/aggregate?group_by=actor1&limit=10&max_fatalities=20000%02d", 5)
	if err != nil {
		return err
	}
	rows = append(rows, row{"aggregate month × event_type of all, uncached p50 / max (daily_stats); uncached via the index p50; cached p50; top actors uncached p50", "p50 ≤ 100 ms",
		fmt.Sprintf("%s / %s; %s; %s; %s", ms(pct(cold, 50)), ms(cold[len(cold)-1]), ms(pct(viaIndex, 50)), ms(pct(ds, 50)), ms(pct(actors, 50)))})
	// The same with the filters an analyst adds (issue 14: an actor, a
	// region, a box, a word), uncached: each request a new fatality bound
	// above any stored. SQLite reads them from its stats index.
	var filtered []string
	for _, f := range []string{"actors=Kataib%%20Hezbollah", "regions=Baghdad", "bbox=44.2,33.2,44.6,33.5", "q=Mosul"} {
		d, err := s.eachDay("/collections/incidents/aggregate?group_by=month,event_type&"+f+"&max_fatalities=30000%02d", 3)
		if err != nil {
			return err
		}
		filtered = append(filtered, ms(pct(d, 50)))
	}
	rows = append(rows, row{"aggregate month × event_type filtered, uncached p50 of 3: actors / regions / bbox / q", "(fast at 1M)",
		strings.Join(filtered, " / ")})

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
				if _, _, _, err := s.get("/collections/incidents/items?limit=100"); err != nil {
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

	var frows []row
	if filters {
		if frows, err = filteredTable(s, nil); err != nil {
			return err
		}
	}

	// Full GeoJSON export: one page of every feature, streamed. Peak RSS is
	// the server process's high-water mark (VmHWM) after the export, which
	// also covers the requests before it.
	d, size, _, err := s.get("/collections/incidents/items?limit=1000000")
	if err != nil {
		return err
	}
	hwm := vmHWM(s.cmd.Process.Pid)
	rows = append(rows, row{"full GeoJSON export, 1,000,000 features", "≤ 1.5 s, RSS ≤ 64 MB",
		fmt.Sprintf("%s, %d MB, server peak RSS %s", ms(d), size>>20, hwm)})
	more, err := exportImportRows(bin, db, s)
	if err != nil {
		return err
	}
	rows = append(rows, more...)
	rows = append(rows, memoryRow(s))

	// The load figure comes from building the database (gen --db), if recorded.
	if b, err := os.ReadFile(strings.TrimSuffix(db, ".db") + ".load.txt"); err == nil {
		rows = append(rows, row{"load of the database (gen --db: one bulk import)", "≤ 10 s a million", strings.TrimSpace(string(b))})
	}
	if seqFile != "" {
		more, err := cliBenchmarks(bin, db, seqFile)
		if err != nil {
			return err
		}
		rows = append(rows, more...)
	}

	w := bufio.NewWriter(os.Stdout)
	printTable(w, []string{"what", "target", "measured"}, rows)
	if len(frows) > 0 {
		fmt.Fprintf(w, "\nFiltered pages of 100 (items?limit=100&…): cold is the first request of the query after start (neither its count nor its page cached; a count longer than the page is left to the background and the page goes without numberMatched); counted the time from that request to an answer with numberMatched; next pages the p50 of offsets 100–500 (count cached, pages built); repeated the p50 of the first page again (page cache).\n")
		printTable(w, []string{"filter", "matched", "cold (numberMatched?); counted; next pages p50; repeated p50"}, frows)
	}
	return w.Flush()
}

// bboxRows are the rows of the bbox page of 1,000 (issue 16: p50 ≤ 5 ms
// built; ≥ 10× the peer from 8 connections) and of uncached pages of 100.
func bboxRows(s *server, loadFor time.Duration) ([]row, error) {
	var rows []row
	// A bbox page of 1,000 features in central Baghdad (dense): round trip on
	// loopback, so it includes encoding and transfer of the whole page: 20
	// pages built (after a cold first one), then the first repeated (served
	// by the page cache).
	_, built, err := s.bboxPages()
	if err != nil {
		return nil, err
	}
	ds, size, err := s.timed("/collections/incidents/items?bbox=44.30,33.25,44.45,33.40&limit=1000", 60)
	if err != nil {
		return nil, err
	}
	rows = append(rows, row{"bbox page of 1,000 features: built (20 next pages, count cached) p50 / p99; the first page repeated (page cache) p50 / p99", "≤ 5 / ≤ 20 ms",
		fmt.Sprintf("%s / %s; %s / %s; %d KB", ms(pct(built, 50)), ms(pct(built, 99)), ms(pct(ds, 50)), ms(pct(ds, 99)), size/1024)})

	// The same pages from 8 connections at once, every one built.
	rate, err := s.builtBBoxLoad(8, loadFor)
	if err != nil {
		return nil, err
	}
	rows = append(rows, row{"bbox pages of 1,000 built (never the page cache), 8 connections, each paging through boxes of its own in central Baghdad (a new box's first page, then offsets 1,000–20,000)", "≥ 10× the peer (≥ 210 req/s)", rate})

	// Pages of 100 deep in id order from 32 connections, each offset asked
	// once (the page cache cannot answer).
	rows = append(rows, row{"`/items?limit=100&offset=N`, 32 connections, N = 0…9,999 (no page cache)", "(was 1,225 req/s quiet)",
		s.load("/collections/incidents/items?limit=100&offset=%d", 10000, loadFor)})
	return rows, nil
}

// runBBox prints only the rows of bboxRows.
func runBBox(bin, db string, loadFor time.Duration) error {
	s, err := startServer(bin, db)
	if err != nil {
		return err
	}
	defer s.stop()
	fmt.Fprintf(os.Stderr, "bbox rows: %s; load average %s at start\n", machine(), loadavg())
	rows, err := bboxRows(s, loadFor)
	if err != nil {
		return err
	}
	printTable(os.Stdout, []string{"what", "target", "measured"}, rows)
	fmt.Printf("\nload average %s at the end; server CPU %s in all, peak RSS %s\n", loadavg(), ms(procStatCPU(s.cmd.Process.Pid)), vmHWM(s.cmd.Process.Pid))
	return nil
}

func printTable(w io.Writer, head []string, rows []row) {
	fmt.Fprintf(w, "\n| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s |\n", r.what, r.target, r.got)
	}
}

// filterShapes are the filtered queries of the table: every items parameter
// alone and the common CQL2 shapes, alone and combined (the shapes of the
// plan guard, server/plan_test.go), with values the synthetic set holds.
var filterShapes = []string{
	"event_type=Battles",
	"event_types=Battles,Riots",
	"sub_event_type=Armed clash",
	"sub_event_types=Armed clash,Arrests",
	"region=Anbar",
	"regions=Anbar,IQ-BG",
	"admin1=Baghdad",
	"admin2=Falluja",
	"actor1=Military Forces of Iraq (2014-)",
	"actors=Islamic State (Iraq)",
	"location=Fallujah",
	"source=synthetic",
	"fatalities=3",
	"min_fatalities=3",
	"min_fatalities=40",
	"max_fatalities=0",
	"datetime=2021-05-08",
	"datetime=2021-01-01/2021-12-31",
	"datetime=2024-06-01/..",
	"q=drone",
	"q=drone&sortby=relevance",
	"bbox=44.30,33.25,44.45,33.40",
	"bbox=38.8,29.0,48.6,37.4",
	"offset=5000",
	"filter=fatalities>=3 AND event_type='Battles'",
	"filter=event_type IN ('Battles','Riots')",
	"filter=event_type<>'Protests'",
	"filter=fatalities BETWEEN 1 AND 5",
	"filter=event_date BETWEEN DATE('2021-01-01') AND DATE('2021-03-31') AND fatalities>=1",
	"filter=admin1='Baghdad' AND event_date>=DATE('2021-01-01')",
	"filter=actor1 LIKE 'Military%'",
	"filter=S_INTERSECTS(geometry,BBOX(44.30,33.25,44.45,33.40))",
	"filter=event_type='Battles' OR fatalities>10",
	"event_type=Battles&min_fatalities=3",
	"region=Anbar&datetime=2021-01-01/2021-12-31",
	"regions=Anbar&datetime=2021-01-01/2021-12-31",
	"event_type=Battles&region=Baghdad&datetime=2021-01-01/2021-12-31&min_fatalities=1",
	"bbox=44.30,33.25,44.45,33.40&datetime=2021-01-01/2021-12-31",
	"bbox=38.8,29.0,48.6,37.4&event_type=Battles&min_fatalities=3",
	"q=drone&datetime=2021-01-01/2021-12-31",
	"q=drone&bbox=38.8,29.0,48.6,37.4",
	"sub_event_type=Armed clash&datetime=2021-01-01/2021-12-31",
	"datetime=2021-01-01/2021-12-31&filter=event_type='Battles'",
}

// itemsPath is the items URL of a shape: name=value pairs joined by &, the
// values as typed (query-escaped here).
func itemsPath(shape string) string {
	vals := url.Values{"limit": {"100"}}
	for _, kv := range strings.Split(shape, "&") {
		k, v, _ := strings.Cut(kv, "=")
		vals.Set(k, v)
	}
	return "/collections/incidents/items?" + vals.Encode()
}

// filteredTable times every filter shape: the first request (cold: neither
// its count nor its page cached, checked not to be a cache hit), whether it
// carried numberMatched, the time until an answer did (the count finished
// in the background; waited for, so that no count of one shape runs under
// the next one's figures), the p50 of its next five pages (the count cached,
// each page built), and the p50 of five repeats of the first page (served
// from the page cache).
func filteredTable(s *server, only *regexp.Regexp) ([]row, error) {
	var out []row
	for _, shape := range filterShapes {
		if only != nil && !only.MatchString(shape) {
			continue
		}
		path := itemsPath(shape)
		first, withCount, counted, matched, err := s.counted(path)
		if err != nil {
			out = append(out, row{"`" + shape + "`", "—", err.Error()})
			continue
		}
		if matched == "" {
			matched = "not counted in " + countPatience.String()
		}
		warm, err := s.offsetPages(path, 5)
		if err != nil {
			return nil, err
		}
		ds, _, err := s.timed(path, 5)
		if err != nil {
			return nil, err
		}
		out = append(out, row{"`" + shape + "`", matched, fmt.Sprintf("%s (%s); %s; %s; %s",
			ms(first), withCount, ms(counted), ms(pct(warm, 50)), ms(pct(ds, 50)))})
	}
	return out, nil
}

// runShapes serves db and prints the filtered table of the shapes the
// regular expression expr matches: the rows of one change, measured without
// the rest of make bench.
func runShapes(bin, db, expr string) error {
	only, err := regexp.Compile(expr)
	if err != nil {
		return fmt.Errorf("-shapes: %w", err)
	}
	s, err := startServer(bin, db)
	if err != nil {
		return err
	}
	defer s.stop()
	rows, err := filteredTable(s, only)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	printTable(w, []string{"filter", "matched", "cold (numberMatched?); counted; next pages p50; repeated p50"}, rows)
	return w.Flush()
}

// coldSweep asks the first page of every filter shape (but those in
// asked, whose pages are cached) once, cold, without waiting for counts, and
// says the p50 and max of those round trips, which was slowest, and how many
// went without numberMatched: the "every filtered first page" figure of
// issue 16.
func coldSweep(s *server, asked []string) (string, error) {
	var ds []time.Duration
	slowest, without := "", 0
	for _, shape := range filterShapes {
		if slices.Contains(asked, shape) {
			continue
		}
		d, body, err := s.cold(itemsPath(shape))
		if err != nil {
			return "", err
		}
		if len(ds) == 0 || d > slices.Max(ds) {
			slowest = shape
		}
		if !matchedRe.Match(body) {
			without++
		}
		ds = append(ds, d)
	}
	slices.Sort(ds)
	return fmt.Sprintf("%s / %s (`%s`); %d of %d without numberMatched", ms(pct(ds, 50)), ms(ds[len(ds)-1]), slowest, without, len(ds)), nil
}

func pct(ds []time.Duration, p int) time.Duration {
	i := (len(ds)*p + 99) / 100
	return ds[min(max(i-1, 0), len(ds)-1)]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

// vmHWM is a process's peak resident set size, from /proc (Linux).
func vmHWM(pid int) string {
	kb := serverproc.ProcKB(pid, "VmHWM")
	if kb == 0 {
		return "unknown"
	}
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
	out = append(out, row{"incidentmap import of 1,000,000 rows (GeoJSON text sequence, into a new database)", "≤ 10 s, ≤ 128 MB",
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
	out = append(out, row{"incidentmap export --format geojson, 1,000,000 features", "≤ 1.5 s, RSS ≤ 64 MB",
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

// sizeName is how a growth database of n incidents is named: 100k, 1m, 10m.
func sizeName(n int) string {
	switch {
	case n%1000000 == 0:
		return fmt.Sprintf("%dm", n/1000000)
	case n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.Itoa(n)
}

// growthDB returns the database of n synthetic incidents in data, building
// it with gen --db (seed 1) when missing, and the line saying how long the
// build took and its peak RSS (kept beside it in .load.txt).
func growthDB(bin, data string, n int) (string, string, error) {
	db := filepath.Join(data, "bench-"+sizeName(n)+".db")
	loadFile := strings.TrimSuffix(db, ".db") + ".load.txt"
	if _, err := os.Stat(db); err != nil {
		if err := os.MkdirAll(data, 0o755); err != nil {
			return "", "", err
		}
		tmp := db + ".tmp"
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(tmp + suffix)
		}
		fmt.Fprintf(os.Stderr, "building %s (%d synthetic incidents, once)\n", db, n)
		d, rss, err := timeCommand(bin, "gen", "--n", strconv.Itoa(n), "--seed", "1", "--db", tmp)
		if err != nil {
			return "", "", err
		}
		if err := os.Rename(tmp, db); err != nil {
			return "", "", err
		}
		line := fmt.Sprintf("gen --db of %d in %.1f s, peak RSS %d MB", n, d.Seconds(), rss>>20)
		if err := os.WriteFile(loadFile, []byte(line+"\n"), 0o644); err != nil {
			return "", "", err
		}
	}
	b, _ := os.ReadFile(loadFile)
	return db, strings.TrimSpace(string(b)), nil
}

var loadSecondsRe = regexp.MustCompile(`in ([0-9.]+) ?s`)

// runGrowth prints, for each size, what issue 16's growth table asks.
func runGrowth(bin, data, sizes string) error {
	var ns []int
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-growth: %q is not a size", s)
		}
		ns = append(ns, n)
	}
	measures := []string{
		"first open (schema migrations, if any: token list)",
		"server start (to /readyz 200)",
		"bbox page of 1,000 (central Baghdad), p50 of 20 pages built, count cached (first)",
		"count of bbox + datetime, cold p50 of 10 (until an answer carries numberMatched)",
	}
	for _, t := range tileRows {
		measures = append(measures, t.name)
	}
	measures = append(measures,
		"`filter=event_type='Battles' AND fatalities>=3`, cold page (numberMatched?); counted after; next pages p50",
		"`regions=Anbar&datetime=2021-01-01/2021-12-31`, cold page (numberMatched?); counted after; next pages p50",
		"`q=drone`, cold page (numberMatched?); counted after; next pages p50",
		"`event_type=Battles&min_fatalities=3`, cold page (numberMatched?); counted after; next pages p50",
		"CLI export, GeoJSON: per million rows (peak RSS)",
		"import (gen --db): per million rows",
		"every other filtered first page (the shapes of make bench but the four above), cold p50 / max (slowest); without numberMatched",
		"database size",
		"server peak RSS after the above",
	)
	cols := make([][]string, len(ns))
	for i, n := range ns {
		db, loadLine, err := growthDB(bin, data, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "measuring %s\n", db)
		col, err := growthColumn(bin, db, n, loadLine)
		if err != nil {
			return fmt.Errorf("%s: %w", db, err)
		}
		cols[i] = col
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "\n| measure |")
	for _, n := range ns {
		fmt.Fprintf(w, " %s |", sizeName(n))
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(ns)))
	for j, m := range measures {
		fmt.Fprintf(w, "| %s |", m)
		for i := range ns {
			fmt.Fprintf(w, " %s |", cols[i][j])
		}
		fmt.Fprintln(w)
	}
	return w.Flush()
}

// growthColumn measures one database, in the order of runGrowth's measures.
func growthColumn(bin, db string, n int, loadLine string) ([]string, error) {
	perMillion := func(d time.Duration) string {
		return fmt.Sprintf("%.1f s", d.Seconds()*1e6/float64(n))
	}
	// Opening the file once first: a database made by an older build is
	// migrated here, not inside the server start figure.
	open, _, err := timeCommand(bin, "token", "list", "--db", db)
	if err != nil {
		return nil, err
	}
	s, err := startServer(bin, db)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	col := []string{ms(open), ms(s.started)}
	first, built, err := s.bboxPages()
	if err != nil {
		return nil, err
	}
	col = append(col, fmt.Sprintf("%s (%s)", ms(pct(built, 50)), ms(first)))
	cold, err := s.eachDay("/collections/incidents/items?bbox=43.0,33.0,44.5,34.0&datetime=2020-01-%02d/2020-12-31&limit=1", 10, true)
	if err != nil {
		return nil, err
	}
	col = append(col, ms(pct(cold, 50)))
	for _, t := range tileRows {
		cold, _, err := s.coldTilesOf(t.z, t.xys, t.query)
		if err != nil {
			return nil, err
		}
		col = append(col, fmt.Sprintf("%s / %s", ms(pct(cold, 50)), ms(cold[len(cold)-1])))
	}
	asked := []string{"filter=event_type='Battles' AND fatalities>=3",
		"regions=Anbar&datetime=2021-01-01/2021-12-31", "q=drone", "event_type=Battles&min_fatalities=3"}
	for _, shape := range asked {
		path := itemsPath(shape)
		// The count waited for, so that it does not run under later figures.
		first, withCount, counted, _, err := s.counted(path)
		if err != nil {
			return nil, err
		}
		ds, err := s.offsetPages(path, 5)
		if err != nil {
			return nil, err
		}
		col = append(col, fmt.Sprintf("%s (%s); %s; %s", ms(first), withCount, ms(counted), ms(pct(ds, 50))))
	}
	d, rss, err := timeCommand(bin, "export", "--db", db, "--format", "geojson")
	if err != nil {
		return nil, err
	}
	col = append(col, fmt.Sprintf("%s (%d MB)", perMillion(d), rss>>20))
	load := "—"
	if m := loadSecondsRe.FindStringSubmatch(loadLine); m != nil {
		secs, _ := strconv.ParseFloat(m[1], 64)
		load = perMillion(time.Duration(secs * float64(time.Second)))
	}
	col = append(col, load)
	// Last: the counts it leaves running end with the server.
	sweep, err := coldSweep(s, asked)
	if err != nil {
		return nil, err
	}
	col = append(col, sweep)
	size := int64(0)
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(db + suffix); err == nil {
			size += fi.Size()
		}
	}
	col = append(col, fmt.Sprintf("%.2f GB", float64(size)/1e9))
	col = append(col, vmHWM(s.cmd.Process.Pid))
	return col, nil
}

// builtBBoxLoad drives bbox pages of 1,000 in central Baghdad from conns
// connections for d, each connection paging through boxes no other asked
// (each box shifted a little: ~80,000 matches at 1M): its first page, then
// offsets 1,000–20,000, then a new box. No page may come from the page
// cache. It returns the rate, the latency p50 / p99 and how many pages went
// without numberMatched (a new box's count left to the background).
func (s *server) builtBBoxLoad(conns int, d time.Duration) (string, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var without, boxes atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	t0 := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				k := boxes.Add(1)
				box := fmt.Sprintf("%.5f,33.25,44.45,33.40", 44.30-0.00003*float64(k))
				for off := 0; off <= 20000 && ctx.Err() == nil; off += 1000 {
					path := fmt.Sprintf("/collections/incidents/items?bbox=%s&limit=1000&offset=%d", box, off)
					t := time.Now()
					_, body, xc, err := s.getBody(path)
					if err == nil && xc == "HIT" {
						err = fmt.Errorf("GET %s: X-Cache HIT: not a built page", path)
					}
					el := time.Since(t)
					mu.Lock()
					if err != nil && firstErr == nil {
						firstErr = err
					}
					lat = append(lat, el)
					mu.Unlock()
					if err != nil {
						cancel()
						return
					}
					if !matchedRe.Match(body[:min(len(body), 200)]) {
						without.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	if firstErr != nil {
		return "", firstErr
	}
	slices.Sort(lat)
	return fmt.Sprintf("%.0f req/s (%d pages in %.1f s, %d boxes); p50 / p99 %s / %s; %d without numberMatched",
		float64(len(lat))/el.Seconds(), len(lat), el.Seconds(), boxes.Load(), ms(pct(lat, 50)), ms(pct(lat, 99)), without.Load()), nil
}

// bboxPages asks the bbox page of 1,000 in central Baghdad cold (first),
// then its next 20 pages (count cached, each page built), sorted.
func (s *server) bboxPages() (first time.Duration, built []time.Duration, err error) {
	const path = "/collections/incidents/items?bbox=44.30,33.25,44.45,33.40&limit=1000"
	if first, _, err = s.cold(path); err != nil {
		return 0, nil, err
	}
	for i := 1; i <= 20; i++ {
		d, _, _, err := s.get(fmt.Sprintf("%s&offset=%d", path, i*1000))
		if err != nil {
			return 0, nil, err
		}
		built = append(built, d)
	}
	slices.Sort(built)
	return first, built, nil
}
