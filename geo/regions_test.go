package geo_test

import (
	"math/rand"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"incidentmap/geo"
	"incidentmap/incident"
	"incidentmap/seed"
)

func loadRegions(t testing.TB) *geo.Regions {
	t.Helper()
	rs, err := geo.ParseRegions(seed.RegionsGeoJSON)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestLocateKnownPlaces pins places to the governorate Natural Earth's
// polygons put them in, the known faults of the source included.
func TestLocateKnownPlaces(t *testing.T) {
	rs := loadRegions(t)
	cases := []struct {
		place    string
		lon, lat float64
		admin1   string // "" outside Iraq
		region   string
	}{
		{"al-Asad Airbase", 42.4412, 33.7856, "Anbar", "Anbar"},
		{"al-Qaim", 41.08, 34.37, "Anbar", "Anbar"},
		{"Ramadi", 43.30, 33.42, "Anbar", "Anbar"},
		{"Fallujah", 43.78, 33.35, "Anbar", "Anbar"},
		{"Erbil airport", 43.9632, 36.2376, "Erbil", incident.KurdistanRegion},
		{"Baghdad airport", 44.2346, 33.2625, "Baghdad", "Baghdad"},
		{"US Embassy, Green Zone", 44.3958, 33.2986, "Baghdad", "Baghdad"},
		{"Sulaymaniyah city", 45.4375, 35.5650, "Sulaymaniyah", incident.KurdistanRegion},
		{"Duhok city", 42.99, 36.87, "Duhok", incident.KurdistanRegion},
		{"Mosul", 43.13, 36.34, "Nineveh", "Nineveh"},
		{"Kirkuk", 44.39, 35.47, "Kirkuk", "Kirkuk"},
		{"Tikrit", 43.68, 34.60, "Salah ad-Din", "Salah ad-Din"},
		{"Baqubah", 44.65, 33.75, "Diyala", "Diyala"},
		{"Hillah", 44.42, 32.48, "Babylon", "Babylon"},
		{"Karbala", 44.02, 32.61, "Karbala", "Karbala"},
		{"Najaf", 44.33, 32.00, "Najaf", "Najaf"},
		{"Diwaniyah", 44.93, 31.99, "Al-Qadisiyah", "Al-Qadisiyah"},
		{"Kut", 45.82, 32.51, "Wasit", "Wasit"},
		{"Amarah", 47.15, 31.84, "Maysan", "Maysan"},
		{"Nasiriyah", 46.26, 31.04, "Dhi Qar", "Dhi Qar"},
		{"Samawah", 45.29, 31.31, "Muthanna", "Muthanna"},
		{"Basra", 47.78, 30.51, "Basra", "Basra"},
		// Known faults of Natural Earth (README): Baghdad is little more than
		// the city, and Halabja is part of Sulaymaniyah.
		{"Camp Taji (fault: Baghdad governorate)", 44.25, 33.52, "Salah ad-Din", "Salah ad-Din"},
		{"Abu Ghraib (fault: Baghdad governorate)", 44.07, 33.29, "Anbar", "Anbar"},
		{"Halabja (fault: own governorate)", 45.98, 35.18, "Sulaymaniyah", incident.KurdistanRegion},
		{"Deir ez-Zor, Syria", 40.14, 35.33, "", ""},
		{"Abu Kamal, Syria (across from al-Qaim)", 40.92, 34.45, "", ""},
		{"Kuwait City", 47.98, 29.37, "", ""},
		{"Tehran", 51.39, 35.69, "", ""},
		{"Null Island", 0, 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.place, func(t *testing.T) {
			r := rs.Locate(orb.Point{tc.lon, tc.lat})
			var admin1, region string
			if r != nil {
				admin1, region = r.Name, r.Region
			}
			if admin1 != tc.admin1 || region != tc.region {
				t.Fatalf("Locate(%v, %v) = %q / %q; want %q / %q", tc.lon, tc.lat, admin1, region, tc.admin1, tc.region)
			}
		})
	}
}

func TestRegionsFile(t *testing.T) {
	rs := loadRegions(t)
	all := rs.All()
	if len(all) != 18 {
		t.Fatalf("%d regions, want Iraq's 18 governorates (Halabja is inside Sulaymaniyah)", len(all))
	}
	if n := len(seed.RegionsGeoJSON); n > 250_000 {
		t.Errorf("regions file is %d bytes; keep it under 250 KB", n)
	}
	kurdistan := 0
	shapes := make([]orb.MultiPolygon, len(all))
	for i, r := range all {
		if name, ok := incident.NameOfISO(r.ISO); !ok || name != r.Name {
			t.Errorf("%s is named %q; the ISO table says %q", r.ISO, r.Name, name)
		}
		if r.Region == incident.KurdistanRegion {
			kurdistan++
		}
		shapes[i] = r.Shape
	}
	if kurdistan != 3 {
		t.Errorf("%d governorates in the Kurdistan Region, want Erbil, Duhok, Sulaymaniyah", kurdistan)
	}
	// Closed rings, RFC 7946 winding, no crossing segments, and neighbours
	// that share every border vertex for vertex: no gaps, no overlaps.
	if err := geo.CheckPartition(shapes, 1); err != nil {
		t.Fatal(err)
	}
	// Natural Earth's Baghdad is about 660 km²; 1° × 1° near 33°N is about
	// 9,300 km², so its planar area is about 0.07 square degrees.
	for _, r := range all {
		if r.Name == "Baghdad" {
			if a := planar.Area(r.Shape); a < 0.06 || a > 0.08 {
				t.Errorf("Baghdad's area is %.4f square degrees; want about 0.07", a)
			}
		}
	}
}

func TestCheckPartitionFindsFaults(t *testing.T) {
	sq := func(x0, y0, x1, y1 float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}
	}
	one := func(pts ...orb.Point) orb.MultiPolygon { return orb.MultiPolygon{{orb.Ring(pts)}} }
	cases := []struct {
		name  string
		polys []orb.MultiPolygon
		ok    bool
	}{
		{"two squares sharing a side", []orb.MultiPolygon{sq(0, 0, 1, 1), sq(1, 0, 2, 1)}, true},
		{"a gap between them", []orb.MultiPolygon{sq(0, 0, 1, 1), sq(1.1, 0, 2, 1)}, false},
		{"overlapping", []orb.MultiPolygon{sq(0, 0, 1, 1), sq(0.5, 0, 2, 1)}, false},
		{"one inside the other", []orb.MultiPolygon{sq(0, 0, 3, 3), sq(1, 1, 2, 2)}, false},
		{"clockwise exterior", []orb.MultiPolygon{one(orb.Point{0, 0}, orb.Point{0, 1}, orb.Point{1, 1}, orb.Point{1, 0}, orb.Point{0, 0})}, false},
		{"bow tie", []orb.MultiPolygon{one(orb.Point{0, 0}, orb.Point{1, 1}, orb.Point{1, 0}, orb.Point{0, 1}, orb.Point{0, 0})}, false},
		{"open ring", []orb.MultiPolygon{one(orb.Point{0, 0}, orb.Point{1, 0}, orb.Point{1, 1}, orb.Point{0, 1})}, false},
		{"T-junction: a border vertex on one side only", []orb.MultiPolygon{sq(0, 0, 1, 2),
			one(orb.Point{1, 0}, orb.Point{2, 0}, orb.Point{2, 2}, orb.Point{1, 2}, orb.Point{1, 1}, orb.Point{1, 0})}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := geo.CheckPartition(tc.polys, 1)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckPartition = %v; want ok=%v", err, tc.ok)
			}
		})
	}
}

