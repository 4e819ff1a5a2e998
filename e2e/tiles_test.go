package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/encoding/mvt/vectortile"
	"github.com/paulmach/orb/geojson"

	"incidentmap/internal/testsrv"
	"incidentmap/synth"
)

// tileTestN incidents are well above the page's TILE_THRESHOLD (5,000), so it
// draws the server's vector tiles; one month of them is far below it.
const tileTestN = 20000

// numberMatched asks the items API itself how many incidents params match.
func numberMatched(t *testing.T, srv *testsrv.Server, params url.Values) int {
	t.Helper()
	params.Set("limit", "1")
	var fc struct {
		NumberMatched int `json:"numberMatched"`
	}
	srv.GetJSON(t, "/collections/incidents/items?"+params.Encode(), 200, &fc)
	return fc.NumberMatched
}

// tileStats is what the page's tile layer holds at its current zoom.
type tileStats struct {
	Zoom, Tiles, Pending, Incidents, Marks, Requests, Failures int
}

// waitTiles waits until the tile layer has drawn every tile of zoom z.
func (tb *tab) waitTiles(t *testing.T, z int) tileStats {
	t.Helper()
	var s tileStats
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got struct {
			tileStats
			Loading bool
		}
		tb.run(t, chromedp.Evaluate(`(() => { const l = window.incidentmap.tiles;
			return l ? Object.assign(l.stats(), {loading: l.isLoading()}) : {zoom: -1}; })()`, &got))
		s = got.tileStats
		if s.Zoom == z && s.Pending == 0 && s.Tiles > 0 && !got.Loading {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("tiles of zoom %d not drawn after 20 s: %+v (page errors %v)", z, s, tb.pageErrors())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mark is one cluster or dot the tile layer drew, with where it is on screen.
type mark struct {
	Kind              string
	Count, ID         int
	Date, Type        string
	X, Y              float64 // viewport CSS pixels
	HitsItself, Clear bool
}

// marks lists the marks in view; HitsItself says a click on the mark's centre
// finds that mark, Clear that the point is away from the map's controls.
func (tb *tab) marks(t *testing.T) []mark {
	t.Helper()
	var ms []mark
	tb.run(t, chromedp.Evaluate(`(() => {
		const m = window.incidentmap.map, l = window.incidentmap.tiles, box = m.getContainer().getBoundingClientRect();
		return l.marksInView().map((k) => {
			const p = m.latLngToContainerPoint(k.latlng), h = l.hit(k.latlng);
			return {kind: k.kind, count: k.count || 1, id: Number(k.id) || 0, date: k.date || "", type: k.type || "",
				x: box.left + p.x, y: box.top + p.y, hitsItself: !!h && h.mark.x === k.x && h.mark.y === k.y && h.mark.kind === k.kind,
				clear: p.x > 60 && p.y > 90 && p.x < box.width - 60 && p.y < box.height - 40};
		});
	})()`, &ms))
	return ms
}

func TestMapPageTiles(t *testing.T) {
	testsrv.ForEngines(t, testsrv.Synthetic(tileTestN), nil, func(t *testing.T, srv *testsrv.Server) {
		// Zoom 5 over Iraq: every synthetic incident lies in the tiles in view.
		tb := openPage(t, srv.URL+"/map/#map=5/33.2/43.7")

		if mode := tb.eval(t, `document.body.dataset.mode`); mode != "tiles" {
			t.Fatalf("with %d incidents the page is in mode %v, want tiles", tileTestN, mode)
		}
		s := tb.waitTiles(t, 5)
		var head struct {
			Line, Incidents string
			HasKilled       bool
			Markers         int
		}
		tb.run(t, chromedp.Evaluate(`(() => { const c = document.getElementById("count");
		return {line: c.textContent, incidents: c.dataset.incidents, hasKilled: "killed" in c.dataset,
			markers: document.querySelectorAll(".leaflet-marker-pane .inc, .leaflet-marker-pane .marker-cluster").length}; })()`, &head))
		if head.Line != "20,000 incidents (shown as clusters from the server)" || head.Incidents != "20000" || head.HasKilled || head.Markers != 0 {
			t.Fatalf("tile mode shows %+v; want the count line of 20,000 from the server, no killed figure, no markers", head)
		}
		// Every incident is in exactly one tile: the decoded counts add up.
		if s.Incidents != tileTestN || s.Requests == 0 || s.Failures != 0 || s.Marks == 0 {
			t.Fatalf("zoom 5 tiles: %+v; want %d incidents in them, no failures", s, tileTestN)
		}
		var dataAttrs map[string]string
		tb.run(t, chromedp.Evaluate(`Object.assign({}, window.incidentmap.map.getContainer().dataset)`, &dataAttrs))
		if dataAttrs["tileIncidents"] != fmt.Sprint(tileTestN) || dataAttrs["tileZoom"] != "5" {
			t.Fatalf("map data attributes %v; want tileIncidents %d at tileZoom 5", dataAttrs, tileTestN)
		}
		tileURLs := tb.requested("/collections/incidents/tiles/WebMercatorQuad/5/")
		if len(tileURLs) == 0 {
			t.Fatal("no zoom 5 tile was requested")
		}
		// And they were painted: canvases with opaque pixels.
		var painted int
		tb.run(t, chromedp.Evaluate(`(() => { let n = 0;
		for (const c of document.querySelectorAll(".leaflet-incidentTiles-pane canvas.incident-tile")) {
			const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
			for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
		}
		return n; })()`, &painted))
		if painted < 500 {
			t.Fatalf("the tile canvases hold %d painted pixels", painted)
		}

		// Clicking a cluster zooms in on it (two levels).
		var cluster *mark
		for _, m := range tb.marks(t) {
			if m.Kind == "cluster" && m.HitsItself && m.Clear && (cluster == nil || m.Count > cluster.Count) {
				m := m
				cluster = &m
			}
		}
		if cluster == nil {
			t.Fatal("no cluster to click at zoom 5")
		}
		tb.run(t, chromedp.MouseClickXY(cluster.X, cluster.Y))
		tb.waitTiles(t, 7)
		if z := tb.eval(t, `window.incidentmap.map.getZoom()`); z != 7.0 {
			t.Fatalf("after clicking a cluster of %d the zoom is %v, want 7", cluster.Count, z)
		}

		// Clicking a single incident opens its popup, fetched from the items API.
		var dot *mark
		for _, z := range []int{7, 9, 11} {
			if z > 7 {
				tb.run(t, chromedp.Evaluate(fmt.Sprintf(`void window.incidentmap.map.setZoom(%d, {animate: false})`, z), nil))
				tb.waitTiles(t, z)
			}
			for _, m := range tb.marks(t) {
				if m.Kind == "incident" && m.HitsItself && m.Clear {
					m := m
					dot = &m
					break
				}
			}
			if dot != nil {
				break
			}
		}
		if dot == nil {
			t.Fatal("no single incident to click at zoom 7, 9 or 11")
		}
		var text string
		tb.run(t, chromedp.MouseClickXY(dot.X, dot.Y), chromedp.WaitVisible(".leaflet-popup .popup"),
			chromedp.Text(".leaflet-popup .popup", &text))
		text = strings.ReplaceAll(text, "\n", "")
		for _, want := range []string{dot.Date, dot.Type, fmt.Sprintf("%d (%s)", dot.ID, synth.EventID(1, dot.ID))} {
			if !strings.Contains(text, want) {
				t.Errorf("popup of incident %d: %q lacks %q", dot.ID, text, want)
			}
		}
		if !tb.requestedAny(fmt.Sprintf("/collections/incidents/items/%d", dot.ID)) {
			t.Errorf("the popup of incident %d did not fetch it", dot.ID)
		}

		// Downloads in tile mode stream every match (no limit).
		if href := tb.eval(t, `document.getElementById("dl-csv").href`).(string); !strings.Contains(href, "f=csv") || strings.Contains(href, "limit=") {
			t.Errorf("tile mode CSV download %s; want f=csv without a limit", href)
		}

		// A month of incidents is below the threshold: markers again, all of them
		// (in the view of all Iraq: the marker layer draws what is in view).
		tb.run(t, chromedp.Evaluate(`void window.incidentmap.map.setView([33.2, 43.7], 5, {animate: false})`, nil))
		tb.waitTiles(t, 5)
		tb.setInput(t, "start", "2020-01-01")
		tb.setInput(t, "end", "2020-01-31")
		want := numberMatched(t, srv, url.Values{"datetime": {"2020-01-01/2020-01-31"}})
		if want == 0 || want > 5000 {
			t.Fatalf("January 2020 matches %d incidents; the test needs 1..5000", want)
		}
		if mode := tb.eval(t, `document.body.dataset.mode`); mode != "markers" {
			t.Fatalf("with %d incidents the page is in mode %v, want markers", want, mode)
		}
		line, n, drawn, _ := tb.shown(t)
		if n != want || drawn != want || !strings.HasPrefix(line, fmt.Sprintf("%d incidents, ", want)) {
			t.Fatalf("January 2020: line %q, %d incidents, %d drawn; want %d", line, n, drawn, want)
		}
		if c := tb.eval(t, `document.querySelectorAll("canvas.incident-tile").length`); c != 0.0 {
			t.Fatalf("%v tile canvases remain in marker mode", c)
		}

		// Clearing the filters returns to tiles.
		tb.run(t, chromedp.Click("#reset"), waitReady())
		if mode := tb.eval(t, `document.body.dataset.mode`); mode != "tiles" {
			t.Fatalf("after clearing the filters the page is in mode %v, want tiles", mode)
		}
		tb.run(t, chromedp.Evaluate(`void window.incidentmap.map.setView([33.2, 43.7], 5, {animate: false})`, nil))
		tb.waitTiles(t, 5)

		// A filter that still matches more than the threshold refetches the
		// tiles in view with it, repainting the same canvases (no blank map).
		atLeastOne := numberMatched(t, srv, url.Values{"min_fatalities": {"1"}})
		if atLeastOne <= 5000 || atLeastOne >= tileTestN {
			t.Fatalf("min_fatalities=1 matches %d; the test needs 5001..%d", atLeastOne, tileTestN-1)
		}
		before := tb.eval(t, `(() => { const cs = document.querySelectorAll("canvas.incident-tile");
		cs.forEach((c) => c.dataset.before = "1"); return cs.length; })()`)
		tb.setInput(t, "min", "1")
		if s := tb.waitTiles(t, 5); s.Incidents != atLeastOne || s.Failures != 0 {
			t.Fatalf("min_fatalities=1 tiles: %+v; the items API says %d incidents", s, atLeastOne)
		}
		if after := tb.eval(t, `[document.querySelectorAll("canvas.incident-tile").length, document.querySelectorAll("canvas.incident-tile[data-before]").length]`); !reflect.DeepEqual(after, []any{before, before}) {
			t.Fatalf("tile canvases before the filter %v, after (all, kept) %v: the tiles were not repainted in place", before, after)
		}
		refetched := 0
		for _, u := range tb.requested("/tiles/WebMercatorQuad/5/") {
			if strings.Contains(u, "min_fatalities=1") {
				refetched++
			}
		}
		if refetched == 0 {
			t.Fatal("no zoom 5 tile was requested again with min_fatalities=1")
		}
		if line := tb.eval(t, `document.getElementById("count").textContent`); line != fmt.Sprintf("%s incidents (shown as clusters from the server)", commas(atLeastOne)) {
			t.Fatalf("count line %q for %d incidents", line, atLeastOne)
		}

	})
}

// commas writes n with thousands separators, as the page does.
func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// requested returns the URLs the page requested that contain part.
func (tb *tab) requested(part string) []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
	for _, u := range tb.requests {
		if strings.Contains(u, part) {
			out = append(out, u)
		}
	}
	return out
}

func (tb *tab) requestedAny(part string) bool { return len(tb.requested(part)) > 0 }

// TestMVTDecoder runs the page's own MVT decoder (static/mvt.js) in Chromium
// on tiles encoded by orb, which the server uses too, and by hand for the
// value types orb never writes (int64, float).
func TestMVTDecoder(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	tb := openPage(t, srv.URL+"/map/")

	// Layer "a" by orb: points, a multipoint, a line and a polygon with
	// negative deltas, and the value types orb writes.
	pt := geojson.NewFeature(orb.Point{10, 4000})
	pt.ID = uint64(1) << 40
	pt.Properties = geojson.Properties{"s": "Ninawā — نينوى", "n": -7, "u": uint64(123456789012), "d": 0.25, "b": true, "f": false}
	multi := geojson.NewFeature(orb.MultiPoint{{100, 100}, {50, 3000}, {4095, 0}})
	multi.Properties = geojson.Properties{"s": "second"}
	line := geojson.NewFeature(orb.LineString{{0, 0}, {20, 30}, {5, 10}})
	poly := geojson.NewFeature(orb.Polygon{{{0, 0}, {40, 0}, {40, 40}, {0, 0}}})
	a, err := mvt.Marshal(mvt.Layers{&mvt.Layer{Name: "a", Version: 2, Extent: 4096, Features: []*geojson.Feature{pt, multi, line, poly}}})
	if err != nil {
		t.Fatal(err)
	}
	// Layer "b" by hand: int64 (negative: a 10-byte varint), float, extent 512.
	i64, f32, name, ver, ext, id := int64(-5), float32(1.5), "b", uint32(2), uint32(512), uint64(9)
	ptType := vectortile.Tile_POINT
	b, err := (&vectortile.Tile{Layers: []*vectortile.Tile_Layer{{
		Version: &ver, Name: &name, Extent: &ext, Keys: []string{"i", "f"},
		Values:   []*vectortile.Tile_Value{{IntValue: &i64}, {FloatValue: &f32}},
		Features: []*vectortile.Tile_Feature{{Id: &id, Type: &ptType, Tags: []uint32{0, 0, 1, 1}, Geometry: []uint32{9, 2, 4}}},
	}}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Two tile messages concatenated are one tile with both layers (protobuf
	// merges repeated fields), and an unknown field (99, varint) is skipped.
	tile := append(append(a, b...), 0x98, 0x06, 0x2a)

	var got map[string]any
	tb.run(t, chromedp.Evaluate(fmt.Sprintf(`(() => {
		const bin = atob(%q), bytes = new Uint8Array(bin.length);
		for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
		return IncidentMVT.decode(bytes);
	})()`, base64.StdEncoding.EncodeToString(tile)), &got))

	wantJSON := `{"layers": {
		"a": {"name": "a", "version": 2, "extent": 4096, "features": [
			{"id": 1099511627776, "type": "Point", "geometry": [[[10, 4000]]],
			 "properties": {"s": "Ninawā — نينوى", "n": -7, "u": 123456789012, "d": 0.25, "b": true, "f": false}},
			{"type": "Point", "geometry": [[[100, 100]], [[50, 3000]], [[4095, 0]]], "properties": {"s": "second"}},
			{"type": "LineString", "geometry": [[[0, 0], [20, 30], [5, 10]]], "properties": {}},
			{"type": "Polygon", "geometry": [[[0, 0], [40, 0], [40, 40], [0, 0]]], "properties": {}}]},
		"b": {"name": "b", "version": 2, "extent": 512, "features": [
			{"id": 9, "type": "Point", "geometry": [[[1, 2]]], "properties": {"i": -5, "f": 1.5}}]}}}`
	var want map[string]any
	if err := json.Unmarshal([]byte(wantJSON), &want); err != nil {
		t.Fatal(err)
	}
	// orb writes no id for features without one; the decoder then leaves it
	// undefined, which JSON drops, so the want above has no "id" there either.
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		t.Fatalf("decoded\n%s\nwant\n%s", g, wantJSON)
	}

	// Broken input is an error, not a hang or a wrong tile.
	var msg string
	tb.run(t, chromedp.Evaluate(`(() => { try { IncidentMVT.decode(new Uint8Array([0x1a, 0x05, 0x0a])); return "decoded"; }
		catch (e) { return e.message; } })()`, &msg))
	if !strings.Contains(msg, "past the end") {
		t.Fatalf("a truncated tile gave %q", msg)
	}
}
