package synth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"incidentmap/importer"
	"incidentmap/synth"
)

func hashOf(t *testing.T, seed int64, n int) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := synth.WriteSeq(&buf, seed, n); err != nil {
		t.Fatalf("WriteSeq: %v", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:]), buf.Bytes()
}

func TestDeterministic(t *testing.T) {
	a, data := hashOf(t, 42, 2000)
	b, _ := hashOf(t, 42, 2000)
	if a != b {
		t.Fatalf("same seed, different output: %s vs %s", a, b)
	}
	c, _ := hashOf(t, 43, 2000)
	if a == c {
		t.Fatalf("seeds 42 and 43 gave identical output %s", a)
	}
	// Every record is RS, one feature, LF (RFC 8142).
	recs := bytes.Split(data, []byte{0x1E})
	if len(recs) != 2001 || len(recs[0]) != 0 {
		t.Fatalf("got %d RS-separated records, want 2000 after an empty prefix", len(recs)-1)
	}
	for i, r := range recs[1:] {
		if !bytes.HasSuffix(r, []byte("\n")) {
			t.Fatalf("record %d does not end in LF", i+1)
		}
	}
}

func TestIncidentsAreValidAndFilled(t *testing.T) {
	_, data := hashOf(t, 7, 2000)
	recs := bytes.Split(data, []byte{0x1E})[1:]
	types := map[string]int{}
	admin1 := map[string]int{}
	for i, r := range recs {
		row, err := importer.FeatureRow(bytes.TrimSpace(r))
		if err != nil {
			t.Fatalf("record %d: %v", i+1, err)
		}
		inc := row.Incident
		if want := synth.EventID(7, i+1); inc.EventID != want {
			t.Fatalf("record %d: event_id %q, want %q", i+1, inc.EventID, want)
		}
		for name, v := range map[string]string{"sub_event_type": inc.SubEventType, "actor1": inc.Actor1,
			"actor2": inc.Actor2, "admin1": inc.Admin1, "admin2": inc.Admin2, "location": inc.Location,
			"region": inc.Region, "source_url": inc.SourceURL, "notes": inc.Notes, "tags": inc.Tags} {
			if v == "" {
				t.Fatalf("record %d: %s is empty", i+1, name)
			}
		}
		if inc.Source != synth.Source {
			t.Fatalf("record %d: source %q", i+1, inc.Source)
		}
		if inc.EventDate < "2016-01-01" || inc.EventDate > "2025-12-31" {
			t.Fatalf("record %d: date %s outside 2016–2025", i+1, inc.EventDate)
		}
		// Iraq's bounding box with a margin for the Gaussian tail.
		if inc.Lon < 38.5 || inc.Lon > 49 || inc.Lat < 29 || inc.Lat > 37.6 {
			t.Fatalf("record %d: point %v,%v is not in Iraq", i+1, inc.Lon, inc.Lat)
		}
		types[inc.EventType]++
		admin1[inc.Admin1]++
	}
	if len(types) != 6 {
		t.Errorf("event types %v, want all six of ACLED's", types)
	}
	// Clustered, not uniform: Baghdad (the heaviest town) holds far more than
	// an even share of the ~19 governorates.
	if admin1["Baghdad"] < 2000/8 {
		t.Errorf("Baghdad has %d of 2000, want the largest cluster: %v", admin1["Baghdad"], admin1)
	}
	if !strings.HasPrefix(string(recs[0]), `{"type":"Feature"`) {
		t.Errorf("record 1 starts %q", recs[0][:20])
	}
}