// BenchmarkLocate assigns a governorate to 1,000,000 points spread uniformly
// over Iraq's bounding box (seeded, so every run sees the same points).
func BenchmarkLocate(b *testing.B) {
	rs := loadRegions(b)
	rng := rand.New(rand.NewSource(1))
	pts := make([]orb.Point, 1_000_000)
	for i := range pts {
		pts[i] = orb.Point{38.7 + rng.Float64()*10, 29 + rng.Float64()*8.5}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		found := 0
		for _, p := range pts {
			if rs.Locate(p) != nil {
				found++
			}
		}
		if found < 400_000 || found > 700_000 {
			b.Fatalf("%d of 1,000,000 points in Iraq; want about half", found)
		}
	}
}

// BenchmarkLocateNaive is the baseline: every polygon tested, bbox first.
func BenchmarkLocateNaive(b *testing.B) {
	rs := loadRegions(b)
	rng := rand.New(rand.NewSource(1))
	pts := make([]orb.Point, 100_000)
	for i := range pts {
		pts[i] = orb.Point{38.7 + rng.Float64()*10, 29 + rng.Float64()*8.5}
	}
	all := rs.All()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for _, p := range pts {
			for i := range all {
				if all[i].Bound.Contains(p) && planar.MultiPolygonContains(all[i].Shape, p) {
					break
				}
			}
		}
	}
}
