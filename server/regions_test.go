package server_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
)

type regionFeature struct {
	Type     string `json:"type"`
	ID       string `json:"id"`
	Geometry struct {
		Type        string          `json:"type"`
		Coordinates [][][][]float64 `json:"-"`
	} `json:"geometry"`
	Properties struct {
		ISO              string `json:"iso_3166_2"`
		Name             string `json:"name"`
		NameSource       string `json:"name_source"`
		Region           string `json:"region"`
		Incidents        int64  `json:"incidents"`
		Fatalities       int64  `json:"fatalities"`
		RegionIncidents  int64  `json:"region_incidents"`
		RegionFatalities int64  `json:"region_fatalities"`
	} `json:"properties"`
	Links []link `json:"links"`
}

type regionCollection struct {
	Type           string          `json:"type"`
	NumberMatched  int64           `json:"numberMatched"`
	NumberReturned int             `json:"numberReturned"`
	Links          []link          `json:"links"`
	Features       []regionFeature `json:"features"`
}

// regionCounts fetches the regions with query and returns incidents per
// region (the grouping: Kurdistan Region once) and per governorate.
func regionCounts(t *testing.T, srv *testsrv.Server, query string) (byRegion, byName map[string]int64) {
	t.Helper()
	var fc regionCollection
	srv.GetJSON(t, "/collections/regions/items?"+query, 200, &fc)
	if fc.Type != "FeatureCollection" || fc.NumberMatched != 18 || fc.NumberReturned != 18 || len(fc.Features) != 18 {
		t.Fatalf("regions?%s: %s, matched %d, returned %d, %d features; want 18", query, fc.Type, fc.NumberMatched, fc.NumberReturned, len(fc.Features))
	}
	byRegion, byName = map[string]int64{}, map[string]int64{}
	for _, f := range fc.Features {
		p := f.Properties
		if f.ID != p.ISO || f.Geometry.Type != "Polygon" {
			t.Fatalf("feature %q: iso %q, geometry %q", f.ID, p.ISO, f.Geometry.Type)
		}
		byName[p.Name] = p.Incidents
		if prev, ok := byRegion[p.Region]; ok && prev != p.RegionIncidents {
			t.Fatalf("region %s counted %d and %d", p.Region, prev, p.RegionIncidents)
		}
		byRegion[p.Region] = p.RegionIncidents
	}
	return byRegion, byName
}

func TestRegionCountsThroughAPI(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	cases := []struct {
		query string
		want  map[string]int64 // by region
	}{
		{"", map[string]int64{"Anbar": 5, "Baghdad": 5, "Kurdistan Region": 3, "Nineveh": 0, "Basra": 0}},
		{"datetime=2021-01-01/2021-12-31", map[string]int64{"Anbar": 4, "Baghdad": 1, "Kurdistan Region": 2}},
		{"datetime=../2020-12-31", map[string]int64{"Anbar": 1, "Baghdad": 4, "Kurdistan Region": 1}},
		{"event_type=Riots", map[string]int64{"Anbar": 0, "Baghdad": 1, "Kurdistan Region": 0}},
		{"sub_event_type=Air/drone strike&datetime=2021-01-01/2021-12-31", map[string]int64{"Anbar": 2, "Baghdad": 0, "Kurdistan Region": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			byRegion, byName := regionCounts(t, srv, tc.query)
			for r, want := range tc.want {
				if byRegion[r] != want {
					t.Errorf("%s: %d incidents; want %d (all: %v)", r, byRegion[r], want, byRegion)
				}
			}
			if len(byRegion) != 16 {
				t.Errorf("%d regions; want 16 (18 governorates, three of them the Kurdistan Region)", len(byRegion))
			}
			// Every seed incident in Kurdistan is in Erbil.
			if byName["Erbil"] != tc.want["Kurdistan Region"] || byName["Duhok"] != 0 {
				t.Errorf("Erbil %d, Duhok %d", byName["Erbil"], byName["Duhok"])
			}
		})
	}
}

