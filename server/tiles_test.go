package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/server"
	"incidentmap/synth"
)

const (
	tileSeed = 3
	tileN    = 10000
)

var (
	tileSrvOnce sync.Once
	tileIncs    []incident.Incident
)

// startTileServer serves a fresh store holding synthetic incidents 1..tileN
// of tileSeed; the store gives them ids 1..tileN in order.
func startTileServer(t *testing.T) *testsrv.Server {
	t.Helper()
	tileSrvOnce.Do(func() {
		for i := 1; i <= tileN; i++ {
			tileIncs = append(tileIncs, synth.Incident(tileSeed, i))
		}
	})
	st := testsrv.Open(t)
	batch := make([]incident.Incident, 0, 2500)
	for i := range tileIncs {
		batch = append(batch, tileIncs[i])
		if len(batch) == cap(batch) {
			if _, err := st.Upsert(context.Background(), batch); err != nil {
				t.Fatalf("load: %v", err)
			}
			batch = batch[:0]
		}
	}
	return testsrv.Start(t, st, nil)
}

// getTile fetches a tile asking for gzip and decodes it.
func getTile(t *testing.T, srv *testsrv.Server, path string) (mvt.Layers, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	req.Header.Set("Accept-Encoding", "gzip") // set by hand: the client then leaves the body gzipped
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.mapbox-vector-tile" {
		t.Fatalf("GET %s: content type %q", path, ct)
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("GET %s: content encoding %q, want gzip", path, ce)
	}
	layers, err := mvt.UnmarshalGzipped(body)
	if err != nil {
		t.Fatalf("GET %s: decode: %v", path, err)
	}
	return layers, resp
}

// tileSum is how many incidents a decoded tile stands for, and how many
// cluster and single features it has.
func tileSum(t *testing.T, layers mvt.Layers) (sum, clusters, singles int) {
	t.Helper()
	if len(layers) != 1 || layers[0].Name != "incidents" {
		t.Fatalf("layers %v, want one named incidents", layers)
	}
	for _, f := range layers[0].Features {
		if f.Properties["cluster"] == true {
			n, ok := f.Properties["count"].(float64)
			if !ok || n < 2 {
				t.Fatalf("cluster with count %v", f.Properties["count"])
			}
			sum += int(n)
			clusters++
			continue
		}
		sum++
		singles++
	}
	return sum, clusters, singles
}

// expectedTiles counts the incidents keep selects per tile of zoom z.
func expectedTiles(z maptile.Zoom, keep func(*incident.Incident) bool) map[maptile.Tile]int {
	out := map[maptile.Tile]int{}
	for i := range tileIncs {
		if keep == nil || keep(&tileIncs[i]) {
			out[maptile.At(orb.Point{tileIncs[i].Lon, tileIncs[i].Lat}, z)]++
		}
	}
	return out
}

// busiest returns up to n tiles of m, the fullest first.
func busiest(m map[maptile.Tile]int, n int) []maptile.Tile {
	ts := make([]maptile.Tile, 0, len(m))
	for t := range m {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool {
		if m[ts[i]] != m[ts[j]] {
			return m[ts[i]] > m[ts[j]]
		}
		return ts[i].X*1e6+ts[i].Y < ts[j].X*1e6+ts[j].Y
	})
	return ts[:min(n, len(ts))]
}

func tilePath(t maptile.Tile, query string) string {
	p := fmt.Sprintf("/collections/incidents/tiles/WebMercatorQuad/%d/%d/%d", t.Z, t.X, t.Y)
	if query != "" {
		p += "?" + query
	}
	return p
}

// TestTiles loads 10,000 synthetic incidents once for its subtests.
func TestTiles(t *testing.T) {
	srv := startTileServer(t)
	t.Run("ClustersSumAtEveryZoom", func(t *testing.T) { testTileClustersSum(t, srv) })
	t.Run("SinglePointsAndFilters", func(t *testing.T) { testTileSinglePointsAndFilters(t, srv) })
}

