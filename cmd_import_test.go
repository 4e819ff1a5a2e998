package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLIImport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	fixture := filepath.Join("importer", "testdata", "acled-iraq-fixture.csv")
	out, err := runCLI(t, "import", fixture, "--db", db)
	if err != nil || !strings.Contains(out, "60 inserted") {
		t.Fatalf("import: %v %s", err, out)
	}
	out, err = runCLI(t, "import", "--db", db, "--dry-run", "--format", "acled-csv", fixture)
	if err != nil || !strings.Contains(out, "dry run") || !strings.Contains(out, "60 unchanged") {
		t.Fatalf("dry run: %v %s", err, out)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("event_id_cnty,event_date,event_type,latitude,longitude\nZ1,2021-01-01,Riots,33,44\nZ2,2021-01-01,Riots,33,west\n"), 0o644)
	out, err = runCLI(t, "import", bad, "--db", db)
	if err == nil || exitCode(err) == 0 || !strings.Contains(err.Error(), `row 2: longitude "west"`) {
		t.Fatalf("bad file: %v %s", err, out)
	}
	var ue *usageError
	for _, args := range [][]string{{"import"}, {"import", "--format", "xml", fixture}, {"import", "a", "b"}} {
		if _, err := runCLI(t, args...); !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
