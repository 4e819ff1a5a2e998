package e2e_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"incidentmap/internal/testsrv"
)

// largeN synthetic incidents: the scale the issue names for the page.
const largeN = 200000

// startBulkSynth serves synthetic incidents 1..n of seed 1, loaded in one
// bulk import (as `gen --db` does) to keep the test short.
func startBulkSynth(t *testing.T, n int) *testsrv.Server {
	t.Helper()
	return testsrv.Start(t, testsrv.OpenSynthetic(t, n), nil)
}

// TestMapPageLarge: at 200,000 incidents the first view holds the data's
// whole extent, the list holds what the API says is in view, and its rows
// open popups by click and by keyboard in tile mode.
func TestMapPageLarge(t *testing.T) {
	srv := startBulkSynth(t, largeN)
	tb := newTab(t, newBrowser(t))
	tb.run(t, page.BringToFront())
	tb.open(t, srv.URL+"/map/")
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
	if errs := tb.pageErrors(); len(errs) > 0 {
		t.Errorf("the page logged errors: %v", errs)
	}
}
