package importer_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"incidentmap/importer"
	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/store"
)

const fixture = "testdata/acled-iraq-fixture.csv"

func readFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func load(t *testing.T, st importer.Store, data []byte, opt importer.Options) (*importer.Result, error) {
	t.Helper()
	return importer.Load(context.Background(), st, bytes.NewReader(data), opt)
}

func count(t *testing.T, st *store.SQLite) int64 {
	t.Helper()
	n, err := st.Count(context.Background(), incident.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestACLEDFixtureImportsAndReimportIsNoOp(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	ctx := context.Background()
	data := readFixture(t)
	res, err := load(t, st, data, importer.Options{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if res.Rows != 60 || res.Inserted != 60 || res.Updated != 0 || !res.Written {
		t.Fatalf("first import: %+v", res)
	}
	if n := count(t, st); n != 13+60 {
		t.Fatalf("%d incidents, want 73", n)
	}
	// Row 2 has ACLED's "15 March 2023" date style and every column filled.
	cur, err := st.Incidents(ctx, incident.Filter{Equals: []incident.Equal{{Field: "event_id", Value: "IRQ30002"}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !cur.Next() {
		t.Fatal("IRQ30002 not stored")
	}
	got := *cur.Incident()
	cur.Close()
	if got.EventDate != "2023-03-15" || got.TimePrecision != 3 || got.EventType != "Protests" ||
		got.SubEventType != "Peaceful protest" || got.Actor1 != "Protesters (Iraq)" || got.Admin1 != "Anbar" ||
		got.Admin2 != "Ramadi" || got.Location != "Ramadi" || got.Lat != 33.4504 || got.Lon != 43.3336 ||
		got.GeoPrecision != 3 || got.Source != "Kurdistan 24" || got.Fatalities != 0 ||
		got.Tags != "crowd size=no report" || got.Region != "Anbar" ||
		got.Notes != `On 15 March 2023, an incident in Ramadi (Ramadi), "report 2"; details, with a comma.` {
		t.Fatalf("IRQ30002 stored as %+v", got)
	}
	before, _ := st.DataVersion(ctx)
	res, err = load(t, st, data, importer.Options{})
	if err != nil || res.Inserted != 0 || res.Updated != 0 || res.Unchanged != 60 {
		t.Fatalf("re-import: %+v, %v; want 60 unchanged", res, err)
	}
	after, _ := st.DataVersion(ctx)
	if before != after {
		t.Fatalf("re-import changed the data version %v → %v", before, after)
	}
}

func TestBadRowRejectsWholeFile(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	lines := strings.SplitAfter(string(readFixture(t)), "\n")
	// Header and the first 50 records (row 7's note spans two lines).
	good := strings.Join(lines[:52], "")
	bad := strings.Replace(good, ",37.1809,42.7383,", ",north,42.7383,", 1)
	if bad == good {
		t.Fatal("test setup: row 23's latitude not found")
	}
	before := count(t, st)
	res, err := load(t, st, []byte(bad), importer.Options{})
	var rej *importer.RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("bad file: err %v, want *RejectedError", err)
	}
	if res.Rows != 50 || res.BadRows != 1 || len(res.Problems) != 1 || res.Written {
		t.Fatalf("result %+v", res)
	}
	p := res.Problems[0]
	if p.Row != 23 || p.Field != "latitude" || p.Value != "north" {
		t.Fatalf("problem %+v, want row 23 latitude north", p)
	}
	if !strings.Contains(err.Error(), `row 23: latitude "north"`) {
		t.Fatalf("report %q does not name row 23's latitude", err)
	}
	if n := count(t, st); n != before {
		t.Fatalf("%d incidents after a rejected import, want %d", n, before)
	}
}

func TestManyBadRowsReportFirst100(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	var b strings.Builder
	b.WriteString("latitude,longitude,event_type,event_id_cnty,event_date,extra\n")
	for i := 0; i < 250; i++ {
		b.WriteString("33.3,44.4,Riots,X" + strings.Repeat("1", i%3+1) + ",2021-13-01,zzz\n")
	}
	res, err := load(t, st, []byte(b.String()), importer.Options{})
	if err == nil || res.BadRows != 250 || len(res.Problems) != importer.MaxProblems {
		t.Fatalf("%+v %v", res, err)
	}
	if p := res.Problems[99]; p.Row != 100 || p.Field != "event_date" {
		t.Fatalf("problem 100: %+v", p)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	res, err := load(t, st, readFixture(t), importer.Options{DryRun: true})
	if err != nil || res.Inserted != 60 || res.Written {
		t.Fatalf("dry run: %+v, %v", res, err)
	}
	if n := count(t, st); n != 13 {
		t.Fatalf("%d incidents after a dry run, want 13", n)
	}
}

func TestNewerTimestampUpdatesOlderIsSkipped(t *testing.T) {
	st := testsrv.Open(t)
	head := "event_id_cnty,event_date,event_type,latitude,longitude,fatalities,timestamp\n"
	steps := []struct {
		row  string
		want incident.ImportCounts
		fat  int
	}{
		{"A1,2021-01-02,Riots,33.3,44.4,1,100\n", incident.ImportCounts{Inserted: 1}, 1},
		{"A1,2021-01-02,Riots,33.3,44.4,5,200\n", incident.ImportCounts{Updated: 1}, 5},
		{"A1,2021-01-02,Riots,33.3,44.4,9,150\n", incident.ImportCounts{Older: 1}, 5},
		{"A1,2021-01-02,Riots,33.3,44.4,5,200\n", incident.ImportCounts{Unchanged: 1}, 5},
	}
	for i, s := range steps {
		res, err := load(t, st, []byte(head+s.row), importer.Options{})
		if err != nil || res.ImportCounts != s.want {
			t.Fatalf("step %d: %+v, %v; want %+v", i, res, err, s.want)
		}
		inc, err := st.Incident(context.Background(), 1)
		if err != nil || inc.Fatalities != s.fat {
			t.Fatalf("step %d: fatalities %d, %v; want %d", i, inc.Fatalities, err, s.fat)
		}
	}
}

func TestFileErrors(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	for _, c := range []struct{ name, data, want string }{
		{"empty", "", "empty"},
		{"no id column", "event_date,event_type,latitude,longitude\n", "event_id_cnty"},
		{"geojson not collection", `{"type":"Feature"}`, "FeatureCollection"},
		{"broken geojson", `{"type":"FeatureCollection","features":[{"type":`, "feature 1"},
		// Trailing data (issue 15): refused, not dropped, and the feature
		// before it is not imported either.
		{"second collection", `{"type":"FeatureCollection","features":[` + feat1 + `]}{"type":"FeatureCollection","features":[` + feat2 + `]}`, "another object after the end"},
		{"bare feature after", `{"type":"FeatureCollection","features":[` + feat1 + "]}\n" + feat2, "another object after the end"},
		{"garbage after", `{"type":"FeatureCollection","features":[` + feat1 + `]} garbage {`, "after the FeatureCollection"},
		{"array after", `{"type":"FeatureCollection","features":[` + feat1 + `]}[]`, "[ after the end"},
		{"cut after the features", `{"type":"FeatureCollection","features":[` + feat1 + `]`, "does not end with }"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, st, []byte(c.data), importer.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one mentioning %q", err, c.want)
			}
			if n := count(t, st); n != 13 {
				t.Fatalf("%d incidents, want 13", n)
			}
		})
	}
}
