package server_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
)

// download GETs an export and checks the download headers.
func download(t *testing.T, s *testsrv.Server, query, wantType, wantExt string) []byte {
	t.Helper()
	resp, err := http.Get(s.URL + "/collections/incidents/download?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d: %s", query, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
		t.Fatalf("%s: Content-Type %q, want %q", query, ct, wantType)
	}
	cd := resp.Header.Get("Content-Disposition")
	if !regexp.MustCompile(`^attachment; filename="incidents-\d{8}-\d{6}` + regexp.QuoteMeta(wantExt) + `"$`).MatchString(cd) {
		t.Fatalf("%s: Content-Disposition %q", query, cd)
	}
	return body
}

// TestExportsOpenInGDALWithTypes: every download format of either engine
// opens in GDAL with 13 points and typed attributes, and GDAL reads the same
// features from both engines' files (but the time of writing: updated_at).
func TestExportsOpenInGDALWithTypes(t *testing.T) {
	read := map[string]map[string]string{} // format → engine → ogrinfo -al
	testsrv.ForEngines(t, testsrv.Seed, nil, func(t *testing.T, s *testsrv.Server) {
		exportsOpenInGDAL(t, s, func(f, out string) {
			if read[f] == nil {
				read[f] = map[string]string{}
			}
			read[f][s.Engine] = ogrUpdatedAt.ReplaceAllString(out, "${1}…")
		})
	})
	for f, by := range read {
		if len(by) == 2 && by["sqlite"] != by["postgis"] {
			t.Errorf("%s: GDAL reads different features from the two engines' files:\nSQLite:\n%s\nPostGIS:\n%s", f, by["sqlite"], by["postgis"])
		}
	}
}

// ogrUpdatedAt matches the value of updated_at in ogrinfo's feature lines:
// each engine wrote its own rows of the seed at its own time.
var ogrUpdatedAt = regexp.MustCompile(`(?m)^(\s*updated_at \(\w+\) = ).*$`)

// exportsOpenInGDAL checks each download format of s in GDAL and gives got
// each format's ogrinfo -al output (the path of the file removed).
func exportsOpenInGDAL(t *testing.T, s *testsrv.Server, got func(f, out string)) {
	dir := t.TempDir()
	for _, c := range []struct {
		f, mediaType, ext string
		oo                []string
		types             map[string]string // attribute → GDAL type
	}{
		{"geojson", "application/geo+json", ".geojson", nil,
			map[string]string{"event_id": "String", "event_date": "Date", "fatalities": "Integer", "geo_precision": "Integer"}},
		{"geojsonseq", "application/geo+json-seq", ".geojsons", nil,
			map[string]string{"event_id": "String", "event_date": "Date", "fatalities": "Integer"}},
		{"csv", "text/csv", ".csv", []string{"-oo", "AUTODETECT_TYPE=YES", "-oo", "X_POSSIBLE_NAMES=longitude", "-oo", "Y_POSSIBLE_NAMES=latitude"},
			map[string]string{"event_id_cnty": "String", "event_date": "Date", "fatalities": "Integer", "latitude": "Real"}},
		{"kml", "application/vnd.google-earth.kml+xml", ".kml", nil,
			map[string]string{"event_id": "String", "fatalities": "Integer", "time_precision": "Integer"}},
		{"gpkg", "application/geopackage+sqlite3", ".gpkg", nil,
			map[string]string{"event_id": "String", "event_date": "Date", "fatalities": "Integer", "updated_at": "DateTime"}},
	} {
		t.Run(c.f, func(t *testing.T) {
			body := download(t, s, "f="+c.f, c.mediaType, c.ext)
			path := filepath.Join(dir, "seed"+c.ext)
			if err := os.WriteFile(path, body, 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"-so", "-al"}, c.oo...)
			out := gdal(t, "ogrinfo", append(args, path)...)
			if !strings.Contains(out, "Feature Count: 13\n") {
				t.Fatalf("ogrinfo does not report 13 features:\n%s", out)
			}
			// KML layers declare no geometry type; their features show it.
			full := gdal(t, "ogrinfo", append([]string{"-al"}, append(c.oo, path)...)...)
			got(c.f, strings.ReplaceAll(full, dir, "DIR"))
			if n := strings.Count(full, "POINT ("); n != 13 {
				t.Fatalf("ogrinfo shows %d points, want 13:\n%s", n, full)
			}
			for attr, typ := range c.types {
				if !regexp.MustCompile(`(?m)^` + attr + `: ` + typ + ` `).MatchString(out) {
					t.Errorf("attribute %s is not %s:\n%s", attr, typ, out)
				}
			}
		})
	}
}