func TestRegionsFatalitiesAndItem(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var f regionFeature
	srv.GetJSON(t, "/collections/regions/items/iq-bg", 200, &f)
	p := f.Properties
	if f.ID != "IQ-BG" || p.Name != "Baghdad" || p.NameSource != "Baghdad" || p.Incidents != 5 || p.Fatalities != 13 {
		t.Fatalf("IQ-BG = %+v", f)
	}
	srv.GetJSON(t, "/collections/regions/items/IQ-SU?datetime=2021-01-01/2021-12-31", 200, &f)
	p = f.Properties
	if p.Name != "Sulaymaniyah" || p.Region != "Kurdistan Region" || p.Incidents != 0 || p.RegionIncidents != 2 || p.RegionFatalities != 1 {
		t.Fatalf("IQ-SU in 2021 = %+v", p)
	}
	var related *link
	for i := range f.Links {
		if f.Links[i].Rel == "related" {
			related = &f.Links[i]
		}
	}
	if related == nil || !strings.HasSuffix(related.Href, "/collections/incidents/items?regions=IQ-SU") {
		t.Fatalf("IQ-SU links %+v; want a related link to its incidents", f.Links)
	}
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/collections/regions/items/IQ-XX", 404, "NotFound"},
		{"/collections/regions/items?colour=red", 400, "UnknownParameter"},
		{"/collections/regions/items?datetime=2021-13-01", 400, "InvalidParameterValue"},
		{"/collections/regions/items/IQ-AN?limit=3", 400, "InvalidParameterValue"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			status, _, body := srv.Get(t, tc.path)
			var e struct{ Code, Description string }
			if status != tc.status || json.Unmarshal(body, &e) != nil || e.Description == "" {
				t.Fatalf("status %d body %s; want %d with a JSON error", status, body, tc.status)
			}
		})
	}
}

func TestRegionsPagingAndBBox(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var fc regionCollection
	srv.GetJSON(t, "/collections/regions/items?limit=5&offset=15", 200, &fc)
	var ids []string
	for _, f := range fc.Features {
		ids = append(ids, f.ID)
	}
	if fc.NumberMatched != 18 || fc.NumberReturned != 3 || strings.Join(ids, " ") != "IQ-SU IQ-TS IQ-WA" {
		t.Fatalf("page 15+5: matched %d returned %d ids %v", fc.NumberMatched, fc.NumberReturned, ids)
	}
	var prev *link
	for i := range fc.Links {
		if fc.Links[i].Rel == "prev" {
			prev = &fc.Links[i]
		}
		if fc.Links[i].Rel == "next" {
			t.Fatalf("last page has a next link %+v", fc.Links[i])
		}
	}
	if prev == nil || !strings.Contains(prev.Href, "offset=10") {
		t.Fatalf("prev link %+v", prev)
	}
	// A box around Erbil city meets the bounding boxes of Erbil, Nineveh,
	// Duhok, Kirkuk and Salah ad-Din... and no southern governorate.
	srv.GetJSON(t, "/collections/regions/items?bbox="+url.QueryEscape("43.9,36.1,44.1,36.3"), 200, &fc)
	names := map[string]bool{}
	for _, f := range fc.Features {
		names[f.Properties.Name] = true
	}
	if !names["Erbil"] || names["Basra"] || names["Anbar"] || int(fc.NumberMatched) != len(fc.Features) || len(fc.Features) >= 18 {
		t.Fatalf("bbox around Erbil: %v (matched %d)", names, fc.NumberMatched)
	}
}

func TestIncidentsRegionsFilterTakesISOCodes(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	for q, want := range map[string]int64{
		"IQ-AN": 5, "iq-bg": 5, "IQ-AR": 3, "IQ-KR": 3, "Kurdistan Region": 3, "IQ-AN,IQ-AR": 8, "IQ-NI": 0,
	} {
		var fc featureCollection
		srv.GetJSON(t, "/collections/incidents/items?regions="+url.QueryEscape(q), 200, &fc)
		if fc.NumberMatched != want {
			t.Errorf("regions=%s: %d matched; want %d", q, fc.NumberMatched, want)
		}
	}
}

func TestRegionsCollectionListed(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var col struct {
		ID     string
		Extent struct{ Spatial struct{ BBox [][4]float64 } }
	}
	srv.GetJSON(t, "/collections/regions", 200, &col)
	b := col.Extent.Spatial.BBox
	if col.ID != "regions" || len(b) != 1 || fmt.Sprintf("%.1f %.1f %.1f %.1f", b[0][0], b[0][1], b[0][2], b[0][3]) != "38.8 29.1 48.6 37.4" {
		t.Fatalf("/collections/regions = %+v; want Iraq's extent", col)
	}
	status, ctype, body := srv.Get(t, "/collections/regions/items?f=html")
	if status != 200 || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(string(body), "Sulaymaniyah") {
		t.Fatalf("regions as HTML: %d %s", status, ctype)
	}
}

