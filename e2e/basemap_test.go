package e2e_test

import (
	"bytes"
	"image/png"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"incidentmap/internal/testsrv"
	"incidentmap/server"
)

// labels lists the place names the map shows.
func (tb *tab) labels(t *testing.T) []string {
	t.Helper()
	var names []string
	tb.run(t, chromedp.Evaluate(`[...document.querySelectorAll(".leaflet-labels-pane .place")].map((e) => e.textContent)`, &names))
	return names
}

// setView moves the map without animation and waits for the labels.
func (tb *tab) setView(t *testing.T, lat, lon float64, z int) {
	t.Helper()
	tb.run(t, chromedp.Evaluate(`void window.incidentmap.map.setView([`+ftoa(lat)+`, `+ftoa(lon)+`], `+itoa(z)+`, {animate: false})`, nil),
		chromedp.Sleep(300*time.Millisecond), waitReady())
}

// TestMapPageBasemap: the offline basemap draws land, water, rivers and
// place names whose number grows with the zoom (Natural Earth's min_zoom),
// in Arabic on the Arabic page; the layer control says how to get online
// tiles, or offers them when the server has --tiles.
func TestMapPageBasemap(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var places struct {
		Features []struct {
			Properties struct {
				Name    string  `json:"name"`
				NameAr  *string `json:"name_ar"`
				MinZoom float64 `json:"min_zoom"`
			} `json:"properties"`
		} `json:"features"`
	}
	srv.GetJSON(t, "/map/basemap/places.geojson", 200, &places)
	minZoom := map[string]float64{}
	for _, f := range places.Features {
		minZoom[f.Properties.Name] = f.Properties.MinZoom
	}

	tb := openPage(t, srv.URL+"/map/#map=5/33.3/44.4")
	tb.waitFor(t, "place labels", `document.querySelectorAll(".leaflet-labels-pane .place").length > 0`)
	at5 := tb.labels(t)
	for _, n := range at5 {
		if z, ok := minZoom[n]; !ok || z > 6.5 {
			t.Errorf("zoom 5 shows %q (min_zoom %v)", n, z)
		}
	}
	var paths int
	tb.run(t, chromedp.Evaluate(`document.querySelectorAll(".leaflet-basemap-pane path").length`, &paths))
	if paths < 3 {
		t.Fatalf("the basemap pane holds %d shapes; want land, lakes and rivers", paths)
	}
	// The basemap's box ends in no hard edge: across its north edge (over
	// Iran) and its south edge (over the Gulf's water) the colour changes
	// a little from pixel to pixel, from the land or sea to what lies beyond
	// (names, outlines and incidents hidden meanwhile).
	panes := func(visibility string) string {
		return `for (const p of ["labels", "overlayPane", "markerPane", "incidentTiles"]) window.incidentmap.map.getPane(p).style.visibility = "` + visibility + `"`
	}
	tb.run(t, chromedp.Evaluate(panes("hidden"), nil), chromedp.Sleep(200*time.Millisecond))
	for _, c := range []struct {
		name                   string
		lat0, lon0, lat1, lon1 float64
	}{{"north edge", 37.2, 47.2, 38.8, 47.2}, {"south edge over the Gulf", 29.4, 49.2, 27.6, 49.2}} {
		if jump, from, to := tb.edgeJump(t, c.lat0, c.lon0, c.lat1, c.lon1); jump > 24 || from == to {
			t.Errorf("basemap %s: colour jumps by %d between neighbouring pixels (from %v to %v): a hard edge", c.name, jump, from, to)
		}
	}
	tb.run(t, chromedp.Evaluate(panes(""), nil))
	tb.setView(t, 33.3, 44.4, 9)
	at9 := tb.labels(t)
	more := false
	for _, n := range at9 {
		if minZoom[n] > 6.5 {
			more = true
		}
	}
	if !more || !contains(at9, "Baghdad") {
		t.Fatalf("zoom 9 over Baghdad shows %v; want Baghdad and smaller places than zoom 5 (%v)", at9, at5)
	}
	// How to get online tiles, in the layer control.
	var note string
	tb.run(t, chromedp.Evaluate(`document.querySelector(".leaflet-control-layers .layers-note").textContent`, &note))
	if !strings.Contains(note, "--tiles") {
		t.Fatalf("layer control note %q does not say how to turn online tiles on", note)
	}
	// Arabic names on the Arabic page.
	tb.open(t, srv.URL+"/map/#lang=ar&map=6/33.3/44.4")
	tb.waitFor(t, "Arabic place labels", `[...document.querySelectorAll(".leaflet-labels-pane .place")].some((e) => e.textContent === "بغداد")`)

	// With --tiles the control offers the online layer.
	cfg := server.DefaultConfig()
	cfg.Tiles, cfg.TilesAttribution = "/map/vendor/images/layers.png?{z}/{x}/{y}", "© test tiles"
	online := testsrv.Start(t, testsrv.OpenSeeded(t), &cfg)
	tb2 := openPage(t, online.URL+"/map/")
	var bases []string
	tb2.run(t, chromedp.Evaluate(`[...document.querySelectorAll(".leaflet-control-layers-base label")].map((l) => l.textContent.trim() + (l.querySelector("input").checked ? " *" : ""))`, &bases))
	if !contains(bases, "Online map tiles *") || !contains(bases, "Basemap (offline)") {
		t.Fatalf("with --tiles the base layers are %v; want the online tiles chosen and the offline basemap offered", bases)
	}
}

