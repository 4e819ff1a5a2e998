package server_test

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
)

// downloadFormats are the download formats and their media types, as the
// links and responses must name them.
var downloadFormats = []struct{ f, media string }{
	{"geojson", "application/geo+json"},
	{"geojsonseq", "application/geo+json-seq"},
	{"csv", "text/csv"},
	{"kml", "application/vnd.google-earth.kml+xml"},
	{"gpkg", "application/geopackage+sqlite3"},
}

// gpkgClock matches a time with milliseconds (2026-12-01T18:10:11.123Z),
// as SQLite's strftime writes last_change; stored incidents' times have none.
var gpkgClock = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`)

// downloadLinksOf are the alternate links of links that point at the
// download path, as href → type.
func downloadLinksOf(links []link) map[string]string {
	out := map[string]string{}
	for _, l := range links {
		if l.Rel == "alternate" && strings.Contains(l.Href, "/collections/incidents/download") {
			out[l.Href] = l.Type
		}
	}
	return out
}

// TestDownloadsHaveTheirOwnPath (issue 13 §7): every matching incident is
// downloaded from /collections/incidents/download?f=…, which the items
// pages and the collection link to (exact hrefs and media types), /api
// documents and /map/config.json gives the page; items?f=geojsonseq|csv|kml|gpkg
// stay aliases with the same bytes, and items?f=geojson is the paged
// GeoJSON, as f=json.
func TestDownloadsHaveTheirOwnPath(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	base := srv.URL
	const filters = "event_types=Battles%2CExplosions%2FRemote+violence&sortby=-fatalities"

	// The items page links each format's download of its filters, without
	// the page's own limit, offset and f.
	var fc featureCollection
	srv.GetJSON(t, "/collections/incidents/items?limit=2&offset=1&"+filters, http.StatusOK, &fc)
	want := map[string]string{}
	for _, d := range downloadFormats {
		want[base+"/collections/incidents/download?"+filters+"&f="+d.f] = d.media
	}
	got := downloadLinksOf(fc.Links)
	if len(got) != len(want) {
		t.Errorf("items links to %d downloads; want %d: %v", len(got), len(want), got)
	}
	for href, media := range want {
		// url.Values encodes keys in order: event_types, f, sortby.
		u, _ := url.Parse(href)
		href = base + "/collections/incidents/download?" + u.Query().Encode()
		if got[href] != media {
			t.Errorf("items: no alternate link %s of type %s (links %v)", href, media, got)
		}
	}
	for _, l := range fc.Links {
		if strings.Contains(l.Href, "/items?") && strings.Contains(l.Href, "f=csv") {
			t.Errorf("items still links a download through items: %s", l.Href)
		}
	}

	// The collection links the whole collection in each format.
	var col struct{ Links []link }
	srv.GetJSON(t, "/collections/incidents", http.StatusOK, &col)
	got = downloadLinksOf(col.Links)
	for _, d := range downloadFormats {
		if href := base + "/collections/incidents/download?f=" + d.f; got[href] != d.media {
			t.Errorf("collection: no alternate link %s of type %s (links %v)", href, d.media, got)
		}
	}
	if len(got) != len(downloadFormats) {
		t.Errorf("collection links %d downloads: %v", len(got), got)
	}

	// The download's bytes are the old alias's; its media type is the link's.
	for _, d := range downloadFormats {
		status, ct, body := srv.Get(t, "/collections/incidents/download?f="+d.f+"&"+filters)
		if status != http.StatusOK || !strings.HasPrefix(ct, d.media) || len(body) == 0 {
			t.Fatalf("download f=%s: status %d, type %q, %d bytes", d.f, status, ct, len(body))
		}
		if d.f == "geojson" {
			if !bytes.Contains(body, []byte(`"type":"FeatureCollection"`)) {
				t.Errorf("download f=geojson is not a FeatureCollection: %.200s", body)
			}
			continue
		}
		status, ct2, alias := srv.Get(t, "/collections/incidents/items?f="+d.f+"&"+filters)
		if status != http.StatusOK || ct2 != ct {
			t.Errorf("alias items?f=%s: status %d, type %q; the download's is %q", d.f, status, ct2, ct)
		}
		if d.f == "gpkg" {
			// A GeoPackage records when its tables were written (gpkg_contents'
			// last_change, to the millisecond): the one part two requests differ in.
			alias, body = gpkgClock.ReplaceAll(alias, []byte("T")), gpkgClock.ReplaceAll(body, []byte("T"))
		}
		if !bytes.Equal(alias, body) {
			t.Errorf("alias items?f=%s: %d bytes differ from the download's %d", d.f, len(alias), len(body))
		}
	}

	// f=geojson on items is a page (limit applies, numberMatched, next), not a file.
	resp, err := http.Get(base + "/collections/incidents/items?f=geojson&limit=2")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cd := resp.Header.Get("Content-Disposition"); cd != "" || resp.StatusCode != http.StatusOK {
		t.Errorf("items?f=geojson: status %d, Content-Disposition %q; want the page", resp.StatusCode, cd)
	}
	var page featureCollection
	srv.GetJSON(t, "/collections/incidents/items?f=geojson&limit=2", http.StatusOK, &page)
	if page.NumberMatched != 13 || len(page.Features) != 2 {
		t.Errorf("items?f=geojson: %d matched, %d features; want the page of 2 of 13", page.NumberMatched, len(page.Features))
	}

	// Refusals name what to do.
	for q, wantText := range map[string]string{
		"":                            "download needs f",
		"f=json":                      "download needs f",
		"f=html":                      "download needs f",
		"f=csv&properties=event_date": "properties and skipGeometry",
		"f=csv&skipGeometry=true":     "properties and skipGeometry",
		"f=csv&crs=EPSG:3857":         "CRS84",
		"f=csv&bogus=1":               "bogus",
		"f=csv&datetime=not-a-date":   "datetime",
		"f=gpkg&bbox=1,2":             "bbox",
		"f=kml&filter=" + url.QueryEscape("nope ="): "filter",
	} {
		status, _, body := srv.Get(t, "/collections/incidents/download?"+q)
		if status != http.StatusBadRequest || !strings.Contains(string(body), wantText) {
			t.Errorf("download?%s: %d %s; want 400 naming %q", q, status, body, wantText)
		}
	}

	// /map/config.json points the page at the download path.
	var cfg struct {
		Formats []struct{ F, MediaType, Href string }
	}
	srv.GetJSON(t, "/map/config.json", http.StatusOK, &cfg)
	var fs []string
	for _, f := range cfg.Formats {
		fs = append(fs, f.F)
		if want := base + "/collections/incidents/download?f=" + f.F; f.Href != want {
			t.Errorf("config.json format %s: href %q; want %q", f.F, f.Href, want)
		}
	}
	if !slices.Equal(fs, []string{"geojson", "geojsonseq", "csv", "kml", "gpkg"}) {
		t.Errorf("config.json formats %v", fs)
	}

	// /api documents the path, f required with the five formats.
	var api struct {
		Paths map[string]map[string]struct {
			Parameters []map[string]any
			Responses  map[string]struct{ Content map[string]any }
		}
		Components struct{ Parameters map[string]map[string]any }
	}
	srv.GetJSON(t, "/api", http.StatusOK, &api)
	op, ok := api.Paths["/collections/incidents/download"]["get"]
	if !ok {
		t.Fatal("/api has no GET /collections/incidents/download")
	}
	var fParam map[string]any
	for _, p := range op.Parameters {
		ref, _ := p["$ref"].(string)
		name := strings.TrimPrefix(ref, "#/components/parameters/")
		if q := api.Components.Parameters[name]; q != nil && q["name"] == "f" {
			fParam = q
		}
	}
	if fParam == nil || fParam["required"] != true {
		t.Fatalf("/api download: parameter f %v; want required", fParam)
	}
	enum, _ := fParam["schema"].(map[string]any)["enum"].([]any)
	if len(enum) != 5 || enum[0] != "geojson" || enum[4] != "gpkg" {
		t.Errorf("/api download: f enum %v", enum)
	}
	for _, d := range downloadFormats {
		found := false
		for media := range op.Responses["200"].Content {
			found = found || strings.HasPrefix(media, d.media)
		}
		if !found {
			t.Errorf("/api download: no 200 response of type %s", d.media)
		}
	}
}
