package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/server"
	"incidentmap/store"
)

// fatalitiesOf reads incident id's fatalities from a database file without
// migrating or changing it.
func fatalitiesOf(t *testing.T, path string, id int64) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT fatalities FROM incidents WHERE id = ?", id).Scan(&n); err != nil {
		t.Fatalf("%s: incident %d: %v", path, id, err)
	}
	return n
}

// setFatalities changes incident id in the database at path, as any writer would.
func setFatalities(t *testing.T, path string, id int64, n int) {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	inc, err := st.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	inc.Fatalities = n
	if _, err := st.Upsert(ctx, []incident.Incident{inc}); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreRefusesForeignSQLite: a sound SQLite file without our schema
// was restored (exit 0) and serve then seeded an empty database; it is
// refused and the database left as it was.
func TestRestoreRefusesForeignSQLite(t *testing.T) {
	dir := t.TempDir()
	db, foreign := filepath.Join(dir, "a.db"), filepath.Join(dir, "x.sqlite")
	mustCLI(t, "seed", "--db", db)
	setFatalities(t, db, 1, 42)
	f, err := sql.Open("sqlite3", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Exec("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('hello')"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := runCLI(t, "restore", "--db", db, "--from", foreign)
	if err == nil || !strings.Contains(err.Error(), "not an incidentmap database") {
		t.Fatalf("restore of a foreign SQLite file: err %v, out %s; want a refusal", err, out)
	}
	if n := fatalitiesOf(t, db, 1); n != 42 {
		t.Fatalf("after the refused restore incident 1 has %d fatalities, want 42 kept", n)
	}
	if kept, _ := filepath.Glob(db + ".before-restore-*"); len(kept) > 0 {
		t.Fatalf("a refused restore moved the database aside: %v", kept)
	}
}

// TestRestoreKeepsReplacedAndMode: the replaced database is kept as
// DB.before-restore-<time> with what it held, and the restored file gets
// the replaced one's permissions.
func TestRestoreKeepsReplacedAndMode(t *testing.T) {
	dir := t.TempDir()
	db, bak := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	mustCLI(t, "seed", "--db", db)
	mustCLI(t, "backup", "--db", db, "--to", bak)
	setFatalities(t, db, 1, 77)
	if err := os.Chmod(db, 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "restore", "--db", db, "--from", bak)
	kept, _ := filepath.Glob(db + ".before-restore-*")
	if len(kept) != 1 || !strings.Contains(out, kept[0]) {
		t.Fatalf("kept %v, output %q; want one DB.before-restore-* named in the output", kept, out)
	}
	if n := fatalitiesOf(t, kept[0], 1); n != 77 {
		t.Fatalf("the kept database has %d fatalities for incident 1, want 77 (the replaced state)", n)
	}
	if n := fatalitiesOf(t, db, 1); n != 0 {
		t.Fatalf("the restored database has %d fatalities, want the backup's 0", n)
	}
	if fi, _ := os.Stat(db); fi.Mode().Perm() != 0o600 {
		t.Fatalf("restored file mode %v, want the replaced file's 0600", fi.Mode().Perm())
	}
}

// TestRestoreForceWhileServing: restore --force under a running server used
// to leave it answering 201 to writes that went to the unlinked file, with
// /readyz ready. Now the server notices the new inode: /readyz is 503 and
// writes are refused; the write acknowledged before the swap is in the kept
// file.
func TestRestoreForceWhileServing(t *testing.T) {
	dir := t.TempDir()
	db, bak := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	mustCLI(t, "seed", "--db", db)
	mustCLI(t, "backup", "--db", db, "--to", bak)
	release, err := lockDatabase(db) // as serve does
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := st.CreateToken(ctx, "tester")
	cfg := server.DefaultConfig()
	srv := testsrv.Start(t, st, &cfg)
	t.Cleanup(func() { st.Close(); release() })
	patch := func() int {
		req, _ := http.NewRequest("PATCH", srv.URL+"/collections/incidents/items/1", strings.NewReader(`{"properties":{"fatalities":5}}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/merge-patch+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := patch(); s != http.StatusOK {
		t.Fatalf("PATCH before the restore: %d", s)
	}
	if out, err := runCLI(t, "restore", "--db", db, "--from", bak); err == nil {
		t.Fatalf("restore without --force while served succeeded: %s", out)
	}
	mustCLI(t, "restore", "--db", db, "--from", bak, "--force")
	if status, _, body := srv.Get(t, "/readyz"); status != http.StatusServiceUnavailable || !strings.Contains(string(body), "replaced") {
		t.Fatalf("/readyz after the file was replaced: %d %s; want 503", status, body)
	}
	if s := patch(); s != http.StatusServiceUnavailable {
		t.Fatalf("PATCH after the file was replaced: %d; want 503", s)
	}
	if err := st.Replaced(); !errors.Is(err, store.ErrReplaced) {
		t.Fatalf("Replaced() = %v", err)
	}
	srv.App.Shutdown()
	st.Close()
	kept, _ := filepath.Glob(db + ".before-restore-*[0-9]Z")
	if len(kept) != 1 {
		t.Fatalf("kept %v", kept)
	}
	if n := fatalitiesOf(t, kept[0], 1); n != 5 {
		t.Fatalf("the acknowledged PATCH is not in the kept database: fatalities %d, want 5", n)
	}
	if n := fatalitiesOf(t, db, 1); n != 0 {
		t.Fatalf("restored database: fatalities %d, want the backup's 0", n)
	}
}

// TestLockByInode: a hard link or a symlink to a served database names the
// same file, so the one-server lock holds for it too (before, each name had
// its own NAME.lock and a second server ran on the same file).
func TestLockByInode(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	mustCLI(t, "seed", "--db", db)
	release, err := lockDatabase(db)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	hard, soft := filepath.Join(dir, "hard.db"), filepath.Join(dir, "other", "soft.db")
	if err := os.Link(db, hard); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(soft), 0o755)
	if err := os.Symlink(db, soft); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{db, hard, soft} {
		if rel, err := lockDatabase(p); !errors.Is(err, errLocked) {
			if rel != nil {
				rel()
			}
			t.Errorf("lock %s while %s is locked: %v; want errLocked", p, db, err)
		}
		// A serve that got past the lock would run until ctx ends.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var out bytes.Buffer
		err := run(ctx, []string{"serve", "--db", p, "--addr", "127.0.0.1:0", "--warm-tiles=false"}, &out, &out)
		cancel()
		if !errors.Is(err, errLocked) {
			t.Errorf("serve --db %s while served: %v; want refused", p, err)
		}
	}
}
