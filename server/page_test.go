package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
	"incidentmap/server"
)

// pageConfig is /map/config.json as the page reads it.
type pageConfig struct {
	Tiles       string `json:"tiles"`
	Attribution string `json:"attribution"`
	TilesHelp   string `json:"tilesHelp"`
	Formats     []struct {
		F, Label, MediaType, Ext string
	} `json:"formats"`
	Limits struct {
		MaxItems, DefaultItems, TileModeAbove, MaxGroups int
	} `json:"limits"`
	Basemap struct {
		Layers []struct {
			ID, URL, Title string
		} `json:"layers"`
		Attribution string `json:"attribution"`
	} `json:"basemap"`
	Languages []string `json:"languages"`
	Aggregate string   `json:"aggregate"`
}

func TestPageConfig(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.MaxLimit, cfg.Tiles, cfg.TilesAttribution = 5000, "https://tiles.example.org/{z}/{x}/{y}.png", "© Example"
	srv := testsrv.Start(t, testsrv.OpenSeeded(t), &cfg)
	var pc pageConfig
	srv.GetJSON(t, "/map/config.json", 200, &pc)
	if pc.Tiles != cfg.Tiles || pc.Attribution != "© Example" || !strings.Contains(pc.TilesHelp, "--tiles") {
		t.Errorf("tiles %q, attribution %q, help %q", pc.Tiles, pc.Attribution, pc.TilesHelp)
	}
	var fs []string
	for _, f := range pc.Formats {
		fs = append(fs, f.F+"="+f.Label+"="+f.MediaType+"="+f.Ext)
	}
	want := "geojson=GeoJSON=application/geo+json=.geojson geojsonseq=GeoJSON Text Sequences=application/geo+json-seq=.geojsons " +
		"csv=CSV=text/csv; charset=utf-8=.csv kml=KML=application/vnd.google-earth.kml+xml=.kml gpkg=GeoPackage=application/geopackage+sqlite3=.gpkg"
	if strings.Join(fs, " ") != want {
		t.Errorf("formats\n%s\nwant\n%s", strings.Join(fs, " "), want)
	}
	if l := pc.Limits; l.MaxItems != 5000 || l.DefaultItems != 100 || l.TileModeAbove != server.PageTileModeAbove || l.MaxGroups < 1000 {
		t.Errorf("limits %+v", l)
	}
	var ids []string
	for _, l := range pc.Basemap.Layers {
		ids = append(ids, l.ID)
		if l.URL != "/map/basemap/"+l.ID+".geojson" || l.Title == "" {
			t.Errorf("layer %+v", l)
		}
	}
	if strings.Join(ids, ",") != "land,lakes,rivers,places" || pc.Basemap.Attribution != "Made with Natural Earth" {
		t.Errorf("basemap layers %v, attribution %q", ids, pc.Basemap.Attribution)
	}
	if strings.Join(pc.Languages, ",") != "en,ar" || pc.Aggregate != "/collections/incidents/aggregate" {
		t.Errorf("languages %v, aggregate %q", pc.Languages, pc.Aggregate)
	}
}

// TestPageIgnoresQuery: a link to the page with campaign tags opens the
// page, not a JSON error.
func TestPageIgnoresQuery(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	for _, path := range []string{"/map/?utm_source=x", "/map/?utm_source=x&fbclid=1&utm_source=y", "/map/index.html?ref=a"} {
		status, ctype, body := srv.Get(t, path)
		if status != 200 || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(string(body), "<html") {
			t.Errorf("%s: %d %s", path, status, ctype)
		}
	}
}

// TestBasemapFiles: every layer the configuration lists is served as
// GeoJSON with caching headers, and carries what the page labels.
func TestBasemapFiles(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var pc pageConfig
	srv.GetJSON(t, "/map/config.json", 200, &pc)
	props := map[string][]map[string]any{}
	for _, l := range pc.Basemap.Layers {
		resp, err := http.Get(srv.URL + l.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/geo+json" ||
			resp.Header.Get("Cache-Control") != "public, max-age=86400" || etag == "" {
			t.Fatalf("%s: %d %s, Cache-Control %q, ETag %q", l.URL, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), etag)
		}
		if len(body) > 60<<10 {
			t.Errorf("%s is %d bytes; the embedded layers are meant to stay small", l.URL, len(body))
		}
		var fc struct {
			Type     string `json:"type"`
			Features []struct {
				Properties map[string]any `json:"properties"`
				Geometry   struct {
					Type string `json:"type"`
				} `json:"geometry"`
			} `json:"features"`
		}
		if err := json.Unmarshal(body, &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) == 0 {
			t.Fatalf("%s: %v, %s with %d features", l.URL, err, fc.Type, len(fc.Features))
		}
		for _, f := range fc.Features {
			props[l.ID] = append(props[l.ID], f.Properties)
		}
		req, _ := http.NewRequest("GET", srv.URL+l.URL, nil)
		req.Header.Set("If-None-Match", etag)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 304 {
			t.Errorf("%s with If-None-Match: %d, want 304", l.URL, resp.StatusCode)
		}
	}
	find := func(layer, name string) map[string]any {
		for _, p := range props[layer] {
			if p["name"] == name {
				return p
			}
		}
		t.Fatalf("%s has no %s", layer, name)
		return nil
	}
	if p := find("places", "Baghdad"); p["name_ar"] != "بغداد" || p["min_zoom"] != 3.7 || p["pop_max"] != 5054000.0 {
		t.Errorf("Baghdad: %v", p)
	}
	if p := find("places", "Erbil"); p["name_ar"] != "أربيل" {
		t.Errorf("Erbil: %v", p)
	}
	if p := find("rivers", "Tigris"); p["name_ar"] != "دجلة" {
		t.Errorf("Tigris: %v", p)
	}
	if p := find("rivers", "Euphrates"); p["name_ar"] != "الفرات" {
		t.Errorf("Euphrates: %v", p)
	}
	if p := find("land", "Iraq"); p["name_ar"] != "العراق" || p["iso_a2"] != "IQ" {
		t.Errorf("Iraq: %v", p)
	}
	for _, p := range props["places"] {
		if _, ok := p["min_zoom"].(float64); !ok {
			t.Errorf("place %v has no min_zoom", p["name"])
		}
	}
	if status, _, _ := srv.Get(t, "/map/basemap/roads.geojson"); status != 404 {
		t.Errorf("an unknown layer: %d, want 404", status)
	}
}
