package e2e_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"incidentmap/internal/testsrv"
)

// aggGroups asks the aggregate API and returns its groups.
func aggGroups(t *testing.T, srv *testsrv.Server, params url.Values) []map[string]any {
	t.Helper()
	var a struct {
		Groups []map[string]any `json:"groups"`
	}
	srv.GetJSON(t, "/collections/incidents/aggregate?"+params.Encode(), 200, &a)
	return a.Groups
}

// histogram is what the timeline draws: the bucket and, per bar, its first
// day, its total and its count per event type.
type histogram struct {
	Bucket string
	Bars   []struct {
		Start string
		Count int
		Types map[string]int
	}
}

func (tb *tab) histogram(t *testing.T) histogram {
	t.Helper()
	var h histogram
	tb.run(t, chromedp.Evaluate(`({bucket: window.incidentmap.timeline().bucket,
		bars: [...document.querySelectorAll("#histogram .bar")].map((g) => ({start: g.dataset.start, count: Number(g.dataset.count),
			types: Object.fromEntries([...g.querySelectorAll("rect")].map((r) => [r.dataset.type, Number(r.dataset.count)]))}))})`, &h))
	return h
}

// checkHistogram compares the bars with the aggregate API's counts for the
// page's filters without the dates, per bucket and per bucket and type.
func checkHistogram(t *testing.T, tb *tab, srv *testsrv.Server, params url.Values) histogram {
	t.Helper()
	h := tb.histogram(t)
	if h.Bucket == "" || len(h.Bars) == 0 {
		t.Fatalf("the timeline drew nothing: %+v", h)
	}
	want := map[string]map[string]int{}
	total := 0
	p := url.Values{}
	for k, v := range params {
		p[k] = v
	}
	p.Set("group_by", h.Bucket+",event_type")
	for _, g := range aggGroups(t, srv, p) {
		d := g[h.Bucket].(string)
		if want[d] == nil {
			want[d] = map[string]int{}
		}
		n := int(g["count"].(float64))
		want[d][g["event_type"].(string)] += n
		total += n
	}
	drawn := 0
	for _, b := range h.Bars {
		sum := 0
		for ty, n := range b.Types {
			if want[b.Start][ty] != n {
				t.Fatalf("bar %s %s: %d drawn, the aggregate API says %d", b.Start, ty, n, want[b.Start][ty])
			}
			sum += n
		}
		if sum != b.Count || len(b.Types) != len(want[b.Start]) {
			t.Fatalf("bar %s: total %d, types %v; the aggregate API says %v", b.Start, b.Count, b.Types, want[b.Start])
		}
		drawn += b.Count
	}
	if drawn != total {
		t.Fatalf("the bars hold %d incidents, the aggregate API %d", drawn, total)
	}
	return h
}

