package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"incidentmap/incident"
	"incidentmap/internal/sqlitemem"
	"incidentmap/internal/vcache"
)

// Metrics are the server's Prometheus metrics, on a registry of their own so
// that several servers (tests) can live in one process.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	rowsStreamed prometheus.Counter
	importedRows *prometheus.CounterVec
	snapshots    prometheus.Gauge // streams still reading their rows in a database snapshot
}

// newMetrics registers the metrics; dbSize reports the database's bytes on disk.
func newMetrics(dbSize func() float64) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "incidentmap_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "incidentmap_http_request_duration_seconds",
			Help:    "Time to the handler's return (streamed bodies continue after it), by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		rowsStreamed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "incidentmap_rows_streamed_total", Help: "Incidents written to responses.",
		}),
		importedRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "incidentmap_import_rows_total", Help: "Rows handled by imports through the server, by outcome.",
		}, []string{"outcome"}),
		snapshots: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "incidentmap_stream_snapshots", Help: "Streamed responses still reading their rows inside a database snapshot (the rest is sent from their spool).",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.rowsStreamed, m.importedRows, m.snapshots,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "incidentmap_database_bytes", Help: "Size of the SQLite database and its WAL on disk.",
		}, dbSize),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// replicaCollector exports the read replicas' state at each scrape: up,
// skipped, lag in bytes and seconds, reads served.
type replicaCollector struct {
	rr                             incident.ReplicaReporter
	up, skipped, lagBytes, lagSecs *prometheus.Desc
	reads                          *prometheus.Desc
}

func newReplicaCollector(rr incident.ReplicaReporter) *replicaCollector {
	l := []string{"replica"}
	return &replicaCollector{rr: rr,
		up:       prometheus.NewDesc("incidentmap_db_replica_up", "1 when the read replica answers as a standby.", l, nil),
		skipped:  prometheus.NewDesc("incidentmap_db_replica_skipped", "1 when reads skip the replica now (down, lagging past --db-replica-max-lag, or behind the latest changes); /readyz says why.", l, nil),
		lagBytes: prometheus.NewDesc("incidentmap_db_replica_lag_bytes", "WAL bytes the primary has written that the replica has not replayed.", l, nil),
		lagSecs:  prometheus.NewDesc("incidentmap_db_replica_lag_seconds", "How long ago the primary wrote the oldest WAL the replica has not replayed (0: caught up).", l, nil),
		reads:    prometheus.NewDesc("incidentmap_db_replica_reads_total", "Reads served by the replica.", l, nil),
	}
}

func (c *replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.skipped, c.lagBytes, c.lagSecs, c.reads} {
		ch <- d
	}
}

func (c *replicaCollector) Collect(ch chan<- prometheus.Metric) {
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	for _, s := range c.rr.ReplicaStates() {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, b(s.OK), s.Name)
		ch <- prometheus.MustNewConstMetric(c.skipped, prometheus.GaugeValue, b(s.Skipped != ""), s.Name)
		ch <- prometheus.MustNewConstMetric(c.lagBytes, prometheus.GaugeValue, float64(s.LagBytes), s.Name)
		ch <- prometheus.MustNewConstMetric(c.lagSecs, prometheus.GaugeValue, s.LagSeconds, s.Name)
		ch <- prometheus.MustNewConstMetric(c.reads, prometheus.CounterValue, float64(s.Reads), s.Name)
	}
}

// observe counts one request. Labels outlive the request, so none may be a
// view into fasthttp's buffers (c.Method() is one, overwritten by the next
// request on the connection: "GETT" in the counters, then a gather error and
// /metrics answering 500). The method becomes one of a fixed set of constant
// strings; route is a registered pattern or "(no route)"; status a number.
func (m *Metrics) observe(route, method string, status int, d time.Duration) {
	route = strings.Clone(route)
	m.requests.WithLabelValues(route, methodLabel(method), strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// methodLabel maps a request method to its metrics label: the standard
// methods by name, anything else (a client may send any token) as "OTHER", so
// that clients cannot add label values at will.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodOptions:
		return http.MethodOptions
	}
	return "OTHER"
}

// RowsStreamed counts incidents written by a streaming response.
func (m *Metrics) RowsStreamed(n int) { m.rowsStreamed.Add(float64(n)) }

