package main

// The engines table (issue 12): the SQLite engine and the PostGIS engine
// side by side at 1,000,000 incidents in one run. The PostGIS side runs on a
// throw-away PostgreSQL cluster this program starts (initdb and pg_ctl on a
// temporary folder, removed at the end) and fills with `incidentmap
// migrate` from the SQLite database.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"incidentmap/internal/pgcluster"
)

// startPG starts a throw-away cluster tuned as a small dedicated database
// server would be (durable: fsync and synchronous commit stay on).
func startPG() (*pgcluster.Cluster, error) {
	return pgcluster.New("max_connections=200", "shared_buffers=1GB", "effective_cache_size=4GB",
		"maintenance_work_mem=512MB", "work_mem=16MB", "max_wal_size=8GB",
		"random_page_cost=1.1", "checkpoint_completion_target=0.9")
}

// createDB creates an empty database on c through psql.
func createDB(c *pgcluster.Cluster, name string) error {
	return c.Run("psql", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "incidentmap", "-d", "postgres",
		"-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE "+name)
}

// loadavg is the first three fields of /proc/loadavg.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// machine says what the figures were measured on.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s", model, runtime.NumCPU(), runtime.Version())
}

// engineFigures are one engine's measures, in the order of engineMeasures.
type engineFigures []string

var engineMeasures = []struct{ what, target string }{
	{"bbox page of 1,000 (central Baghdad), offset 0, count cached, page built: p50 / p95 of 20 boxes (each shifted, ~80,000 matches)", "≤ 20.5 ms p50"},
	{"the next pages (offsets 1,000–20,000) of one box, count cached: p50; its first page, count too", "—"},
	{"`/items?limit=100`, 32 connections, the same URL (page cache answers)", "≥ 2,438 req/s"},
	{"`/items?limit=100&offset=N`, 32 connections, N = 0…9,999 (no page cache)", "≥ 2,438 req/s"},
	{"z=6 tiles over Iraq, cold (X-Cache MISS) p50 / max of 6", "—"},
	{"full GeoJSON export over HTTP, 1,000,000 features (server peak RSS)", "≤ 18 s"},
	{"`incidentmap import` of 1,000,000 from ACLED CSV into an empty database (peak RSS)", "—"},
}