// brush drags across the timeline from bar i to bar j with the mouse.
func (tb *tab) brush(t *testing.T, i, j int) {
	t.Helper()
	var box struct{ Left, Top, Width, Height float64 }
	var n int
	tb.run(t, chromedp.Evaluate(`(() => { const r = document.getElementById("histogram").getBoundingClientRect();
		return {left: r.left, top: r.top, width: r.width, height: r.height}; })()`, &box),
		chromedp.Evaluate(`document.querySelectorAll("#histogram .bar").length`, &n))
	x := func(k int) float64 { return box.Left + (float64(k)+0.5)*box.Width/float64(n) }
	y := box.Top + box.Height/2
	tb.run(t,
		chromedp.MouseEvent(input.MouseMoved, x(i), y),
		chromedp.MouseEvent(input.MousePressed, x(i), y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(input.MouseMoved, x((i+j)/2), y, chromedp.ButtonModifiers(input.ModifierNone), chromedp.Button("left")),
		chromedp.MouseEvent(input.MouseMoved, x(j), y, chromedp.Button("left")),
		chromedp.MouseEvent(input.MouseReleased, x(j), y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.Sleep(100*time.Millisecond), waitReady())
}

// barIndex is the index of the bar starting on day d.
func barIndex(t *testing.T, h histogram, d string) int {
	t.Helper()
	for i, b := range h.Bars {
		if b.Start == d {
			return i
		}
	}
	t.Fatalf("no bar starts on %s", d)
	return -1
}

// TestMapPageTimeline: the histogram equals the aggregate API, brushing
// sets the dates in the form and the link, Escape clears them, the charts
// equal the aggregate API and filter when clicked, Play slides the brush.
func TestMapPageTimeline(t *testing.T) {
	testsrv.ForEngines(t, testsrv.Seed, nil, func(t *testing.T, srv *testsrv.Server) {
		tb := openPage(t, srv.URL+"/map/")
		h := checkHistogram(t, tb, srv, url.Values{})
		if h.Bucket != "month" {
			t.Fatalf("the seed spans three calendar years: bars per %s, want month", h.Bucket)
		}
		// Brush January to July 2021: 7 incidents.
		tb.brush(t, barIndex(t, h, "2021-01-01"), barIndex(t, h, "2021-07-01"))
		f := tb.form(t)
		q, _ := url.ParseQuery(strings.TrimPrefix(f.Hash, "#"))
		if f.Start != "2021-01-01" || f.End != "2021-07-31" || q.Get("start") != "2021-01-01" || q.Get("end") != "2021-07-31" {
			t.Fatalf("after brushing 2021-01..2021-07 the form says %+v", f)
		}
		want := numberMatched(t, srv, url.Values{"datetime": {"2021-01-01/2021-07-31"}})
		if line, n, _, _ := tb.shown(t); n != want || !strings.HasPrefix(line, fmt.Sprintf("%d incidents", want)) {
			t.Fatalf("after brushing: %q (%d); numberMatched is %d", line, n, want)
		}
		if b := tb.eval(t, `document.getElementById("histogram").dataset.brush`); b != "2021-01-01/2021-07-31" {
			t.Fatalf("brush drawn over %v", b)
		}
		// The bars stay those of every date (the brush is over them, not a filter of them).
		checkHistogram(t, tb, srv, url.Values{})
		// Escape clears the range.
		tb.run(t, chromedp.Focus("#histogram"), chromedp.KeyEvent(keyOf("Escape")), chromedp.Sleep(100*time.Millisecond), waitReady())
		if line, _, _, _ := tb.shown(t); line != "13 incidents, 19 killed" {
			t.Fatalf("after Escape: %q", line)
		}
		// The keyboard brushes too: End selects the last month, Shift+Left
		// does not shrink below one bar, Left moves it back a month.
		tb.run(t, chromedp.Focus("#histogram"), chromedp.KeyEvent(keyOf("End")), chromedp.KeyEvent(keyOf("Left")))
		tb.waitFor(t, "keyboard brush", `location.hash.includes("start=2021-06-01") && location.hash.includes("end=2021-06-30")`)
		tb.run(t, waitReady())
		if line, _, _, _ := tb.shown(t); line != "1 incident, 4 killed" {
			t.Fatalf("June 2021 by keyboard: %q", line)
		}
		tb.run(t, chromedp.Focus("#histogram"), chromedp.KeyEvent(keyOf("Escape")), chromedp.Sleep(100*time.Millisecond), waitReady())

		// Charts: per type they equal the aggregate API; a click filters.
		var facets []struct {
			Value string
			Count int
		}
		tb.run(t, chromedp.Evaluate(`[...document.querySelectorAll("#facet-types .facet-bar")].map((b) => ({value: b.value, count: Number(b.dataset.count)}))`, &facets))
		groups := aggGroups(t, srv, url.Values{"group_by": {"event_type"}})
		if len(facets) != len(groups) || len(facets) == 0 {
			t.Fatalf("type chart %v; the aggregate API says %v", facets, groups)
		}
		for _, g := range groups {
			found := false
			for _, f := range facets {
				if f.Value == g["event_type"] && f.Count == int(g["count"].(float64)) {
					found = true
				}
			}
			if !found {
				t.Fatalf("type chart %v lacks %v", facets, g)
			}
		}
		tb.run(t, chromedp.Click(`#facet-regions .facet-bar[value="Kurdistan Region"]`), chromedp.Sleep(100*time.Millisecond), waitReady())
		if line, _, _, _ := tb.shown(t); line != "3 incidents, 1 killed" {
			t.Fatalf("after clicking Kurdistan Region in the chart: %q", line)
		}
		if r := tb.form(t).Region; r != "Kurdistan Region" {
			t.Fatalf("region select %q after the chart click", r)
		}
		// Top actors: a click filters on actor1 or actor2.
		var actor string
		tb.run(t, chromedp.Evaluate(`document.querySelector("#facet-actors .facet-bar").value`, &actor))
		tb.run(t, chromedp.Click(`#facet-actors .facet-bar`), chromedp.Sleep(100*time.Millisecond), waitReady())
		wantActor := numberMatched(t, srv, url.Values{"actors": {actor}, "regions": {"Kurdistan Region"}})
		if _, n, _, _ := tb.shown(t); n != wantActor || !strings.Contains(tb.form(t).Hash, "actor=") {
			t.Fatalf("actor %q: %d shown, numberMatched %d", actor, n, wantActor)
		}

		// Play slides a window along the bars, then Stop keeps where it is.
		tb.run(t, chromedp.Click("#reset"), waitReady(), chromedp.Click("#play"))
		tb.waitFor(t, "play moves the brush", `document.getElementById("play-label").textContent !== "" && location.hash.includes("start=")`)
		tb.run(t, chromedp.Click("#play"))
		tb.waitFor(t, "play stops", `document.getElementById("play").getAttribute("aria-pressed") === "false"`)
	})
}

// keyOf is the key of that name for chromedp.KeyEvent.
func keyOf(name string) string {
	switch name {
	case "Escape":
		return "\x1b"
	case "End":
		return kb.End
	case "Left":
		return kb.ArrowLeft
	}
	return name
}