// TestMapPageHeatAndChoropleth: the heatmap paints, the choropleth's classes
// come from the data and a governorate says its counts on keyboard focus.
func TestMapPageHeatAndChoropleth(t *testing.T) {
	testsrv.ForEngines(t, testsrv.Seed, nil, func(t *testing.T, srv *testsrv.Server) {
		tb := openPage(t, srv.URL+"/map/#heat=1&shade=incidents")
		var painted int
		tb.run(t, chromedp.Evaluate(`(() => { const c = document.querySelector(".heat-canvas"); if (!c) return 0;
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data; let n = 0;
		for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()`, &painted))
		if painted < 100 {
			t.Fatalf("the heatmap painted %d pixels", painted)
		}
		// Breaks from the data: the seed's counts per governorate are 0, 3, 5 and
		// the like; every class holds at least one governorate.
		var classes []string
		tb.run(t, chromedp.Evaluate(`[...document.querySelectorAll("#choropleth-legend span")].map((s) => s.textContent)`, &classes))
		if len(classes) < 2 {
			t.Fatalf("legend %v; want classes from the data", classes)
		}
		// Keyboard focus on Anbar shows its counts.
		var regions struct {
			Features []struct {
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}
		srv.GetJSON(t, "/collections/regions/items?limit=100", 200, &regions)
		want := ""
		for _, f := range regions.Features {
			if f.Properties["name"] == "Anbar" {
				want = ftoa(f.Properties["incidents"].(float64)) + " incidents"
			}
		}
		var tip string
		tb.run(t, chromedp.Evaluate(`(() => { const p = [...document.querySelectorAll(".leaflet-overlay-pane path[tabindex]")]
		.find((e) => e.getAttribute("aria-label").startsWith("Anbar:")); p.focus(); return true; })()`, nil),
			chromedp.WaitVisible(".leaflet-tooltip"), chromedp.Text(".leaflet-tooltip", &tip))
		if !strings.Contains(tip, "Anbar") || !strings.Contains(tip, want) {
			t.Fatalf("focus on Anbar shows %q; want %q", tip, want)
		}
		// Per 1,000 km²: Anbar (5 seed incidents over ~138,000 km²) is ~0.036.
		tb.setInput(t, "choropleth", "incidents_km2")
		var legend string
		tb.run(t, chromedp.Text("#choropleth-legend", &legend))
		if !strings.Contains(legend, "incidents per 1,000 km²") {
			t.Fatalf("density legend %q", legend)
		}
		// The layer is redrawn for the new measure after the legend changes, so
		// focus Anbar again until its tooltip is the redrawn one (or time runs out).
		for deadline := time.Now().Add(10 * time.Second); ; {
			tb.run(t, chromedp.Evaluate(`(() => { const p = [...document.querySelectorAll(".leaflet-overlay-pane path[tabindex]")]
			.find((e) => e.getAttribute("aria-label").startsWith("Anbar:")); p.blur(); p.focus();
			const t = document.querySelector(".leaflet-tooltip"); return t ? t.textContent : ""; })()`, &tip))
			if strings.Contains(tip, "per 1,000 km²") || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !strings.Contains(tip, "0.036 per 1,000 km²") {
			t.Fatalf("Anbar's density tooltip %q; want 0.036 per 1,000 km²", tip)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func ftoa(f float64) string { return strings.TrimRight(strings.TrimRight(strconvF(f), "0"), ".") }

func strconvF(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

func itoa(i int) string { return strconv.Itoa(i) }

// edgeJump captures the map and walks its pixels from one point to another
// (lat, lon): the largest colour step between neighbouring pixels (the sum
// of the channels' differences), and the colours at both ends.
func (tb *tab) edgeJump(t *testing.T, lat0, lon0, lat1, lon1 float64) (jump int, from, to [3]int) {
	t.Helper()
	var pts []float64
	tb.run(t, chromedp.Evaluate(`(() => { const m = window.incidentmap.map, r = m.getContainer().getBoundingClientRect();
		const a = m.latLngToContainerPoint([`+ftoa(lat0)+`, `+ftoa(lon0)+`]), b = m.latLngToContainerPoint([`+ftoa(lat1)+`, `+ftoa(lon1)+`]);
		return [r.left + a.x, r.top + a.y, r.left + b.x, r.top + b.y]; })()`, &pts))
	var shot []byte
	tb.run(t, chromedp.CaptureScreenshot(&shot))
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	steps := int(math.Hypot(pts[2]-pts[0], pts[3]-pts[1]))
	var prev [3]int
	for i := 0; i <= steps; i++ {
		f := float64(i) / float64(max(steps, 1))
		r, g, b, _ := img.At(int(pts[0]+f*(pts[2]-pts[0])), int(pts[1]+f*(pts[3]-pts[1]))).RGBA()
		c := [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
		if i == 0 {
			from = c
		} else {
			d := 0
			for k := range c {
				d += max(c[k]-prev[k], prev[k]-c[k])
			}
			if d > 24 {
				t.Logf("step %d/%d at %.0f,%.0f: %v → %v", i, steps, pts[0]+f*(pts[2]-pts[0]), pts[1]+f*(pts[3]-pts[1]), prev, c)
			}
			jump = max(jump, d)
		}
		prev = c
	}
	return jump, from, prev
}
