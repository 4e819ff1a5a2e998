package server_test

import (
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