// ImportedRows counts rows of an import through the server by outcome
// ("inserted", "updated", "unchanged", "rejected").
func (m *Metrics) ImportedRows(outcome string, n int) {
	m.importedRows.WithLabelValues(outcome).Add(float64(n))
}

// handler serves the Prometheus text format.
func (m *Metrics) handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

// memoryCollector exports, at each scrape, what every byte-bounded cache
// holds against its budget (the server's tiles, pages and grids and the
// engine's counts and aggregations) and the SQLite library's own heap,
// which Go's memory statistics do not see: with process_resident_memory_bytes
// and go_memstats_heap_inuse_bytes they say where a server's memory is.
type memoryCollector struct {
	caches                           func() map[string]vcache.Stats
	bytes, limit, entries            *prometheus.Desc
	hits, misses, evictions          *prometheus.Desc
	sqliteUsed, sqliteHigh, sqliteSL *prometheus.Desc
}

func newMemoryCollector(caches func() map[string]vcache.Stats) *memoryCollector {
	l := []string{"cache"}
	return &memoryCollector{caches: caches,
		bytes:      prometheus.NewDesc("incidentmap_cache_bytes", "Bytes an in-memory cache holds, as it accounts them (values, keys and a per-entry overhead).", l, nil),
		limit:      prometheus.NewDesc("incidentmap_cache_limit_bytes", "The byte budget of an in-memory cache (its --*-cache-bytes flag).", l, nil),
		entries:    prometheus.NewDesc("incidentmap_cache_entries", "Values an in-memory cache holds.", l, nil),
		hits:       prometheus.NewDesc("incidentmap_cache_hits_total", "Lookups an in-memory cache answered.", l, nil),
		misses:     prometheus.NewDesc("incidentmap_cache_misses_total", "Lookups an in-memory cache did not answer.", l, nil),
		evictions:  prometheus.NewDesc("incidentmap_cache_evictions_total", "Values an in-memory cache dropped to make room (not counting changes of the data, which empty it).", l, nil),
		sqliteUsed: prometheus.NewDesc("incidentmap_sqlite_memory_bytes", "Heap bytes the SQLite library holds now across all its connections (page caches, statements).", nil, nil),
		sqliteHigh: prometheus.NewDesc("incidentmap_sqlite_memory_highwater_bytes", "The most heap bytes the SQLite library has held at once since the start.", nil, nil),
		sqliteSL:   prometheus.NewDesc("incidentmap_sqlite_soft_heap_limit_bytes", "SQLite's soft heap limit (--sqlite-memory-bytes; 0: none).", nil, nil),
	}
}

func (c *memoryCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.bytes, c.limit, c.entries, c.hits, c.misses, c.evictions, c.sqliteUsed, c.sqliteHigh, c.sqliteSL} {
		ch <- d
	}
}

func (c *memoryCollector) Collect(ch chan<- prometheus.Metric) {
	for name, s := range c.caches() {
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(s.Bytes), name)
		ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, float64(s.Limit), name)
		ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(s.Entries), name)
		ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(s.Hits), name)
		ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(s.Misses), name)
		ch <- prometheus.MustNewConstMetric(c.evictions, prometheus.CounterValue, float64(s.Evictions), name)
	}
	if used := sqlitemem.Used(); used >= 0 {
		ch <- prometheus.MustNewConstMetric(c.sqliteUsed, prometheus.GaugeValue, float64(used))
		ch <- prometheus.MustNewConstMetric(c.sqliteHigh, prometheus.GaugeValue, float64(sqlitemem.Highwater(false)))
		ch <- prometheus.MustNewConstMetric(c.sqliteSL, prometheus.GaugeValue, float64(sqlitemem.SoftLimit()))
	}
}

// cacheStats is every cache's stats: the server's own and the engine's.
func (h *handlers) cacheStats() map[string]vcache.Stats {
	out := map[string]vcache.Stats{}
	if cr, ok := h.store.(incident.CacheReporter); ok {
		for name, s := range cr.CacheStats() {
			out[name] = s
		}
	}
	out["tiles"], out["pages"], out["grids"] = h.tiles.c.Stats(), h.pages.c.Stats(), h.grids.cells.Stats()
	return out
}
