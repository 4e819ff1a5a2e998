package e2e_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"incidentmap/internal/testsrv"
)

// largeN synthetic incidents: the scale the issue names for the page.
const largeN = 200000

// startBulkSynth serves synthetic incidents 1..n of seed 1 (ids 1..n),
// loaded in one bulk import (as `gen --db` does) to keep the tests short.
func startBulkSynth(t *testing.T, n int) *testsrv.Server {
	t.Helper()
	return testsrv.Start(t, testsrv.OpenSynthetic(t, n), nil)
}

// TestMapPageLarge: at 200,000 incidents the first view holds the data's
// whole extent, the list holds what the API says is in view, and its rows
// open popups by click and by keyboard in tile mode.
func TestMapPageLarge(t *testing.T) {
	testsrv.ForEngines(t, testsrv.Synthetic(largeN), nil, func(t *testing.T, srv *testsrv.Server) {
		tb := openPage(t, srv.URL+"/map/")
		t.Logf("page ready %s ms after navigation at %d incidents", tb.eval(t, `document.body.dataset.readyMs`), largeN)
		if mode := tb.eval(t, `document.body.dataset.mode`); mode != "tiles" {
			t.Fatalf("mode %v at %d incidents, want tiles", mode, largeN)
		}
		// The first view contains the collection's extent.
		var col struct {
			Extent struct {
				Spatial struct{ Bbox [][]float64 } `json:"spatial"`
			} `json:"extent"`
		}
		srv.GetJSON(t, "/collections/incidents", 200, &col)
		var b []float64
		tb.run(t, chromedp.Evaluate(`(() => { const b = window.incidentmap.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()`, &b))
		e := col.Extent.Spatial.Bbox[0]
		if b[0] > e[0] || b[1] > e[1] || b[2] < e[2] || b[3] < e[3] {
			t.Fatalf("first view %v does not contain the data's extent %v", b, e)
		}
		// Clusters read: no two circles drawn overlap, across tile edges too, and
		// the tiles' marks count every incident once.
		checkClusters(t, tb, srv, "the first view", url.Values{})

		// The timeline's bars equal the aggregate API; brushing a range changes
		// the count to the items API's numberMatched for it, and the link.
		h := checkHistogram(t, tb, srv, url.Values{})
		i := barIndex(t, h, "2020-01-01")
		tb.brush(t, i, i+2)
		f := tb.form(t)
		q, _ := url.ParseQuery(strings.TrimPrefix(f.Hash, "#"))
		if f.Start != "2020-01-01" || f.End != "2020-03-31" || q.Get("start") != f.Start || q.Get("end") != f.End {
			t.Fatalf("after brushing 2020-01..2020-03: form and link %+v", f)
		}
		want := numberMatched(t, srv, url.Values{"datetime": {"2020-01-01/2020-03-31"}})
		if got := tb.eval(t, `document.getElementById("count").dataset.incidents`); got != fmt.Sprint(want) {
			t.Fatalf("after brushing the page counts %v; numberMatched is %d", got, want)
		}
		checkHistogram(t, tb, srv, url.Values{})
		tb.run(t, chromedp.Click("#reset"), waitReady())

		// The list: "N in view" is the items API's numberMatched for the view's bbox.
		zoomList := func(z int, lat, lon float64) listState {
			t.Helper()
			tb.run(t, chromedp.Evaluate(fmt.Sprintf(`void window.incidentmap.map.setView([%f, %f], %d, {animate: false})`, lat, lon, z), nil))
			tb.waitFor(t, "list of the new view", `(() => { const c = document.getElementById("list-count");
			return decodeURIComponent(document.getElementById("dlv-csv").href).includes(window.incidentmap.bbox()) && c.dataset.bbox === window.incidentmap.bbox(); })()`)
			return tb.list(t)
		}
		l := zoomList(9, 33.3, 44.4)
		bbox := tb.eval(t, `window.incidentmap.bbox()`).(string)
		want = numberMatched(t, srv, url.Values{"bbox": {bbox}})
		if l.InView != want || want == 0 || l.Rows != min(want, 200) {
			t.Fatalf("list at Baghdad zoom 9: %+v; the items API says %d in bbox %s", l, want, bbox)
		}
		// Rows come newest first from the server (sortby), so the first is the
		// newest incident in view.
		var newest struct {
			Features []struct {
				ID         any `json:"id"`
				Properties struct {
					EventDate string `json:"event_date"`
				} `json:"properties"`
			} `json:"features"`
		}
		srv.GetJSON(t, "/collections/incidents/items?"+url.Values{"bbox": {bbox}, "sortby": {"-event_date,-fatalities"}, "limit": {"1"}}.Encode(), 200, &newest)
		var firstDate string
		tb.run(t, chromedp.Evaluate(`document.querySelector("#list .list-row .list-date").textContent`, &firstDate))
		if len(newest.Features) != 1 || firstDate != newest.Features[0].Properties.EventDate {
			t.Fatalf("the list starts on %s; the newest incident in view is of %+v", firstDate, newest.Features)
		}
		// A row opens its incident's popup, by click and by keyboard.
		id := l.IDs[0]
		var text string
		tb.run(t, chromedp.Focus(`#list .list-row[data-id="`+id+`"]`), chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(".leaflet-popup .popup"), chromedp.Text(".leaflet-popup .popup", &text))
		if !strings.Contains(text, id+" (") {
			t.Fatalf("Enter on row %s opened %q", id, text)
		}

		// Clusters at zoom 7 over Baghdad, and with a filter.
		tb.setView(t, 33.3, 44.4, 7)
		checkClusters(t, tb, srv, "zoom 7 over Baghdad", nil)
		tb.open(t, srv.URL+"/map/#types=Battles&map=4/33.2/43.7")
		checkClusters(t, tb, srv, "Battles at zoom 4", url.Values{"event_types": {"Battles"}})
	})
}

