package store_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"incidentmap/geo"
	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/seed"
	"incidentmap/store"
)

func TestAssignRegionOnUpsert(t *testing.T) {
	st := testsrv.Open(t)
	ctx := context.Background()
	inc := func(id string, lon, lat float64, admin1, region string) incident.Incident {
		return incident.Incident{EventID: id, EventDate: "2021-05-08", TimePrecision: 1, GeoPrecision: 1,
			EventType: "Riots", Lon: lon, Lat: lat, Admin1: admin1, Region: region}
	}
	incs := []incident.Incident{
		inc("A-1", 42.4412, 33.7856, "", ""),                // al-Asad Airbase
		inc("A-2", 43.9632, 36.2376, "", ""),                // Erbil airport
		inc("A-3", 44.25, 33.52, "Baghdad", ""),             // Camp Taji: the source's admin1 wins over the polygon
		inc("A-4", 40.14, 35.33, "", ""),                    // Deir ez-Zor, Syria: none, and no error
		inc("A-5", 45.98, 35.18, "Halabja", ""),             // Halabja as a source names it
		inc("A-6", 44.3958, 33.2986, "", "Greater Baghdad"), // a region given without admin1 stays
		inc("A-7", 43.13, 36.34, "", ""),                    // Mosul
		inc("A-8", 47.78, 30.51, "al-basrah", ""),           // a source's spelling, made canonical
	}
	if _, err := st.Upsert(ctx, incs); err != nil {
		t.Fatal(err)
	}
	want := []struct{ admin1, region string }{
		{"Anbar", "Anbar"}, {"Erbil", incident.KurdistanRegion}, {"Baghdad", "Baghdad"}, {"", ""},
		{"Halabja", incident.KurdistanRegion}, {"Baghdad", "Greater Baghdad"}, {"Nineveh", "Nineveh"}, {"Basra", "Basra"},
	}
	for i, w := range want {
		got, err := st.Incident(ctx, int64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if got.Admin1 != w.admin1 || got.Region != w.region {
			t.Errorf("%s: admin1 %q region %q; want %q %q", got.EventID, got.Admin1, got.Region, w.admin1, w.region)
		}
	}
	// Loading the same rows again finds them unchanged: assignment is stable.
	res, err := st.Upsert(ctx, append([]incident.Incident(nil), incs...))
	if err != nil || res.Unchanged != len(incs) {
		t.Fatalf("second load: %+v, %v; want %d unchanged", res, err, len(incs))
	}
}

func TestNoRegionsNoAssignment(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in := incident.Incident{EventID: "N-1", EventDate: "2021-05-08", TimePrecision: 1, GeoPrecision: 1,
		EventType: "Riots", Lon: 42.4412, Lat: 33.7856}
	if _, err := st.Upsert(ctx, []incident.Incident{in}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Incident(ctx, 1); got.Admin1 != "" {
		t.Fatalf("a store without boundaries assigned admin1 %q", got.Admin1)
	}
	if list, err := st.Regions(ctx, incident.RegionQuery{}); err != nil || len(list) != 0 {
		t.Fatalf("regions of a store without boundaries: %d, %v", len(list), err)
	}
}

func TestRegionsTableFollowsBoundaries(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	open := func(rs *geo.Regions) *store.SQLite {
		t.Helper()
		st, err := store.Open(ctx, path, store.WithRegions(rs))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open(testsrv.Regions(t))
	list, err := st.Regions(ctx, incident.RegionQuery{})
	if err != nil || len(list) != 18 {
		t.Fatalf("regions: %d, %v; want 18", len(list), err)
	}
	v1, _ := st.Version(ctx)
	st.Close()
	// Reopening with the same boundaries keeps the table as it is.
	st = open(testsrv.Regions(t))
	again, err := st.Regions(ctx, incident.RegionQuery{})
	if err != nil || len(again) != 18 || !bytes.Equal(again[3].Geometry, list[3].Geometry) {
		t.Fatalf("after reopening: %d regions, %v", len(again), err)
	}
	if v2, _ := st.Version(ctx); v2 != v1 {
		t.Fatalf("schema version changed on reopen: %d → %d", v1, v2)
	}
	st.Close()
	// Boundaries with two governorates only: the table follows.
	lines := bytes.Split(seed.RegionsGeoJSON, []byte("\n"))
	two := bytes.Join([][]byte{lines[0], bytes.TrimSuffix(lines[1], []byte(",")), []byte("]}")}, []byte("\n"))
	rs, err := geo.ParseRegions(two)
	if err != nil {
		t.Fatal(err)
	}
	st = open(rs)
	defer st.Close()
	if list, _ := st.Regions(ctx, incident.RegionQuery{}); len(list) != 1 || list[0].ISO != "IQ-AN" {
		t.Fatalf("after loading one region: %+v", list)
	}
}

func TestRegionCounts(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	ctx := context.Background()
	y2021, _ := incident.ParseInterval("2021-01-01/2021-12-31")
	counts := func(f incident.Filter) map[string][4]int64 {
		t.Helper()
		list, err := st.Regions(ctx, incident.RegionQuery{Incidents: f})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 18 {
			t.Fatalf("%d regions, want 18", len(list))
		}
		out := map[string][4]int64{}
		for _, r := range list {
			out[r.Name] = [4]int64{r.Incidents, r.Fatalities, r.RegionIncidents, r.RegionFatalities}
		}
		return out
	}
	all := counts(incident.Filter{})
	// Anbar 5 (fatalities 0+1+0+4+0), Baghdad 5 (0+10+3+0+0), Kurdistan Region 3 (all in Erbil, 0+1+0).
	for name, want := range map[string][4]int64{
		"Anbar": {5, 5, 5, 5}, "Baghdad": {5, 13, 5, 13}, "Erbil": {3, 1, 3, 1},
		"Duhok": {0, 0, 3, 1}, "Sulaymaniyah": {0, 0, 3, 1}, "Basra": {0, 0, 0, 0},
	} {
		if all[name] != want {
			t.Errorf("all: %s = %v; want %v", name, all[name], want)
		}
	}
	in2021 := counts(incident.Filter{Interval: y2021})
	for name, want := range map[string][4]int64{
		"Anbar": {4, 5, 4, 5}, "Baghdad": {1, 0, 1, 0}, "Erbil": {2, 1, 2, 1}, "Duhok": {0, 0, 2, 1},
	} {
		if in2021[name] != want {
			t.Errorf("2021: %s = %v; want %v", name, in2021[name], want)
		}
	}
	riots := counts(incident.Filter{EventTypes: []string{"Riots"}})
	if riots["Baghdad"] != [4]int64{1, 0, 1, 0} || riots["Anbar"] != [4]int64{} {
		t.Errorf("riots: Baghdad %v Anbar %v", riots["Baghdad"], riots["Anbar"])
	}
	r, err := st.Region(ctx, "iq-ar", incident.Filter{})
	if err != nil || r.Name != "Erbil" || r.Region != incident.KurdistanRegion || r.Incidents != 3 {
		t.Fatalf("Region(iq-ar) = %+v, %v", r, err)
	}
	if _, err := st.Region(ctx, "IQ-XX", incident.Filter{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Region(IQ-XX): %v; want ErrNotFound", err)
	}
	b, ok, err := st.RegionsBound(ctx)
	if err != nil || !ok || b.Min[0] < 38.7 || b.Min[0] > 38.9 || b.Max[1] < 37.3 || b.Max[1] > 37.5 {
		t.Fatalf("RegionsBound = %v %v %v; want Iraq's box (38.8..48.6, 29.1..37.4)", b, ok, err)
	}
}

func TestRegionFilterTakesISOCodes(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	ctx := context.Background()
	for _, tc := range []struct {
		regions []string
		want    int64
	}{
		{[]string{"IQ-AN"}, 5}, {[]string{"iq-bg"}, 5}, {[]string{"IQ-AR"}, 3}, {[]string{"IQ-KR"}, 3},
		{[]string{"IQ-AN", "Kurdistan Region"}, 8}, {[]string{"IQ-BA"}, 0},
	} {
		if n, err := st.Count(ctx, incident.Filter{Regions: tc.regions}); err != nil || n != tc.want {
			t.Errorf("regions %v: %d, %v; want %d", tc.regions, n, err, tc.want)
		}
	}
}