// testTileClustersSum: at every zoom 0..14 the tiles stand for every
// incident exactly once. Clusters are laid out across tile edges (a cluster
// is drawn by the tile of its leader, and may hold incidents of the
// neighbours), so up to zoom 9 the whole zoom's tiles are summed; deeper,
// where the busiest tiles draw their own incidents one by one, each tile's.
func testTileClustersSum(t *testing.T, srv *testsrv.Server) {
	for z := maptile.Zoom(0); z <= 14; z++ {
		if z <= 9 {
			marks, total := zoomMarks(t, srv, z, "", nil)
			if total != tileN {
				t.Fatalf("zoom %d: the tiles stand for %d incidents, want %d", z, total, tileN)
			}
			clusters := 0
			for _, m := range marks {
				if m.props["cluster"] == true {
					clusters++
				}
			}
			if z < 8 && clusters == 0 {
				t.Errorf("zoom %d has no clusters (%d singles)", z, len(marks))
			}
			continue
		}
		want := expectedTiles(z, nil)
		for _, tl := range busiest(want, 40) {
			layers, _ := getTile(t, srv, tilePath(tl, ""))
			sum, clusters, singles := tileSum(t, layers)
			if clusters != 0 || sum != want[tl] {
				t.Fatalf("tile %d/%d/%d: %d clusters and %d singles stand for %d incidents, want no clusters and %d", tl.Z, tl.X, tl.Y, clusters, singles, sum, want[tl])
			}
		}
	}
}

// testTileSinglePointsAndFilters: a deep tile carries each incident with its
// id, date, type and fatalities at its place; filters narrow tiles as they
// narrow items.
func testTileSinglePointsAndFilters(t *testing.T, srv *testsrv.Server) {
	const z = 12
	want := expectedTiles(z, nil)
	tl := busiest(want, 1)[0]
	if want[tl] > 2000 || want[tl] < 10 {
		t.Fatalf("busiest z12 tile holds %d incidents; the test wants 10..2000", want[tl])
	}
	layers, _ := getTile(t, srv, tilePath(tl, ""))
	if _, clusters, singles := tileSum(t, layers); clusters != 0 || singles != want[tl] {
		t.Fatalf("tile %v: %d clusters, %d singles; want 0 and %d", tl, clusters, singles, want[tl])
	}
	layers.ProjectToWGS84(tl)
	for _, f := range layers[0].Features {
		id, ok := f.Properties["id"].(float64)
		if !ok || id < 1 || id > tileN {
			t.Fatalf("feature id %v", f.Properties["id"])
		}
		inc := tileIncs[int(id)-1]
		if f.Properties["event_date"] != inc.EventDate || f.Properties["event_type"] != inc.EventType ||
			f.Properties["fatalities"] != float64(inc.Fatalities) {
			t.Fatalf("feature %v has %v, want %s %s %d", id, f.Properties, inc.EventDate, inc.EventType, inc.Fatalities)
		}
		// One tile pixel at z12 is under 3 m; allow two.
		p := f.Geometry.(orb.Point)
		if math.Abs(p[0]-inc.Lon) > 1e-4 || math.Abs(p[1]-inc.Lat) > 1e-4 {
			t.Fatalf("feature %v at %v, incident at %v,%v", id, p, inc.Lon, inc.Lat)
		}
	}

	// Filters: the same parser as items.
	keep := func(inc *incident.Incident) bool {
		return inc.EventType == "Battles" && inc.EventDate >= "2020-01-01" && inc.Fatalities >= 2
	}
	wantKept := 0
	for i := range tileIncs {
		if keep(&tileIncs[i]) {
			wantKept++
		}
	}
	for _, z := range []maptile.Zoom{2, 6, 10} {
		if _, total := zoomMarks(t, srv, z, "event_type=Battles&datetime=2020-01-01/..&min_fatalities=2", keep); total != wantKept {
			t.Fatalf("filtered tiles of zoom %d stand for %d, want %d", z, total, wantKept)
		}
	}
	// Cluster properties: fatalities sum over the members.
	tl0 := maptile.New(0, 0, 0)
	layers, _ = getTile(t, srv, tilePath(tl0, ""))
	deaths, wantDeaths := 0, 0
	for _, f := range layers[0].Features {
		deaths += int(f.Properties["fatalities"].(float64))
	}
	for i := range tileIncs {
		wantDeaths += tileIncs[i].Fatalities
	}
	if deaths != wantDeaths {
		t.Fatalf("z0 fatalities sum to %d, want %d", deaths, wantDeaths)
	}
}