// checkClusters waits for the tile layer to draw its zoom, then checks what
// it drew, as the page computes it from the marks' pixel centres and radii:
// no two circles within 2 pixels of each other (the server's gap; half a
// pixel for rounding), wherever they are in the tiles loaded. With want
// (the items parameters of the whole map's incidents, all of them in the
// loaded tiles), the marks' counts add up to the items API's numberMatched.
func checkClusters(t *testing.T, tb *tab, srv *testsrv.Server, where string, want url.Values) {
	t.Helper()
	z := int(tb.eval(t, `window.incidentmap.map.getZoom()`).(float64))
	s := tb.waitTiles(t, z)
	var got struct {
		Marks, Clusters int
		Overlap         []float64
	}
	tb.run(t, chromedp.Evaluate(`(() => {
		const m = window.incidentmap.map, l = window.incidentmap.tiles;
		const ms = l.marksInView(10).map((k) => { const p = m.latLngToContainerPoint(k.latlng); return {x: p.x, y: p.y, r: k.r, cluster: k.kind === "cluster"}; });
		let overlap = null;
		for (let i = 0; i < ms.length && !overlap; i++) {
			for (let j = i + 1; j < ms.length; j++) {
				const a = ms[i], b = ms[j], d = Math.hypot(a.x - b.x, a.y - b.y);
				if (d < a.r + b.r + 2 - 0.5) { overlap = [a.x, a.y, a.r, b.x, b.y, b.r, d]; break; }
			}
		}
		return {marks: ms.length, clusters: ms.filter((k) => k.cluster).length, overlap};
	})()`, &got))
	if got.Clusters == 0 {
		t.Fatalf("%s: no clusters drawn (%d marks, %+v)", where, got.Marks, s)
	}
	if got.Overlap != nil {
		t.Fatalf("%s: two circles overlap: at %v with radius %v and at %v with radius %v, %.1f px apart",
			where, got.Overlap[0:2], got.Overlap[2], got.Overlap[3:5], got.Overlap[5], got.Overlap[6])
	}
	t.Logf("%s: zoom %d, %d tiles, %d marks (%d clusters), none overlapping", where, z, s.Tiles, got.Marks, got.Clusters)
	if want != nil {
		if n := numberMatched(t, srv, want); s.Incidents != n {
			t.Fatalf("%s: the tiles' marks stand for %d incidents; numberMatched is %d", where, s.Incidents, n)
		}
	}
}
