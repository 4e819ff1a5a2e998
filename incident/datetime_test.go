package incident_test

import (
	"testing"

	"incidentmap/incident"
)

func TestParseInterval(t *testing.T) {
	good := []struct{ in, start, end string }{
		{"2021-05-08", "2021-05-08", "2021-05-08"},
		{"2021-01-01/2021-12-31", "2021-01-01", "2021-12-31"},
		{"../2021-01-01", "", "2021-01-01"},
		{"2021-01-01/..", "2021-01-01", ""},
		{"/2021-01-01", "", "2021-01-01"},
		{"2021-01-01T10:00:00Z/2021-01-02T00:00:00Z", "2021-01-01", "2021-01-02"},
		{"2021-01-01T23:30:00-02:00", "2021-01-02", "2021-01-02"},
		{"2021-01-01T/..", "2021-01-01", ""}, // as GDAL 3.6 sends it
	}
	for _, tc := range good {
		t.Run(tc.in, func(t *testing.T) {
			iv, err := incident.ParseInterval(tc.in)
			if err != nil {
				t.Fatalf("ParseInterval(%q): %v", tc.in, err)
			}
			if iv.StartDate() != tc.start || iv.EndDate() != tc.end {
				t.Fatalf("ParseInterval(%q) = %s..%s; want %s..%s", tc.in, iv.StartDate(), iv.EndDate(), tc.start, tc.end)
			}
		})
	}
	for _, in := range []string{"", "2021-13-01", "2021-02-30", "yesterday", "../..", "/", "2021-12-31/2021-01-01",
		"2021-01-01/2021-02-01/2021-03-01", "2021-01-01T25:00:00Z", "2021-1-1", "2021-01-01T10:00:00"} {
		t.Run("bad "+in, func(t *testing.T) {
			if iv, err := incident.ParseInterval(in); err == nil {
				t.Fatalf("ParseInterval(%q) = %+v; want an error", in, iv)
			}
		})
	}
}

func FuzzParseInterval(f *testing.F) {
	for _, s := range []string{"2021-05-08", "2021-01-01/2021-12-31", "../2021-01-01", "2021-01-01T00:00:00Z/..", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iv, err := incident.ParseInterval(s)
		if err == nil && !iv.Start.IsZero() && !iv.End.IsZero() && iv.Start.After(iv.End) {
			t.Fatalf("ParseInterval(%q) accepted a reversed interval", s)
		}
	})
}