func TestGDALReadsRegions(t *testing.T) {
	testsrv.ForEngines(t, testsrv.Seed, nil, func(t *testing.T, srv *testsrv.Server) {
		out := gdal(t, "ogrinfo", "-ro", "-al", "-so", "OAPIF:"+srv.URL+"/collections/regions")
		for _, want := range []string{"Feature Count: 18", "Geometry: Polygon", "iso_3166_2: String", "incidents: Integer",
			"region_fatalities: Integer"} {
			if !strings.Contains(out, want) {
				t.Errorf("ogrinfo -so lacks %q:\n%s", want, out)
			}
		}
		out = gdal(t, "ogrinfo", "-ro", "-al", "-q", "-where", "name = 'Anbar'", "OAPIF:"+srv.URL+"/collections/regions")
		if !strings.Contains(out, "incidents (Integer) = 5") || !strings.Contains(out, "POLYGON ((") {
			t.Errorf("ogrinfo did not read Anbar with 5 incidents:\n%s", out)
		}
	})
}

// TestRegionsArabicNames: every governorate carries Natural Earth's Arabic
// name, for the page's labels in Arabic.
func TestRegionsArabicNames(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	var fc struct {
		Features []struct {
			ID         string         `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	srv.GetJSON(t, "/collections/regions/items?limit=100", 200, &fc)
	if len(fc.Features) != 18 {
		t.Fatalf("%d regions", len(fc.Features))
	}
	for _, f := range fc.Features {
		ar, _ := f.Properties["name_ar"].(string)
		if ar == "" {
			t.Errorf("%s has no name_ar", f.ID)
		}
		if want := map[string]string{"IQ-BG": "محافظة بغداد", "IQ-NI": "محافظة نينوى", "IQ-TS": "كركوك", "IQ-AN": "محافظة الأنبار"}[f.ID]; want != "" && ar != want {
			t.Errorf("%s name_ar %q, want %q", f.ID, ar, want)
		}
	}
}

// TestRegionsFullFilterSet: the choropleth's counts follow every items
// filter, so each governorate's count is the items count of its admin1.
func TestRegionsFullFilterSet(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	for _, q := range []string{"q=drone", "min_fatalities=1", "max_fatalities=0", "actors=" + url.QueryEscape("Unidentified armed group"),
		"filter=" + url.QueryEscape("fatalities >= 2"), "event_types=" + url.QueryEscape("Explosions/Remote violence,Riots"),
		"regions=Anbar,IQ-BG", "datetime=2021-01-01/2021-12-31&q=" + url.QueryEscape("بغداد"), "event_type=Riots", "location=Erbil"} {
		var fc struct {
			Features []struct {
				Properties struct {
					Name      string `json:"name"`
					Incidents int64  `json:"incidents"`
				} `json:"properties"`
			} `json:"features"`
		}
		srv.GetJSON(t, "/collections/regions/items?limit=100&"+q, 200, &fc)
		var sum int64
		for _, f := range fc.Features {
			p := f.Properties
			sum += p.Incidents
			if p.Incidents > 0 || p.Name == "Baghdad" || p.Name == "Anbar" {
				if want := matched(t, srv, q+"&admin1="+url.QueryEscape(p.Name)); p.Incidents != want {
					t.Errorf("%s: %s counts %d, items %d", q, p.Name, p.Incidents, want)
				}
			}
		}
		if want := matched(t, srv, q); sum != want {
			t.Errorf("%s: the governorates count %d, items %d", q, sum, want)
		}
		// one region's page takes the same filters
		var one struct {
			Properties struct {
				Incidents int64 `json:"incidents"`
			} `json:"properties"`
		}
		srv.GetJSON(t, "/collections/regions/items/IQ-BG?"+q, 200, &one)
		if want := matched(t, srv, q+"&admin1=Baghdad"); one.Properties.Incidents != want {
			t.Errorf("%s: IQ-BG counts %d, items %d", q, one.Properties.Incidents, want)
		}
	}
}
