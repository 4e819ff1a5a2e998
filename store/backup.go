package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Backup writes a consistent copy of the database to dest while readers and
// writers go on: VACUUM INTO reads one snapshot on a connection of its own, so
// no write is held up for the length of the copy. The copy is written beside
// dest, checked with integrity_check, and only then renamed over it.
func (s *SQLite) Backup(ctx context.Context, dest string) error {
	dir := filepath.Dir(dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(dest)+".*.tmp")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	os.Remove(tmpPath) // VACUUM INTO wants to create the file itself
	defer os.Remove(tmpPath)

	db, err := sql.Open("sqlite3", dsn(s.path, "deferred", false))
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", tmpPath); err != nil {
		return fmt.Errorf("backup of %s: %w", s.path, err)
	}
	problems, err := CheckFile(ctx, tmpPath)
	if err != nil {
		return fmt.Errorf("backup: check the copy: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("backup: the copy fails integrity_check: %v", problems)
	}
	if err := syncFile(tmpPath); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmpPath, dest); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// Check runs SQLite's integrity_check and foreign_key_check and returns every
// problem they report; none means the database is sound.
func (s *SQLite) Check(ctx context.Context) ([]string, error) {
	return checkDB(ctx, s.ro)
}

// CheckFile opens the database file at path read-only and checks it like
// Check, without migrating or changing it.
func CheckFile(ctx context.Context, path string) ([]string, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_query_only=true")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return checkDB(ctx, db)
}

// FileSchemaVersion reads the schema version of the database file at path
// without changing it.
func FileSchemaVersion(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_query_only=true")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var v int
	err = db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

func checkDB(ctx context.Context, db *sql.DB) ([]string, error) {
	var problems []string
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return nil, fmt.Errorf("integrity_check: %w", err)
	}
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			rows.Close()
			return nil, fmt.Errorf("integrity_check: %w", err)
		}
		if msg != "ok" {
			problems = append(problems, "integrity: "+msg)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("integrity_check: %w", err)
	}
	fk, err := db.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return nil, fmt.Errorf("foreign_key_check: %w", err)
	}
	defer fk.Close()
	for fk.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fkid int
		if err := fk.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return nil, fmt.Errorf("foreign_key_check: %w", err)
		}
		problems = append(problems, fmt.Sprintf("foreign key: %s row %d refers to a missing %s row", table, rowid.Int64, parent))
	}
	return problems, fk.Err()
}

// syncFile flushes a file's contents to disk before it is renamed into place.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Restore replaces the database file dest with a copy of src after checking
// that src is sound, is an incidentmap database (its tables are there) and
// is not newer than this build's schema. The copy is made beside dest, given
// dest's permissions (and owner, where allowed), and renamed over it, so dest
// is either the old or the new database, never half of each. The replaced
// database is kept, not deleted: its file (hard-linked, so the inode a
// running process may still write to is the kept one) and its WAL and shared
// memory files move to dest.before-restore-<UTC time>, whose path Restore
// returns ("" when there was no dest). The caller makes sure no process
// serves dest, or that one that does notices (see SQLite.Replaced).
func Restore(ctx context.Context, src, dest string) (kept string, err error) {
	problems, err := CheckFile(ctx, src)
	if err != nil {
		return "", fmt.Errorf("restore: read %s: %w", src, err)
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("restore: %s fails its checks: %v", src, problems)
	}
	if err := checkIsOurs(ctx, src); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	dir := filepath.Dir(dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(dest)+".*.restore")
	if err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	defer os.Remove(tmp.Name())
	in, err := os.Open(src)
	if err != nil {
		tmp.Close()
		return "", fmt.Errorf("restore: %w", err)
	}
	_, err = io.Copy(tmp, in)
	in.Close()
	old, statErr := os.Stat(dest)
	if statErr == nil {
		err = errors.Join(err, tmp.Chmod(old.Mode().Perm()))
		if st, ok := old.Sys().(*syscall.Stat_t); ok {
			tmp.Chown(int(st.Uid), int(st.Gid)) // only root may; others keep their own
		}
	}
	if err = errors.Join(err, tmp.Sync(), tmp.Close()); err != nil {
		return "", fmt.Errorf("restore: copy %s: %w", src, err)
	}
	if statErr == nil && old.Size() > 0 { // an empty file (made by the lock) holds nothing to keep
		kept = dest + ".before-restore-" + time.Now().UTC().Format("20060102T150405.000Z")
		if err := os.Link(dest, kept); err != nil {
			return "", fmt.Errorf("restore: keep the replaced database: %w", err)
		}
		// The WAL belongs to the old file (it may hold its last commits): it
		// goes with it. Applied to the new file it would corrupt it.
		for _, side := range []string{"-wal", "-shm"} {
			if err := os.Rename(dest+side, kept+side); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("restore: keep the replaced database's %s: %w", side, err)
			}
		}
	} else if !errors.Is(statErr, os.ErrNotExist) {
		return "", fmt.Errorf("restore: %w", statErr)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	return kept, nil
}

// ourTables are tables every incidentmap schema has; a file without them is
// some other SQLite database.
var ourTables = []string{"incidents", "change_log", "regions", "tokens", "history"}

// checkIsOurs refuses a SQLite file that is not an incidentmap database of a
// schema version this build knows.
func checkIsOurs(ctx context.Context, path string) error {
	v, err := FileSchemaVersion(ctx, path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if v > SchemaVersion() {
		return fmt.Errorf("%s has schema version %d, newer than this program's %d", path, v, SchemaVersion())
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_query_only=true")
	if err != nil {
		return err
	}
	defer db.Close()
	var missing []string
	for _, t := range ourTables {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", t).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if n == 0 {
			missing = append(missing, t)
		}
	}
	if v < 1 || len(missing) > 0 {
		return fmt.Errorf("%s is not an incidentmap database (schema version %d, missing tables %v)", path, v, missing)
	}
	return nil
}
