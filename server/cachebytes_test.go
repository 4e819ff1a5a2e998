package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"incidentmap/internal/testsrv"
	"incidentmap/server"
	"incidentmap/store"
)

// cacheMetric reads incidentmap_cache_<name>{cache="<cache>"} from /metrics.
func cacheMetric(t *testing.T, srv *testsrv.Server, name, cache string) int64 {
	t.Helper()
	status, _, body := srv.Get(t, "/metrics")
	if status != 200 {
		t.Fatalf("/metrics: %d", status)
	}
	re := regexp.MustCompile(`(?m)^incidentmap_cache_` + name + `\{cache="` + cache + `"\} (\S+)$`)
	m := re.FindSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics has no incidentmap_cache_%s of %q", name, cache)
	}
	f, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return int64(f)
}

// TestCachesStayWithinTheirBytes: every cache is bounded in bytes, whatever
// the requests. Many distinct large pages, tiles of every zoom, aggregations
// of distinct filters and counts of long CQL2 filters are asked of a server
// whose caches are small; after each, what /metrics says each cache holds
// stays under its budget, while each keeps several values (the most recent:
// asking the last page again is a HIT) and has dropped others.
func TestCachesStayWithinTheirBytes(t *testing.T) {
	const (
		pageLimit  = 256 << 10
		tileLimit  = 64 << 10
		gridLimit  = 96 << 10
		countLimit = 16 << 10
		aggLimit   = 4 << 10
	)
	st := testsrv.OpenSynthetic(t, 4000, store.WithCacheBytes(countLimit, aggLimit))
	cfg := server.DefaultConfig()
	cfg.RateLimit = 0
	cfg.WarmTiles = false
	cfg.PageCacheBytes, cfg.TileCacheBytes, cfg.GridCacheBytes = pageLimit, tileLimit, gridLimit
	srv := testsrv.Start(t, st, &cfg)

	limits := map[string]int64{"pages": pageLimit, "tiles": tileLimit, "grids": gridLimit, "counts": countLimit, "aggregates": aggLimit}
	check := func(after string) {
		t.Helper()
		for cache, limit := range limits {
			if got := cacheMetric(t, srv, "limit_bytes", cache); got != limit {
				t.Fatalf("after %s: %s limit %d, want %d", after, cache, got, limit)
			}
			if got := cacheMetric(t, srv, "bytes", cache); got > limit {
				t.Fatalf("after %s: the %s cache holds %d bytes, over its limit of %d", after, cache, got, limit)
			}
		}
	}

	// Pages of 40–200 features (30–150 KB each): a few fit.
	var last string
	var lastSize int
	for i := range 40 {
		last = fmt.Sprintf("/collections/incidents/items?limit=%d&offset=%d", 200-40*(i%5), 37*i)
		status, _, body := srv.Get(t, last)
		if status != 200 {
			t.Fatalf("GET %s: %d", last, status)
		}
		lastSize = len(body)
		check(last)
	}
	if lastSize < 20<<10 {
		t.Fatalf("a page is only %d bytes: the test needs large pages", lastSize)
	}
	if n := cacheMetric(t, srv, "entries", "pages"); n < 2 {
		t.Fatalf("the page cache holds %d pages, want several", n)
	}
	if cacheMetric(t, srv, "evictions_total", "pages") == 0 {
		t.Fatal("40 large pages in 256 KiB and none was dropped")
	}
	if b := cacheMetric(t, srv, "bytes", "pages"); b < int64(lastSize) {
		t.Fatalf("the page cache accounts %d bytes, less than the last page alone (%d)", b, lastSize)
	}
	resp, err := http.Get(srv.URL + last)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if xc := resp.Header.Get("X-Cache"); xc != "HIT" {
		t.Fatalf("the last page asked again: X-Cache %q, want HIT (the most recent stays)", xc)
	}

	// Tiles of zoom 3–12 over the synthetic set's Iraq, and the grids their
	// layouts read.
	for z := 3; z <= 12; z++ {
		for dx := range 3 {
			x, y := lonLatToTile(44.36, 33.31, z)
			path := fmt.Sprintf("/collections/incidents/tiles/WebMercatorQuad/%d/%d/%d", z, x+dx-1, y)
			if status, _, _ := srv.Get(t, path); status != 200 && status != 204 {
				t.Fatalf("GET %s: %d", path, status)
			}
			check(path)
		}
	}
	if cacheMetric(t, srv, "entries", "grids") < 2 || cacheMetric(t, srv, "evictions_total", "grids") == 0 {
		t.Fatal("the grid cache neither filled nor dropped anything: the tiles did not test it")
	}

	// Aggregations of distinct filters, and counts of long CQL2 filters
	// (their keys are kilobytes).
	for i := range 12 {
		path := fmt.Sprintf("/collections/incidents/aggregate?group_by=event_type&max_fatalities=%d", 1000+i)
		if status, _, body := srv.Get(t, path); status != 200 {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		check(path)
	}
	for i := range 30 {
		var ids []string
		for j := range 300 {
			ids = append(ids, strconv.Itoa(1+(i*300+j)%4000))
		}
		path := "/collections/incidents/items?limit=1&filter=" + url.QueryEscape(fmt.Sprintf("fatalities >= %d AND id IN (%s)", i%3, strings.Join(ids, ",")))
		if status, _, body := srv.Get(t, path); status != 200 {
			t.Fatalf("GET filter %d: %d %.300s", i, status, body)
		}
		check(fmt.Sprintf("long filter %d", i))
	}
	for _, cache := range []string{"aggregates", "counts"} {
		if cacheMetric(t, srv, "evictions_total", cache) == 0 {
			t.Errorf("the %s cache dropped nothing: the requests did not fill it (%d bytes in %d entries)", cache, cacheMetric(t, srv, "bytes", cache), cacheMetric(t, srv, "entries", cache))
		}
	}
}

// lonLatToTile is the Web Mercator tile of zoom z holding a point.
func lonLatToTile(lon, lat float64, z int) (int, int) {
	mt := maptile.At(orb.Point{lon, lat}, maptile.Zoom(z))
	return int(mt.X), int(mt.Y)
}
