package main

import (
	"bufio"
	"context"
	"database/sql"
	"incidentmap/incident"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"incidentmap/store"
)

// TestSIGKILLDuringImport kills an import of a large file half-way: the
// database must open, pass integrity_check and hold all or none of the file.
func TestSIGKILLDuringImport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and imports 20,000 rows")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, file := filepath.Join(dir, "a.db"), filepath.Join(dir, "big.geojsons")
	const rows = 20000
	if out, err := exec.Command(bin, "gen", "--n", "20000", "--seed", "5", "--out", file).CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "seed", "--db", db).CombinedOutput(); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "import", file, "--db", db)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the import has written a good part, then kill it.
	sc := bufio.NewScanner(stderr)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		for i, b := range data {
			if b == '\r' || b == '\n' {
				return i + 1, data[:i], nil
			}
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	killed := false
	deadline := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		if strings.Contains(sc.Text(), "10000 rows") {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
			break
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the import ended before it could be killed: %v", err)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("import did not die of SIGKILL: %v", err)
	}

	ctx := context.Background()
	st, err := openStore(ctx, db)
	if err != nil {
		t.Fatalf("open after SIGKILL: %v", err)
	}
	n, err := st.Count(ctx, incident.Filter{})
	st.Close()
	if err != nil || (n != 13 && n != 13+rows) {
		t.Fatalf("after SIGKILL: %d incidents, %v; want 13 (none) or %d (all)", n, err, 13+rows)
	}
	problems, err := store.CheckFile(ctx, db)
	if err != nil || len(problems) != 0 {
		t.Fatalf("integrity after SIGKILL: %v %v", problems, err)
	}
	// The same file then imports whole.
	out, err := exec.Command(bin, "import", file, "--db", db, "--quiet").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "20000 rows") {
		t.Fatalf("import after the kill: %v\n%s", err, out)
	}
	raw, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var ic string
	if err := raw.QueryRow("PRAGMA integrity_check").Scan(&ic); err != nil || ic != "ok" {
		t.Fatalf("integrity_check after the second import: %q %v", ic, err)
	}
	if err := raw.QueryRow("SELECT count(*) FROM incidents").Scan(&n); err != nil || n != 13+rows {
		t.Fatalf("after the second import: %d incidents, %v", n, err)
	}
}