func TestExportHonoursFiltersAndKMLIsWellFormed(t *testing.T) {
	s := testsrv.StartSeeded(t)
	rows, err := csv.NewReader(bytes.NewReader(download(t, s, "f=csv&region=Anbar", "text/csv", ".csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+5 || rows[0][0] != "event_id_cnty" {
		t.Fatalf("Anbar CSV: %d rows (header %v), want header and 5", len(rows), rows[0])
	}
	// Without limit an export holds every match; with one, it is cut.
	seq := download(t, s, "f=geojsonseq&limit=2&offset=1", "application/geo+json-seq", ".geojsons")
	if n := bytes.Count(seq, []byte{0x1E}); n != 2 || !bytes.Contains(seq, []byte(`"id":2,`)) {
		t.Fatalf("limit=2&offset=1: %d records: %s", n, seq)
	}
	kml := download(t, s, "f=kml", "application/vnd.google-earth.kml+xml", ".kml")
	dec := xml.NewDecoder(bytes.NewReader(kml))
	placemarks := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("KML is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Placemark" {
			placemarks++
		}
	}
	if placemarks != 13 {
		t.Fatalf("%d placemarks, want 13", placemarks)
	}
	status, _, body := s.Get(t, "/collections/incidents/items?f=shp")
	if status != http.StatusNotAcceptable {
		t.Fatalf("f=shp: %d %s", status, body)
	}
	status, _, body = s.Get(t, "/collections/incidents/items?f=csv&bbox=1,2")
	if status != http.StatusBadRequest {
		t.Fatalf("f=csv with a bad bbox: %d %s", status, body)
	}
}

// The items page links every export format of the whole selection (not just
// the page), and the OpenAPI document lists the import endpoint.
func TestItemsLinkExportsAndAPIListsImport(t *testing.T) {
	s := testsrv.StartSeeded(t)
	resp, err := http.Get(s.URL + "/collections/incidents/items?limit=2&offset=2&admin1=Baghdad")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		NumberMatched int
		Links         []struct{ Href, Rel, Type string }
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var csvHref string
	types := map[string]bool{}
	for _, l := range page.Links {
		if l.Rel == "alternate" {
			types[l.Type] = true
			if l.Type == "text/csv" {
				csvHref = l.Href
			}
		}
	}
	for _, want := range []string{"application/geo+json", "application/geo+json-seq", "text/csv",
		"application/vnd.google-earth.kml+xml", "application/geopackage+sqlite3"} {
		if !types[want] {
			t.Errorf("no alternate link of type %s in %v", want, page.Links)
		}
	}
	if strings.Contains(csvHref, "limit=") || strings.Contains(csvHref, "offset=") || !strings.Contains(csvHref, "admin1=Baghdad") {
		t.Fatalf("CSV link %q: want the filter without the page", csvHref)
	}
	got, err := http.Get(csvHref)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(got.Body).ReadAll()
	got.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	// A header and every Baghdad incident, not the page's two.
	var n int
	for _, r := range recs[1:] {
		for _, v := range r {
			if v == "Baghdad" {
				n++
				break
			}
		}
	}
	if n != len(recs)-1 || n != page.NumberMatched || n < 3 {
		t.Fatalf("CSV link gave %d rows, %d of them in Baghdad; want the %d Baghdad incidents", len(recs)-1, n, page.NumberMatched)
	}

	resp, err = http.Get(s.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	var api struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&api)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if op := api.Paths["/collections/incidents/import"]["post"].OperationID; op != "importFile_incidents" {
		t.Fatalf("OpenAPI import operation %q, want importFile_incidents", op)
	}
}