// load drives path (with %d replaced by a request counter mod mod, when mod
// > 0) from 32 connections for d and returns the rate line.
func (s *server) load(path string, mod int, d time.Duration) string {
	var okN, errN, seq atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	t0 := time.Now()
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				p := path
				if mod > 0 {
					p = fmt.Sprintf(path, seq.Add(1)%int64(mod))
				}
				if _, _, _, err := s.get(p); err != nil {
					errN.Add(1)
				} else {
					okN.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	return fmt.Sprintf("%.0f req/s, %d errors", float64(okN.Load())/el.Seconds(), errN.Load())
}

// engineColumn measures one engine serving db (a file or a postgres:// URL).
func engineColumn(bin, db string, loadFor time.Duration) (engineFigures, error) {
	s, err := startServer(bin, db)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	var col engineFigures
	// The peer's measure: one page of 1,000 in a box, built for the request.
	// Each box is new (no page cache); its count is made first (limit=1), as
	// pg_featureserv counts nothing.
	var firsts []time.Duration
	for k := range 20 {
		box := fmt.Sprintf("%.4f,33.25,44.45,33.40", 44.30-0.0005*float64(k+1))
		if _, _, _, err := s.get("/collections/incidents/items?limit=1&bbox=" + box); err != nil {
			return nil, err
		}
		d, _, xc, err := s.get("/collections/incidents/items?limit=1000&bbox=" + box)
		if err != nil {
			return nil, err
		}
		if xc == "HIT" {
			return nil, fmt.Errorf("bbox page %s came from the page cache", box)
		}
		firsts = append(firsts, d)
	}
	slices.Sort(firsts)
	col = append(col, fmt.Sprintf("%s / %s", ms(pct(firsts, 50)), ms(pct(firsts, 95))))
	first, _, _, err := s.get("/collections/incidents/items?bbox=44.30,33.25,44.45,33.40&limit=1000")
	if err != nil {
		return nil, err
	}
	var built []time.Duration
	for i := 1; i <= 20; i++ {
		d, _, _, err := s.get(fmt.Sprintf("/collections/incidents/items?bbox=44.30,33.25,44.45,33.40&limit=1000&offset=%d", i*1000))
		if err != nil {
			return nil, err
		}
		built = append(built, d)
	}
	slices.Sort(built)
	col = append(col, fmt.Sprintf("%s (%s)", ms(pct(built, 50)), ms(first)))
	col = append(col, s.load("/collections/incidents/items?limit=100", 0, loadFor))
	col = append(col, s.load("/collections/incidents/items?limit=100&offset=%d", 10000, loadFor))
	cold, _, err := s.coldTiles(6, z6Iraq)
	if err != nil {
		return nil, err
	}
	col = append(col, fmt.Sprintf("%s / %s", ms(pct(cold, 50)), ms(cold[len(cold)-1])))
	d, size, _, err := s.get("/collections/incidents/items?limit=1000000")
	if err != nil {
		return nil, err
	}
	col = append(col, fmt.Sprintf("%s for %d MB (%s)", ms(d), size>>20, vmHWM(s.cmd.Process.Pid)))
	return col, nil
}

// runEngines prints the engines table: SQLite on db and PostGIS on a copy
// of it made by migrate, measured one after the other in one run.
func runEngines(bin, db string, loadFor time.Duration) error {
	fmt.Fprintf(os.Stderr, "engines: %s; load average %s at start\n", machine(), loadavg())
	startLoad := loadavg()
	csv := strings.TrimSuffix(db, ".db") + ".csv"
	if _, err := os.Stat(csv); err != nil {
		fmt.Fprintf(os.Stderr, "writing %s (ACLED CSV of the database, once)\n", csv)
		if _, _, err := timeCommand(bin, "export", "--db", db, "--format", "csv", "--out", csv+".tmp"); err != nil {
			return err
		}
		if err := os.Rename(csv+".tmp", csv); err != nil {
			return err
		}
	}
	pg, err := startPG()
	if err != nil {
		return err
	}
	defer pg.Stop()
	if err := createDB(pg, "bench"); err != nil {
		return err
	}
	url := pg.URL("bench")
	fmt.Fprintf(os.Stderr, "migrate %s → PostGIS\n", db)
	mcmd := exec.Command(bin, "migrate", "--from", db, "--to", url)
	var mout strings.Builder
	mcmd.Stdout, mcmd.Stderr = &mout, &mout
	t0 := time.Now()
	if err := mcmd.Run(); err != nil {
		return fmt.Errorf("migrate: %w: %s", err, mout.String())
	}
	md := time.Since(t0)
	var mrss int64
	if ru, ok := mcmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		mrss = ru.Maxrss << 10
	}
	phases := ""
	for _, l := range strings.Split(mout.String(), "\n") {
		if strings.HasPrefix(l, "copied in") || strings.HasPrefix(l, "verified in") {
			phases += "; " + l
		}
	}
	migrateLine := fmt.Sprintf("%s (%s), peak RSS %d MB (load average %s)", ms(md), strings.TrimPrefix(phases, "; "), mrss>>20, loadavg())
	fmt.Fprintf(os.Stderr, "  migrate: %s\n", migrateLine)

	cols := map[string]engineFigures{}
	for _, e := range []struct{ name, db string }{{"sqlite", db}, {"postgis", url}} {
		fmt.Fprintf(os.Stderr, "measuring %s (load average %s)\n", e.name, loadavg())
		col, err := engineColumn(bin, e.db, loadFor)
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		for i, v := range col {
			fmt.Fprintf(os.Stderr, "  %s: %s\n", engineMeasures[i].what, v)
		}
		cols[e.name] = col
	}
	// Imports last: each into an empty database of its engine.
	target := strings.TrimSuffix(db, ".db") + ".import-engines.db"
	removeDB := func() {
		for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
			os.Remove(target + suffix)
		}
	}
	removeDB()
	defer removeDB()
	for _, e := range []struct{ name, db string }{{"sqlite", target}, {"postgis", pg.URL("bench_import")}} {
		if e.name == "postgis" {
			if err := createDB(pg, "bench_import"); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "import into %s (load average %s)\n", e.name, loadavg())
		d, rss, err := timeCommand(bin, "import", "--quiet", "--db", e.db, csv)
		if err != nil {
			return err
		}
		cols[e.name] = append(cols[e.name], fmt.Sprintf("%s (%d MB)", ms(d), rss>>20))
		fmt.Fprintf(os.Stderr, "  import: %s\n", cols[e.name][len(cols[e.name])-1])
	}

	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "\nEngines side by side at 1,000,000 incidents, one run: %s; load average %s at start, %s at the end.\n",
		machine(), startLoad, loadavg())
	fmt.Fprintf(w, "PostGIS: PostgreSQL on this machine (throw-away cluster, shared_buffers 1GB, fsync on), loaded by `incidentmap migrate` in %s.\n", migrateLine)
	fmt.Fprintf(w, "Targets are 2× pg_featureserv 1.3's figures on the same PostGIS table (issue 12).\n")
	fmt.Fprintf(w, "\n| measure | SQLite | PostGIS | PostGIS target |\n|---|---|---|---|\n")
	for i, m := range engineMeasures {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", m.what, cols["sqlite"][i], cols["postgis"][i], m.target)
	}
	return w.Flush()
}
