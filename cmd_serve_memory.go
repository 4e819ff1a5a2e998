package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"incidentmap/internal/sqlitemem"
	"incidentmap/postgis"
	"incidentmap/server"
	"incidentmap/store"
)

// memoryConfig is what bounds serve's memory besides the server's own
// caches (server.Config): the engine's caches, SQLite's heap and Go's.
type memoryConfig struct {
	countCache, aggregateCache byteSize // the engine's caches (0: default, negative: none)
	sqlite                     byteSize // SQLite's soft heap limit over all connections (0: none)
	goLimit                    byteSize // Go's soft memory limit (0: none, GOMEMLIMIT's if set)
}

// Default memory bounds of serve, for a resident set of about 64 MB under
// any traffic: the binary's own pages ~20 MB, SQLite's page caches near
// 8 MiB across the pool, and Go's side under 32 MiB (the collector runs
// more often as it nears it), of which the caches hold 15 MiB at most —
// tiles 4, pages 4, grids 4, counts 1, aggregations 2 — leaving the rest to
// requests in flight. docs/benchmarks.md has what a whole bench run holds.
const (
	defaultSQLiteMemory = 8 << 20
	defaultGoMemLimit   = 32 << 20
)

// serveMemoryFlags declares the byte budgets of serve's caches and memory
// limits; each has its INCIDENTMAP_* variable like every other flag. Sizes
// are bytes or a number with KiB, MiB or GiB.
func serveMemoryFlags(fs *flag.FlagSet, cfg *server.Config, m *memoryConfig) {
	cfg.TileCacheBytes, cfg.PageCacheBytes, cfg.GridCacheBytes = server.DefaultTileCacheBytes, server.DefaultPageCacheBytes, server.DefaultGridCacheBytes
	m.countCache, m.aggregateCache = store.DefaultCountCacheBytes, store.DefaultAggregateCacheBytes
	m.sqlite, m.goLimit = defaultSQLiteMemory, defaultGoMemLimit
	fs.Var((*byteSize)(&cfg.TileCacheBytes), "tile-cache-bytes", "memory for encoded vector tiles (least recently used go first; 0: none)")
	fs.Var((*byteSize)(&cfg.PageCacheBytes), "page-cache-bytes", "memory for items pages asked again (0: none)")
	fs.Var((*byteSize)(&cfg.GridCacheBytes), "grid-cache-bytes", "memory for the cluster grids neighbouring tiles share (0: none)")
	fs.Var(&m.countCache, "count-cache-bytes", "memory for counts (numberMatched), extents and counts per region (0: none)")
	fs.Var(&m.aggregateCache, "aggregate-cache-bytes", "memory for aggregations (timeline, charts) (0: none)")
	fs.Var(&m.sqlite, "sqlite-memory-bytes", "soft limit of SQLite's heap over all its connections: page caches give up pages beyond it (0: no limit; a SQLite --db only)")
	fs.Var(&m.goLimit, "memory-limit", "soft limit of the Go runtime's memory: the collector runs more often near it (0: none; GOMEMLIMIT, when set, wins over the default)")
}

// apply sets the process-wide limits and turns the server's cache sizes of
// 0 (none, on the command line) into the Config's "none"; the engine's
// caches go to it through sqliteOptions or postgisOptions.
func (m *memoryConfig) apply(cfg *server.Config, goLimitSet bool) {
	for _, n := range []*int64{&cfg.TileCacheBytes, &cfg.PageCacheBytes, &cfg.GridCacheBytes} {
		if *n == 0 {
			*n = -1
		}
	}
	if m.sqlite > 0 {
		sqlitemem.SetSoftLimit(int64(m.sqlite))
	}
	// GOMEMLIMIT in the environment is the Go runtime's own setting; the
	// flag's default does not override it, the flag given does.
	if _, env := os.LookupEnv("GOMEMLIMIT"); goLimitSet || !env {
		if m.goLimit > 0 {
			debug.SetMemoryLimit(int64(m.goLimit))
		}
	}
}

// cacheSize turns a flag's size into an engine option's: 0 (none) is
// negative there, where 0 is the default.
func cacheSize(b byteSize) int64 {
	if b <= 0 {
		return -1
	}
	return int64(b)
}

// sqliteOptions are the store options of the engine caches' sizes.
func (m *memoryConfig) sqliteOptions() []store.Option {
	return []store.Option{store.WithCacheBytes(cacheSize(m.countCache), cacheSize(m.aggregateCache))}
}

// postgisOptions are the same for the PostGIS engine (counts only: it
// caches no aggregation).
func (m *memoryConfig) postgisOptions() []postgis.Option {
	return []postgis.Option{postgis.WithCacheBytes(cacheSize(m.countCache))}
}

// byteSize is a flag of a number of bytes: plain, or with a KiB, MiB or GiB
// suffix (also written K, M, G, KB, MB, GB: all powers of 1,024).
type byteSize int64

func (b *byteSize) String() string {
	switch n := int64(*b); {
	case n != 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n != 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n != 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	default:
		return strconv.FormatInt(n, 10)
	}
}

func (b *byteSize) Set(s string) error {
	v, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(v)
	return nil
}

// byteUnits are the suffixes parseByteSize knows, longest first.
var byteUnits = []struct {
	suffix string
	shift  int
}{{"GIB", 30}, {"MIB", 20}, {"KIB", 10}, {"GB", 30}, {"MB", 20}, {"KB", 10}, {"G", 30}, {"M", 20}, {"K", 10}, {"B", 0}}

func parseByteSize(s string) (int64, error) {
	t, shift := strings.TrimSpace(s), 0
	for _, u := range byteUnits {
		if strings.HasSuffix(strings.ToUpper(t), u.suffix) {
			t, shift = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q is not a size in bytes (like 8MiB, 512KiB or 1048576)", s)
	}
	return n << shift, nil
}
