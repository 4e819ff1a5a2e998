package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"incidentmap/postgis"
)

// pgTool finds a PostgreSQL client program (pg_dump, pg_restore) on PATH,
// or says what to install and what to use instead.
func pgTool(name, what string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s of a PostGIS database needs %s on PATH (Debian: postgresql-client, the same major version as the server or newer); "+
		"without it, copy the database into a SQLite file with: incidentmap migrate --from postgres://… --to FILE.db", what, name)
}

// runPG runs a PostgreSQL client program and returns its standard output;
// its standard error is the error's text when it fails.
func runPG(ctx context.Context, path string, args ...string) ([]byte, error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", filepath.Base(path), err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// archiveEntries checks that file is a pg_dump archive holding the
// incidents table's data, and returns how many entries its table of
// contents lists.
func archiveEntries(ctx context.Context, pgRestore, file string) (int, error) {
	toc, err := runPG(ctx, pgRestore, "--list", file)
	if err != nil {
		return 0, fmt.Errorf("%s is not a readable pg_dump archive: %w", file, err)
	}
	n := 0
	data := false
	for _, line := range strings.Split(string(toc), "\n") {
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		n++
		if strings.Contains(line, "TABLE DATA") && strings.HasSuffix(strings.TrimSpace(line), " incidents") ||
			strings.Contains(line, "TABLE DATA public incidents ") {
			data = true
		}
	}
	if !data {
		return n, fmt.Errorf("%s holds no incidents table data: not an incidentmap backup", file)
	}
	return n, nil
}

// pgBackup writes a pg_dump archive (custom format: compressed, restorable
// table by table) of the database at url to the file to, replaced
// atomically, and reads its table of contents back.
func pgBackup(ctx context.Context, url, to string, stdout io.Writer) error {
	pgDump, err := pgTool("pg_dump", "backup")
	if err != nil {
		return err
	}
	pgRestore, err := pgTool("pg_restore", "checking a backup")
	if err != nil {
		return err
	}
	start := time.Now()
	tmp, err := os.CreateTemp(filepath.Dir(to), "."+filepath.Base(to)+".tmp*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	// One snapshot: pg_dump reads every table in one repeatable-read
	// transaction, so a backup taken while servers write is consistent.
	if _, err := runPG(ctx, pgDump, "--format=custom", "--no-owner", "--file="+tmp.Name(), "--dbname="+url); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	n, err := archiveEntries(ctx, pgRestore, tmp.Name())
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), to); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup: %s → %s in %v (pg_dump archive, %d entries, readable)\n", redactURL(url), to, time.Since(start).Round(time.Millisecond), n)
	return nil
}

// pgRestore replaces the incidentmap tables of the database at url with
// those of a pg_dump archive, in one transaction (all or nothing). Other
// connections to the database (servers) make it refuse unless force: they
// must be restarted after.
func pgRestore(ctx context.Context, url, from string, force bool, stdout io.Writer) error {
	pgRestoreBin, err := pgTool("pg_restore", "restore")
	if err != nil {
		return err
	}
	if _, err := archiveEntries(ctx, pgRestoreBin, from); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("restore: connect: %w", err)
	}
	var others int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&others)
	conn.Close(context.Background())
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if others > 0 && !force {
		return fmt.Errorf("restore: %d other connections use the database (a server?); stop them first, or give --force and restart them after", others)
	}
	if _, err := runPG(ctx, pgRestoreBin, "--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-owner",
		"--dbname="+url, from); err != nil {
		return fmt.Errorf("restore: nothing was changed: %w", err)
	}
	fmt.Fprintf(stdout, "restore: %s → %s\n", from, redactURL(url))
	return nil
}

// pgCheck runs postgis.Check on the database at url.
func pgCheck(ctx context.Context, url string, stdout io.Writer) error {
	problems, checked, err := postgis.Check(ctx, url)
	if err != nil {
		return fmt.Errorf("check %s: %w", redactURL(url), err)
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("check %s: %d problems", redactURL(url), len(problems))
	}
	fmt.Fprintf(stdout, "check: %s ok (%s)\n", redactURL(url), checked)
	return nil
}

// redactURL is a database URL without its password, for messages.
func redactURL(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil || cfg.Password == "" {
		return url
	}
	return strings.Replace(url, ":"+cfg.Password+"@", ":xxxxx@", 1)
}