func TestTileErrorsAndCaching(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	base := "/collections/incidents/tiles/WebMercatorQuad/"
	for _, c := range []struct {
		path   string
		status int
		code   string
	}{
		{"a/0/0", 400, "InvalidParameterValue"},
		{"3/-1/0", 400, "InvalidParameterValue"},
		{"3/8/0", 404, "NotFound"},
		{"3/0/8", 404, "NotFound"},
		{"23/0/0", 404, "NotFound"},
		{"3/4/3?bbox=40,30,45,35", 400, "UnknownParameter"},
		{"3/4/3?event_type=", 400, "InvalidParameterValue"},
		{"3/4/3?datetime=yesterday", 400, "InvalidParameterValue"},
	} {
		t.Run(c.path, func(t *testing.T) {
			status, ct, body := srv.Get(t, base+c.path)
			if status != c.status || !strings.HasPrefix(ct, "application/") || !strings.Contains(string(body), `"code":"`+c.code+`"`) {
				t.Fatalf("status %d %s %s; want %d with code %s", status, ct, body, c.status, c.code)
			}
		})
	}

	// The 13 seed incidents in Iraq, at z=3 tile 4/3 (all of Iraq), uncompressed.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+base+"3/4/3", nil)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("Content-Encoding %q without gzip accepted", resp.Header.Get("Content-Encoding"))
	}
	layers, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatalf("decode plain tile: %v", err)
	}
	if sum, _, _ := tileSum(t, layers); sum != 13 {
		t.Fatalf("seed tile stands for %d incidents, want 13", sum)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Cache-Control") == "" {
		t.Fatalf("no ETag/Cache-Control: %v", resp.Header)
	}
	var api struct {
		Paths map[string]any `json:"paths"`
	}
	srv.GetJSON(t, "/api?f=json", http.StatusOK, &api)
	if _, ok := api.Paths["/collections/incidents/tiles/WebMercatorQuad/{tileMatrix}/{tileCol}/{tileRow}"]; !ok {
		t.Errorf("/api does not list the tile path")
	}

	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: status %d, want 304", resp.StatusCode)
	}
}

func TestFaviconIsNoContent(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	if status, _, body := srv.Get(t, "/favicon.ico"); status != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("favicon: %d %q, want 204 and no body", status, body)
	}
}

// At start the server builds the unfiltered tiles of zoom 0–6 over the
// incidents into its cache; a warmed tile is the tile a request would build.
func TestWarmTiles(t *testing.T) {
	var logs syncBuffer
	cfg := server.DefaultConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := testsrv.Start(t, testsrv.OpenSeeded(t), &cfg)
	warmed := regexp.MustCompile(`msg="warmed tiles" tiles=(\d+)`)
	var m []string
	for deadline := time.Now().Add(20 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		m = warmed.FindStringSubmatch(logs.String())
	}
	if m == nil {
		t.Fatalf("no warm-up logged:\n%s", logs.String())
	}
	// The seed spans Iraq: one tile a zoom up to 4, a few at 5 and 6.
	if n, _ := strconv.Atoi(m[1]); n < 7 || n > 40 {
		t.Fatalf("warmed %s tiles, want one or more a zoom for 0–6 and at most 40", m[1])
	}
	tile := maptile.At(orb.Point{44.3661, 33.3152}, 6) // Baghdad
	path := fmt.Sprintf("/collections/incidents/tiles/WebMercatorQuad/6/%d/%d", tile.X, tile.Y)
	warm, wresp := getTile(t, srv, path+"?")
	fresh, fresp := getTile(t, srv, path+"?min_fatalities=0") // the same incidents, not cached
	if w, f := wresp.Header.Get("X-Cache"), fresp.Header.Get("X-Cache"); w != "HIT" || f != "MISS" {
		t.Fatalf("X-Cache %q for the warmed tile and %q for the fresh one, want HIT and MISS", w, f)
	}
	ws, _, _ := tileSum(t, warm)
	fs, _, _ := tileSum(t, fresh)
	if ws == 0 || ws != fs {
		t.Fatalf("warmed tile holds %d incidents, a fresh one %d", ws, fs)
	}
	wb, _ := mvt.Marshal(warm)
	fb, _ := mvt.Marshal(fresh)
	if !bytes.Equal(wb, fb) {
		t.Fatal("the warmed tile differs from a freshly built one")
	}
}
