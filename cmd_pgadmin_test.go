package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"incidentmap/incident"
	"incidentmap/internal/pgtest"
)

// TestAdminCommandsOnPostGIS runs gen --db, check, backup and restore with a
// postgres:// URL: gen loads through the import path, check passes a sound
// database and names a NOT VALID constraint, a backup taken before a delete
// restores every incident (into the same database, refused while another
// connection holds it unless --force, and into a new one), and a file that
// is not a backup changes nothing.
func TestAdminCommandsOnPostGIS(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	cmd := func(args ...string) (string, error) {
		t.Helper()
		var out, errb bytes.Buffer
		err := run(ctx, args, &out, &errb)
		return out.String() + errb.String(), err
	}
	count := func(url string) int64 {
		t.Helper()
		st, err := openEngine(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		n, err := st.Count(ctx, incident.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	sql := func(url, q string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	if out, err := cmd("gen", "--n", "3000", "--seed", "5", "--db", url); err != nil || !strings.Contains(out, "3000 inserted") {
		t.Fatalf("gen --db: %v\n%s", err, out)
	}
	if n := count(url); n != 3000 {
		t.Fatalf("after gen: %d incidents", n)
	}
	// The same seed again changes nothing: one upserting import.
	if out, err := cmd("gen", "--n", "3000", "--seed", "5", "--db", url); err != nil || !strings.Contains(out, "0 inserted, 0 updated, 3000 unchanged") {
		t.Fatalf("gen --db again: %v\n%s", err, out)
	}

	out, err := cmd("check", "--db", url)
	if err != nil || !strings.Contains(out, "ok (") || !strings.Contains(out, "bt_index_check") {
		t.Fatalf("check of a sound database: %v\n%s", err, out)
	}
	t.Log(strings.TrimSpace(out))

	dir := t.TempDir()
	backup := filepath.Join(dir, "pg.backup")
	if out, err := cmd("backup", "--db", url, "--to", backup); err != nil || !strings.Contains(out, "readable") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	sql(url, "DELETE FROM incidents WHERE id > 1000")
	if n := count(url); n != 1000 {
		t.Fatalf("after the delete: %d", n)
	}

	// A file that is not a backup: refused, nothing changed.
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("not a dump"), 0o644)
	if out, err := cmd("restore", "--db", url, "--from", junk); err == nil || !strings.Contains(err.Error(), "not a readable pg_dump archive") {
		t.Fatalf("restore of junk: %v\n%s", err, out)
	}

	// Another connection (a server) holds the database: refused without --force.
	holder, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cmd("restore", "--db", url, "--from", backup); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore while held: %v", err)
	}
	holder.Close(ctx)
	if out, err := cmd("restore", "--db", url, "--from", backup); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if n := count(url); n != 3000 {
		t.Fatalf("after restore: %d incidents, want 3000", n)
	}
	// Into a new, empty database.
	fresh := pgtest.DB(t)
	if out, err := cmd("restore", "--db", fresh, "--from", backup); err != nil {
		t.Fatalf("restore into a new database: %v\n%s", err, out)
	}
	if n := count(fresh); n != 3000 {
		t.Fatalf("restored into a new database: %d incidents", n)
	}
	if out, err := cmd("check", "--db", fresh); err != nil {
		t.Fatalf("check after restore: %v\n%s", err, out)
	}

	// A constraint never proven of the rows is a problem: exit status 1.
	sql(url, "ALTER TABLE incidents ADD CONSTRAINT few_fatalities CHECK (fatalities < 1000000) NOT VALID")
	out, err = cmd("check", "--db", url)
	if err == nil || !strings.Contains(out, "incidents.few_fatalities is NOT VALID") {
		t.Fatalf("check with a NOT VALID constraint: %v\n%s", err, out)
	}
}
