package e2e_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
)

// newBrowser starts one headless Chromium for a test. Without Chromium the
// test fails under CI=true and is skipped elsewhere.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (make test-deps installs it); the page tests cannot run")
		}
		t.Skip("chromium is not installed; run make test-deps")
	}
	// Not t.TempDir: Chromium may still write to its profile as it exits,
	// which would fail the test's own clean-up.
	profile, err := os.MkdirTemp("", "incidentmap-chromium")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if err := chromedp.Run(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	return bctx
}

// tab is one page with everything it logged and requested.
type tab struct {
	ctx      context.Context
	mu       sync.Mutex
	errors   []string
	requests []string
	dialogs  int
}

func newTab(t *testing.T, browser context.Context) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	tb := &tab{ctx: ctx}
	chromedp.ListenTarget(ctx, func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				tb.errors = append(tb.errors, "console: "+strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			tb.errors = append(tb.errors, "exception: "+e.ExceptionDetails.Error())
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError {
				tb.errors = append(tb.errors, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			tb.requests = append(tb.requests, e.Request.URL)
		case *page.EventJavascriptDialogOpening:
			tb.dialogs++
			go chromedp.Run(ctx, page.HandleJavaScriptDialog(false))
		}
	})
	if err := chromedp.Run(ctx, network.Enable(), cdplog.Enable(), runtime.Enable()); err != nil {
		t.Fatal(err)
	}
	return tb
}

// openPage opens url in a tab of a browser of its own, brought to the front
// (a tab in the background gets no animation frames: Leaflet's zooms wait
// for them, and a screenshot of it never comes), at width×height CSS pixels
// when a viewport is given, and waits for the page to be ready. When the
// test ends, it fails if the page logged any error.
func openPage(t *testing.T, url string, viewport ...int64) *tab {
	t.Helper()
	tb := newTab(t, newBrowser(t))
	actions := []chromedp.Action{page.BringToFront()}
	if len(viewport) == 2 {
		// The layout keys on the viewport width; mobile emulation itself made
		// Chromium's screenshot hang here, so it is not used.
		actions = append(actions, chromedp.EmulateViewport(viewport[0], viewport[1], chromedp.EmulateScale(1)))
	}
	tb.run(t, actions...)
	tb.open(t, url)
	t.Cleanup(func() {
		if errs := tb.pageErrors(); len(errs) > 0 {
			t.Errorf("the page logged errors: %v", errs)
		}
	})
	return tb
}

func (tb *tab) run(t *testing.T, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("browser: %v (page errors: %v)", err, tb.pageErrors())
	}
}

func (tb *tab) pageErrors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.errors...)
}

