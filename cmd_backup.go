package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"incidentmap/postgis"
	"incidentmap/store"
)

// cmdBackup writes a consistent copy of the database, also while it is served.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	db := dbFlag(fs)
	to := fs.String("to", "", "file to write the backup to (replaced atomically)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return &usageError{"backup needs --to FILE"}
	}
	if postgis.IsURL(*db) {
		return pgBackup(ctx, *db, *to, stdout)
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	if err := st.Backup(ctx, *to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup: %s → %s in %v, integrity ok\n", *db, *to, time.Since(start).Round(time.Millisecond))
	return nil
}

// cmdRestore replaces the database with a checked backup.
func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", stderr)
	db := dbFlag(fs)
	from := fs.String("from", "", "backup file to restore")
	force := fs.Bool("force", false, "restore even though a server holds the database (it must be restarted)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" {
		return &usageError{"restore needs --from FILE"}
	}
	if postgis.IsURL(*db) {
		return pgRestore(ctx, *db, *from, *force, stdout)
	}
	release, err := lockDatabase(*db)
	switch {
	case errors.Is(err, errLocked) && !*force:
		return fmt.Errorf("%w; stop it first, or give --force and restart it after", err)
	case err != nil && !errors.Is(err, errLocked):
		return err
	case err == nil:
		defer release()
	}
	kept, err := store.Restore(ctx, *from, *db)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restore: %s → %s\n", *from, *db)
	if kept != "" {
		fmt.Fprintf(stdout, "restore: the replaced database is kept as %s\n", kept)
	}
	return nil
}

// cmdCheck runs SQLite's integrity and foreign-key checks (PostGIS: see
// postgis.Check); problems exit 1.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr)
	db := dbFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if postgis.IsURL(*db) {
		return pgCheck(ctx, *db, stdout)
	}
	problems, err := store.CheckFile(ctx, *db)
	if err != nil {
		return fmt.Errorf("check %s: %w", *db, err)
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("check %s: %d problems", *db, len(problems))
	}
	fmt.Fprintf(stdout, "check: %s ok (integrity_check, foreign_key_check)\n", *db)
	return nil
}

// backupEvery writes a backup to dest every interval until ctx ends.
func backupEvery(ctx context.Context, st *store.SQLite, every time.Duration, dest string, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			start := time.Now()
			if err := st.Backup(ctx, dest); err != nil {
				log.Error("scheduled backup failed", "to", dest, "err", err)
				continue
			}
			log.Info("scheduled backup written", "to", dest, "duration_ms", time.Since(start).Milliseconds())
		}
	}
}
