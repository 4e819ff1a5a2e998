package main

import (
	"bytes"
	"context"
	"incidentmap/incident"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"incidentmap/synth"
)

func TestGenWritesAndLoads(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "syn.geojsons")
	if out, err := runCLI(t, "gen", "--n", "300", "--seed", "9", "--out", file); err != nil {
		t.Fatalf("gen --out: %v %s", err, out)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := synth.WriteSeq(&want, 9, 300); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("gen --out wrote %d bytes that differ from synth.WriteSeq's %d", len(got), want.Len())
	}
	if n := bytes.Count(got, []byte{0x1E}); n != 300 {
		t.Fatalf("%d records, want 300", n)
	}

	db := filepath.Join(dir, "a.db")
	if out, err := runCLI(t, "gen", "--n", "300", "--seed", "9", "--db", db); err != nil || !strings.Contains(out, "300 inserted") {
		t.Fatalf("gen --db: %v %s", err, out)
	}
	// The same seed again changes nothing: upserts keyed by event_id.
	if out, err := runCLI(t, "gen", "--n", "300", "--seed", "9", "--db", db); err != nil || !strings.Contains(out, "300 unchanged") {
		t.Fatalf("gen --db again: %v %s", err, out)
	}
	st, err := openStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.Count(context.Background(), incident.Filter{})
	if err != nil || n != 300 {
		t.Fatalf("count %d, %v; want 300", n, err)
	}
	inc, err := st.Incident(context.Background(), 17)
	if err != nil {
		t.Fatal(err)
	}
	if want := synth.Incident(9, 17); inc.EventID != want.EventID || inc.Lon != want.Lon || inc.Lat != want.Lat || inc.Source != "synthetic" {
		t.Fatalf("row 17 is %+v, want %+v", inc, want)
	}

	if _, err := runCLI(t, "gen", "--n", "-1"); err == nil || exitCode(err) != 2 {
		t.Fatalf("gen --n -1: %v, want a usage error", err)
	}
}
