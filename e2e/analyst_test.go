package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"incidentmap/internal/testsrv"
)

// waitFor polls js until it is true (or fails the test after 20 s).
func (tb *tab) waitFor(t *testing.T, what, js string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ok bool
		tb.run(t, chromedp.Evaluate(js, &ok))
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still false after 20 s (page errors %v)", what, tb.pageErrors())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// back and forward move through the tab's history and wait for the page.
func (tb *tab) back(t *testing.T) {
	t.Helper()
	tb.run(t, chromedp.Evaluate(`history.back()`, nil), chromedp.Sleep(300*time.Millisecond), waitReady())
}

func (tb *tab) forward(t *testing.T) {
	t.Helper()
	tb.run(t, chromedp.Evaluate(`history.forward()`, nil), chromedp.Sleep(300*time.Millisecond), waitReady())
}

// formState is what the page's form and URL say.
type formState struct {
	Start, End, Region, Hash string
}

func (tb *tab) form(t *testing.T) formState {
	t.Helper()
	var f formState
	tb.run(t, chromedp.Evaluate(`({start: document.getElementById("start").value, end: document.getElementById("end").value,
		region: document.getElementById("region").value, hash: location.hash})`, &f))
	return f
}

// TestMapPageHistory: Back then Forward show exactly the state their URL
// says, filters and map alike (issue 14 §9: Forward kept showing all 13).
func TestMapPageHistory(t *testing.T) {
	testsrv.ForEngines(t, testsrv.Seed, nil, func(t *testing.T, srv *testsrv.Server) {
		tb := openPage(t, srv.URL+"/map/")
		tb.setInput(t, "start", "2021-01-01")
		tb.setInput(t, "region", "Anbar")
		want := []struct {
			line          string
			start, region string
		}{{"13 incidents, 19 killed", "", ""}, {"7 incidents, 6 killed", "2021-01-01", ""}, {"4 incidents, 5 killed", "2021-01-01", "Anbar"}}
		check := func(step string, i int) {
			t.Helper()
			line, n, drawn, _ := tb.shown(t)
			f := tb.form(t)
			w := want[i]
			if line != w.line || n != drawn || f.Start != w.start || f.Region != w.region {
				t.Fatalf("%s: line %q (%d incidents, %d drawn), form %+v; want %q, start %q, region %q", step, line, n, drawn, f, w.line, w.start, w.region)
			}
			// The URL says what is shown.
			h, _ := url.ParseQuery(strings.TrimPrefix(f.Hash, "#"))
			if h.Get("start") != w.start || h.Get("region") != w.region {
				t.Fatalf("%s: URL %s, want start=%q region=%q", step, f.Hash, w.start, w.region)
			}
		}
		check("after filtering", 2)
		tb.back(t)
		check("back once", 1)
		tb.back(t)
		check("back twice", 0)
		tb.forward(t)
		check("forward once", 1)
		tb.forward(t)
		check("forward twice", 2)
		tb.back(t)
		check("back again", 1)
	})
}

// TestMapPageUnknownParams: a link with tracking parameters opens the map.
func TestMapPageUnknownParams(t *testing.T) {
	testsrv.ForEngines(t, testsrv.Seed, nil, func(t *testing.T, srv *testsrv.Server) {
		tb := openPage(t, srv.URL+"/map/?utm_source=x&utm_medium=mail")
		if line, n, drawn, _ := tb.shown(t); line != "13 incidents, 19 killed" || n != 13 || drawn != 13 {
			t.Fatalf("/map/?utm_source=x shows %q (%d, %d drawn)", line, n, drawn)
		}
	})
}

// listState is the list beside the map against the features the page holds.
type listState struct {
	Rows, InView, Computed int
	IDs                    []string
	Line                   string
}

func (tb *tab) list(t *testing.T) listState {
	t.Helper()
	var l listState
	tb.run(t, chromedp.Evaluate(`(() => { const v = window.incidentmap.view, b = v.map.getBounds();
		const rows = [...document.querySelectorAll("#list .list-row")];
		return {rows: rows.length, inView: Number(document.getElementById("list-count").dataset.inView),
			computed: v.features.filter((f) => b.contains([f.geometry.coordinates[1], f.geometry.coordinates[0]])).length,
			ids: rows.map((r) => r.dataset.id), line: document.getElementById("list-count").textContent}; })()`, &l))
	return l
}

// TestMapPageList: the list holds exactly the matching incidents in view,
// follows the map, sorts by date or toll, and opens popups by click or key.
func TestMapPageList(t *testing.T) {
	testsrv.ForEngines(t, testsrv.Seed, nil, func(t *testing.T, srv *testsrv.Server) {
		tb := openPage(t, srv.URL+"/map/")
		l := tb.list(t)
		if l.Rows != 13 || l.InView != 13 || l.Computed != 13 || l.Line != "13 in view" {
			t.Fatalf("seed list: %+v; want all 13 in view", l)
		}
		// Zoomed in on Erbil the list follows the view.
		tb.run(t, chromedp.Evaluate(`void window.incidentmap.map.setView([36.2, 44.0], 9, {animate: false})`, nil))
		tb.waitFor(t, "list follows the view", `(() => { const v = window.incidentmap.view, b = v.map.getBounds();
		return Number(document.getElementById("list-count").dataset.inView) ===
			v.features.filter((f) => b.contains([f.geometry.coordinates[1], f.geometry.coordinates[0]])).length; })()`)
		l = tb.list(t)
		if l.Rows != l.Computed || l.Rows == 0 || l.Rows >= 13 {
			t.Fatalf("Erbil list: %+v; want the features in view, some but not all", l)
		}
		// The in-view download carries the view's bbox.
		if href := tb.eval(t, `document.getElementById("dlv-csv").href`).(string); !strings.Contains(href, "bbox=") || !strings.Contains(href, "f=csv") {
			t.Errorf("in-view CSV download %s lacks the bbox", href)
		}
		if href := tb.eval(t, `document.getElementById("dl-csv").href`).(string); strings.Contains(href, "bbox=") ||
			!strings.Contains(href, "/collections/incidents/download?") {
			t.Errorf("all-matching CSV download %s has a bbox or is not the download path (/map/config.json's href)", href)
		}

		// Sorted by toll: the deadliest first (the Baghdad airport strike, 10
		// killed, then Al-Qaim, 4); by date: the newest first.
		tb.open(t, srv.URL+"/map/#sort=toll")
		if l := tb.list(t); len(l.IDs) != 13 || l.IDs[0] != "2" || l.IDs[1] != "12" {
			t.Fatalf("list by toll starts with %v; want incidents 2 (10 killed) and 12 (4 killed)", l.IDs)
		}
		tb.run(t, chromedp.SetValue("#sort", "date"), chromedp.Evaluate(`document.getElementById("sort").dispatchEvent(new Event("change"))`, nil))
		tb.waitFor(t, "sorted by date", `document.querySelector("#list .list-row").dataset.id === "13"`)
		tb.run(t, chromedp.SetValue("#sort", "toll"), chromedp.Evaluate(`document.getElementById("sort").dispatchEvent(new Event("change"))`, nil))
		tb.waitFor(t, "sorted by toll", `document.querySelector("#list .list-row").dataset.id === "2"`)
		// Keyboard: Tab reaches the rows; Enter opens the popup.
		var popup string
		tb.run(t, chromedp.Focus(`#list .list-row[data-id="12"]`), chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(".leaflet-popup .popup"), chromedp.Text(".leaflet-popup .popup", &popup))
		if !strings.Contains(popup, "2021-06-27") || !strings.Contains(popup, "Al-Qaim") {
			t.Fatalf("Enter on the list row of incident 12 opened %q", popup)
		}
	})
}

// TestMapPageArabic: the Arabic interface is right to left with the
// catalogue's words, chosen by a switch or the link.
func TestMapPageArabic(t *testing.T) {
	testsrv.ForEngines(t, testsrv.Seed, nil, func(t *testing.T, srv *testsrv.Server) {
		tb := openPage(t, srv.URL+"/map/#lang=ar")
		var r struct {
			Dir, Lang, Line, Legend, Title string
			PanelRight                     bool
		}
		js := `(() => { const p = document.getElementById("panel").getBoundingClientRect(), m = document.getElementById("map").getBoundingClientRect();
		return {dir: document.documentElement.dir, lang: document.documentElement.lang, line: document.getElementById("count").textContent,
			legend: document.querySelector("#filters legend").textContent, title: document.title, panelRight: p.left > m.left}; })()`
		tb.run(t, chromedp.Evaluate(js, &r))
		if r.Dir != "rtl" || r.Lang != "ar" || r.Line != "13 حادثة، 19 قتيل" || r.Legend != "الوقت" || !r.PanelRight || !strings.Contains(r.Title, "خريطة") {
			t.Fatalf("Arabic page: %+v; want rtl, Arabic words and the panel on the right", r)
		}
		// The switch changes the language in place: no reload, the filters, the
		// view and the layers stay, and every word changes, down to the type and
		// region names, the layer control and the place names on the map.
		tb.setInput(t, "region", "Anbar")
		tb.setView(t, 33.3, 43.0, 7)
		words := func() (w struct {
			Region, Type, Layers, Places string
			Zoom                         float64
			Before                       bool
		}) {
			tb.run(t, chromedp.Evaluate(`(() => { const r = document.getElementById("region");
			return {region: r.value + "=" + r.selectedOptions[0].textContent,
				type: document.querySelector('#types input[value="Battles"]').parentNode.textContent,
				layers: [...document.querySelectorAll(".leaflet-control-layers-base label")].map((l) => l.textContent.trim()).join("|"),
				places: [...document.querySelectorAll(".leaflet-labels-pane .place")].map((e) => e.textContent).join("|"),
				zoom: window.incidentmap.map.getZoom(), before: !!window.before}; })()`, &w))
			return w
		}
		ar := words()
		tb.run(t, chromedp.Evaluate(`window.before = true; const l = document.getElementById("lang"); l.value = "en"; l.dispatchEvent(new Event("change", {bubbles: true}))`, nil))
		tb.waitFor(t, "the page in English", `document.documentElement.lang === "en" && document.body.dataset.state === "ready"`)
		tb.run(t, chromedp.Evaluate(js, &r))
		anbar := numberMatched(t, srv, url.Values{"regions": {"Anbar"}})
		if r.Dir != "ltr" || r.Lang != "en" || !strings.HasPrefix(r.Line, fmt.Sprintf("%d incidents, ", anbar)) || r.PanelRight || r.Legend != "Time" {
			t.Fatalf("after switching to English: %+v; want ltr, English words and the %d incidents of Anbar", r, anbar)
		}
		en := words()
		if !en.Before || en.Zoom != 7 || en.Region != "Anbar=Anbar" || en.Type != "Battles" ||
			!strings.Contains(en.Layers, "Basemap (offline)") || en.Places == "" || en.Places == ar.Places || strings.ContainsAny(en.Places, "بغدادالرمادي") {
			t.Fatalf("after switching in place to English: %+v (in Arabic: %+v); want no reload, zoom 7, Anbar chosen, English names", en, ar)
		}
		if ar.Region == "Anbar=Anbar" || ar.Type == "Battles" || strings.Contains(ar.Layers, "Basemap") {
			t.Fatalf("the Arabic page showed English names: %+v", ar)
		}
		if h := tb.eval(t, `location.hash`).(string); !strings.Contains(h, "lang=en") || !strings.Contains(h, "region=Anbar") {
			t.Fatalf("the language switch is not in the link, or the filter left it: %s", h)
		}
		// And back to Arabic, right to left again.
		tb.run(t, chromedp.Evaluate(`const l2 = document.getElementById("lang"); l2.value = "ar"; l2.dispatchEvent(new Event("change", {bubbles: true}))`, nil))
		tb.waitFor(t, "the page in Arabic", `document.documentElement.dir === "rtl" && document.body.dataset.state === "ready"`)
		if again := words(); !again.Before || again.Region != ar.Region || again.Layers != ar.Layers || again.Type != ar.Type {
			t.Fatalf("back in Arabic: %+v; first time %+v", again, ar)
		}
	})
}

// TestMapPagePresets: a relative range stays relative in the link and
// becomes dates as of the day the link is opened.
func TestMapPagePresets(t *testing.T) {
	testsrv.ForEngines(t, testsrv.Seed, nil, func(t *testing.T, srv *testsrv.Server) {
		tb := openPage(t, srv.URL+"/map/")
		tb.run(t, chromedp.Click(`#presets button[value="30d"]`), chromedp.Sleep(100*time.Millisecond), waitReady())
		f := tb.form(t)
		h, _ := url.ParseQuery(strings.TrimPrefix(f.Hash, "#"))
		if h.Get("last") != "30d" || h.Has("start") || h.Has("end") {
			t.Fatalf("after the 30 d preset the link is %s; want last=30d and no dates", f.Hash)
		}
		day := func(back int) string {
			return time.Now().UTC().Add(-time.Duration(back) * 24 * time.Hour).Format("2006-01-02")
		}
		if f.Start != day(30) && f.Start != day(31) {
			t.Fatalf("30 d preset: from %q, want %s", f.Start, day(30))
		}
		// Opened later: the link is read as of today, whatever day it was made.
		tb.open(t, srv.URL+"/map/#last=1y")
		f = tb.form(t)
		if f.Start != day(365) && f.Start != day(366) || f.End != "" {
			t.Fatalf("#last=1y opened: from %q to %q; want from %s", f.Start, f.End, day(365))
		}
		if line, _, _, _ := tb.shown(t); line != "0 incidents, 0 killed" {
			t.Fatalf("the seed is from 2019–2021; last year shows %q", line)
		}
		// Typing a date makes the range absolute again.
		tb.setInput(t, "start", "2021-01-01")
		h, _ = url.ParseQuery(strings.TrimPrefix(tb.form(t).Hash, "#"))
		if h.Has("last") || h.Get("start") != "2021-01-01" {
			t.Fatalf("after typing a date the link is %v", h)
		}
		if pressed := tb.eval(t, `[...document.querySelectorAll("#presets [aria-pressed=true]")].map((b) => b.value).join()`); pressed != "" {
			t.Fatalf("presets pressed after typing a date: %v", pressed)
		}
	})
}

// axeViolations runs axe-core (npm, copied to static/vendor by make assets)
// in the page and returns its violations, one line each.
func (tb *tab) axeViolations(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "static", "vendor", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is missing (make assets copies it): %v", err)
	}
	var out json.RawMessage
	tb.run(t, chromedp.Evaluate(string(src), nil), chromedp.Evaluate(`axe.run(document, {resultTypes: ["violations"]}).then((r) =>
		r.violations.map((v) => v.id + " (" + v.impact + "): " + v.help + " — " + v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " " + (n.failureSummary || "").replace(/\s+/g, " ")).join(" | ")))`,
		&out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	var v []string
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("axe result %s: %v", out, err)
	}
	return v
}

// TestMapPageAccessibility: axe-core finds no violation on desktop and on
// a phone, each with a popup open, in English and Arabic, also when the
// language was switched in place.
func TestMapPageAccessibility(t *testing.T) {
	// One engine: axe judges the page's markup and colours, which do not
	// depend on the engine (the other analyst tests run on both).
	srv := testsrv.StartSeeded(t)
	for _, c := range []struct {
		name          string
		width, height int64
		hash, lang    string
	}{{"desktop", 1280, 800, "#shade=incidents", ""}, {"phone", 375, 812, "#shade=fatalities", ""},
		{"desktop Arabic", 1280, 800, "#lang=ar&shade=incidents", ""},
		{"phone switched to Arabic", 375, 812, "#shade=incidents", "ar"}} {
		t.Run(c.name, func(t *testing.T) {
			tb := openPage(t, srv.URL+"/map/"+c.hash, c.width, c.height)
			if c.lang != "" {
				tb.run(t, chromedp.Evaluate(`const l = document.getElementById("lang"); l.value = "`+c.lang+`"; l.dispatchEvent(new Event("change", {bubbles: true}))`, nil))
				tb.waitFor(t, "the page in "+c.lang, `document.documentElement.lang === "`+c.lang+`" && document.body.dataset.state === "ready"`)
			}
			// A popup open: from the list on a desktop, from a marker on a phone.
			if c.width > 700 {
				tb.run(t, chromedp.Click(`#list .list-row[data-id="12"]`))
			} else {
				tb.run(t, chromedp.Evaluate(`void window.incidentmap.view.markers.get("12").fire("click")`, nil))
			}
			tb.run(t, chromedp.WaitVisible(".leaflet-popup .popup"))
			// Leaflet fades a popup in: axe run mid-fade reads its text
			// blended with the map behind (a contrast of ~2).
			tb.waitFor(t, "the popup fully shown", `(() => { const p = document.querySelector(".leaflet-popup"); return !!p && getComputedStyle(p).opacity === "1"; })()`)
			if v := tb.axeViolations(t); len(v) > 0 {
				t.Fatalf("axe-core found %d violations:\n%s", len(v), strings.Join(v, "\n"))
			}
		})
	}
}

var _ = fmt.Sprint
var _ = context.Background
