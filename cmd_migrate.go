package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"incidentmap/incident"
)

// cmdMigrate copies incidents, history, change log and tokens from one
// engine to another (SQLite file ↔ PostGIS URL) in one transaction on the
// destination, which must hold no incidents, then reads both back and
// compares each table's row count and checksum. Stop the servers writing to
// the source first: each table is read in a snapshot of its own.
func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	from := fs.String("from", "", "the database to copy from: a SQLite file or a postgres:// URL")
	to := fs.String("to", "", "the database to copy into (created or migrated; must hold no incidents)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return &usageError{"migrate: --from and --to are both required"}
	}
	if *from == *to {
		return &usageError{"migrate: --from and --to name the same database"}
	}
	src, err := openEngine(ctx, *from)
	if err != nil {
		return fmt.Errorf("migrate: open %s: %w", redactDB(*from), err)
	}
	defer src.Close()
	dst, err := openEngine(ctx, *to)
	if err != nil {
		return fmt.Errorf("migrate: open %s: %w", redactDB(*to), err)
	}
	defer dst.Close()
	sc, ok1 := src.(incident.Copier)
	dc, ok2 := dst.(incident.Copier)
	if !ok1 || !ok2 {
		return fmt.Errorf("migrate: an engine cannot copy tables")
	}
	copied := map[string]*incident.RowDigest{}
	start := time.Now()
	err = dc.LoadTables(ctx, func(put func(string, []any) error) error {
		for _, t := range incident.CopyTables {
			d := &incident.RowDigest{}
			copied[t.Name] = d
			if err := sc.DumpTable(ctx, t.Name, func(row []any) error {
				d.Add(row)
				return put(t.Name, row)
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: nothing was written: %w", err)
	}
	fmt.Fprintf(stdout, "copied in %.1f s (indexes and statistics included)\n", time.Since(start).Seconds())
	start = time.Now()
	// Verify: what the destination holds now, read back as any reader would.
	for _, t := range incident.CopyTables {
		got := &incident.RowDigest{}
		if err := dc.DumpTable(ctx, t.Name, func(row []any) error { got.Add(row); return nil }); err != nil {
			return fmt.Errorf("migrate: verify %s: %w", t.Name, err)
		}
		if got.String() != copied[t.Name].String() {
			return fmt.Errorf("migrate: %s differs after the copy: read %s, wrote %s", t.Name, copied[t.Name], got)
		}
		fmt.Fprintf(stdout, "%-10s %s, the same in both\n", t.Name, got)
	}
	fmt.Fprintf(stdout, "verified in %.1f s\n", time.Since(start).Seconds())
	return nil
}