// waitReady waits until the page has drawn the answer to its last request.
func waitReady() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		deadline := time.Now().Add(20 * time.Second)
		for {
			var state string
			if err := chromedp.Evaluate(`document.body ? document.body.dataset.state || "" : ""`, &state).Do(ctx); err != nil {
				return err
			}
			if state == "ready" || state == "error" {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("page state still %q after 20 s", state)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// open loads url from scratch and waits. It passes through another page of
// the server first: a URL that differs from the current one only in its hash
// would be a same-document navigation, which never fires a load event.
func (tb *tab) open(t *testing.T, url string) {
	t.Helper()
	root, _, _ := strings.Cut(url, "/map/")
	tb.run(t, chromedp.Navigate(root+"/healthz"), chromedp.Navigate(url), waitReady())
	if state := tb.eval(t, `document.body.dataset.state`); state != "ready" {
		t.Fatalf("page state %v; error: %v", state, tb.eval(t, `document.getElementById("error").textContent`))
	}
}

func (tb *tab) eval(t *testing.T, js string) any {
	t.Helper()
	var v any
	tb.run(t, chromedp.Evaluate(js, &v))
	return v
}

// setInput sets a form control as a person would and waits for the new data.
func (tb *tab) setInput(t *testing.T, id, value string) {
	t.Helper()
	tb.run(t, chromedp.Evaluate(fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %q;
		e.dispatchEvent(new Event("change", {bubbles: true})); })()`, id, value), nil), waitReady())
}

// shown returns the count line and the incidents the map draws: markers on
// screen plus the numbers on cluster bubbles, which must agree.
func (tb *tab) shown(t *testing.T) (line string, incidents, drawn, killed int) {
	t.Helper()
	var r struct {
		Line             string
		Incidents, Drawn int
		Killed           int
	}
	tb.run(t, chromedp.Evaluate(`(() => {
		const c = document.getElementById("count");
		let drawn = document.querySelectorAll(".leaflet-marker-pane .inc").length;
		for (const s of document.querySelectorAll(".leaflet-marker-pane .marker-cluster span")) drawn += Number(s.textContent);
		return {line: c.textContent, incidents: Number(c.dataset.incidents), drawn, killed: Number(c.dataset.killed)};
	})()`, &r))
	return r.Line, r.Incidents, r.Drawn, r.Killed
}

// TestMapPage drives the page over each engine: the same counts, filters,
// permalinks and popups whether SQLite or PostGIS answers.
func TestMapPage(t *testing.T) {
	for _, e := range testsrv.StartSeededEngines(t) {
		t.Run(e.Name, func(t *testing.T) {
			srv := e.Server
			tb := openPage(t, srv.URL+"/map/")
			t.Logf("page ready %s ms after navigation at the 13 seed incidents", tb.eval(t, `document.body.dataset.readyMs`))

			check := func(name string, wantLine string, want, wantKilled int) {
				t.Helper()
				line, n, drawn, killed := tb.shown(t)
				if line != wantLine || n != want || drawn != want || killed != wantKilled {
					t.Fatalf("%s: line %q, %d incidents, %d drawn, %d killed; want %q, %d, %d killed", name, line, n, drawn, killed, wantLine, want, wantKilled)
				}
			}
			check("seed", "13 incidents, 19 killed", 13, 19)

			tb.setInput(t, "start", "2021-01-01")
			tb.setInput(t, "end", "2021-12-31")
			check("2021", "7 incidents, 6 killed", 7, 6)

			tb.run(t, chromedp.Click("#reset"), waitReady())
			check("reset", "13 incidents, 19 killed", 13, 19)
			tb.setInput(t, "region", "Kurdistan Region")
			check("Kurdistan Region", "3 incidents, 1 killed", 3, 1)

			// Back returns to the previous filters.
			tb.run(t, chromedp.Evaluate(`history.back()`, nil), chromedp.Sleep(300*time.Millisecond), waitReady())
			check("back", "13 incidents, 19 killed", 13, 19)
			if v := tb.eval(t, `document.getElementById("region").value`); v != "" {
				t.Fatalf("after back the region filter is %q", v)
			}

			// A permalink restores filters and view.
			tb.open(t, srv.URL+"/map/#start=2021-01-01&end=2021-12-31&region=Anbar&map=8/33.8/42.4")
			check("permalink", "4 incidents, 5 killed", 4, 5)
			var view struct {
				Zoom, Lat, Lon     float64
				Start, End, Region string
			}
			tb.run(t, chromedp.Evaluate(`(() => { const m = window.incidentmap.map, c = m.getCenter();
			return {zoom: m.getZoom(), lat: c.lat, lon: c.lng, start: document.getElementById("start").value,
			end: document.getElementById("end").value, region: document.getElementById("region").value}; })()`, &view))
			if view.Zoom != 8 || math.Abs(view.Lat-33.8) > 0.01 || math.Abs(view.Lon-42.4) > 0.01 ||
				view.Start != "2021-01-01" || view.End != "2021-12-31" || view.Region != "Anbar" {
				t.Fatalf("permalink restored %+v", view)
			}

			// Clicking an incident opens its popup with its date and fatalities.
			tb.open(t, srv.URL+"/map/#start=2021-06-01&end=2021-06-30")
			check("June 2021", "1 incident, 4 killed", 1, 4)
			var popup string
			tb.run(t, chromedp.Click(".leaflet-marker-pane .id-12"), chromedp.WaitVisible(".leaflet-popup .popup"),
				chromedp.Text(".leaflet-popup .popup", &popup))
			for _, want := range []string{"2021-06-27", "exact day", "Fatalities4", "Al-Qaim", "Kataib Hezbollah"} {
				if !strings.Contains(strings.ReplaceAll(popup, "\n", ""), want) {
					t.Errorf("popup %q lacks %q", popup, want)
				}
			}

			tb.mu.Lock()
			defer tb.mu.Unlock()
			for _, u := range tb.requests {
				if !strings.HasPrefix(u, srv.URL+"/") && !strings.HasPrefix(u, "data:") {
					t.Errorf("the page requested %s, off this server", u)
				}
			}
			if len(tb.requests) < 5 {
				t.Fatalf("only %d requests seen; the network listener is not working", len(tb.requests))
			}
		})
	}
}

func TestIncidentTextIsNotHTML(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	evil := incident.Incident{EventID: "XSS-1", EventDate: "2021-03-01", TimePrecision: 1, EventType: "Riots", GeoPrecision: 1,
		Lon: 47.78, Lat: 30.51, Notes: `<img src=x onerror=alert(1)>`, Location: `<b>Basra</b>`,
		Actor1: `"><script>alert(2)</script>`, Source: "test"}
	if _, err := st.Upsert(context.Background(), []incident.Incident{evil}); err != nil {
		t.Fatal(err)
	}
	srv := testsrv.Start(t, st, nil)
	tb := openPage(t, srv.URL+"/map/#start=2021-03-01&end=2021-03-01")
	var text string
	var imgs int
	tb.run(t, chromedp.Click(".leaflet-marker-pane .id-14"), chromedp.WaitVisible(".leaflet-popup .popup"),
		chromedp.Text(".leaflet-popup .popup", &text),
		chromedp.Evaluate(`document.querySelectorAll(".leaflet-popup img, .leaflet-popup script, .leaflet-popup b").length`, &imgs),
		chromedp.Sleep(300*time.Millisecond))
	if !strings.Contains(text, `<img src=x onerror=alert(1)>`) || !strings.Contains(text, `<b>Basra</b>`) || imgs != 0 {
		t.Fatalf("popup text %q with %d HTML elements from the data; want the markup shown as text", text, imgs)
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.dialogs != 0 {
		t.Fatalf("%d dialogs opened: incident text ran as script", tb.dialogs)
	}
}

// TestScreenshots writes the README's screenshots when INCIDENTMAP_SCREENSHOTS
// names a folder (make screenshots); otherwise it does nothing. The desktop
// and Arabic views show 20,000 synthetic incidents (clusters, a full
// timeline, charts), the phone the 13 seed incidents.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("INCIDENTMAP_SCREENSHOTS")
	if dir == "" {
		t.Skip("set INCIDENTMAP_SCREENSHOTS=DIR (make screenshots) to write screenshots")
	}
	seed := testsrv.StartSeeded(t)
	synthetic := startBulkSynth(t, 20000)
	for _, shot := range []struct {
		name          string
		srv           *testsrv.Server
		width, height int64
		hash          string
	}{
		{"screenshot-desktop.png", synthetic, 1400, 900, "#shade=incidents"},
		{"screenshot-phone.png", seed, 375, 812, "#shade=incidents"},
		{"screenshot-arabic.png", synthetic, 1400, 900, "#lang=ar&shade=fatalities&start=2020-01-01&end=2020-12-31"},
	} {
		// A browser each: a tab left in the background is not painted, and
		// capturing a later one could wait for a frame that never comes.
		tb := openPage(t, shot.srv.URL+"/map/"+shot.hash, shot.width, shot.height)
		var png []byte
		tb.run(t, chromedp.Sleep(800*time.Millisecond), chromedp.CaptureScreenshot(&png))
		if err := os.WriteFile(filepath.Join(dir, shot.name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
