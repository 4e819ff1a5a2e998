package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"incidentmap/incident"
	"incidentmap/synth"
)

// genBatch is how many incidents the generator hands the writer of gen --db
// at a time: enough to keep both busy, few enough to bound memory.
const genBatch = 10000

// cmdGen writes deterministic synthetic incidents as GeoJSON Text Sequences,
// or loads them into a database with --db.
func cmdGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gen", stderr)
	n := fs.Int("n", 1000, "how many incidents")
	seed := fs.Int64("seed", 1, "random seed: the same seed gives the same incidents, byte for byte")
	out := fs.String("out", "", `file to write GeoJSON Text Sequences (RFC 8142) to, "-" for standard output (the default without --db)`)
	db := fs.String("db", "", "load the incidents into this database instead (one all-or-nothing import, upsert by event_id)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n < 0 {
		return &usageError{fmt.Sprintf("--n %d must be 0 or more", *n)}
	}
	if *out == "" && *db == "" {
		*out = "-"
	}
	if *out != "" {
		if err := genWrite(*out, *seed, *n, stdout); err != nil {
			return err
		}
	}
	if *db != "" {
		return genLoad(ctx, *db, *seed, *n, stdout)
	}
	return nil
}

func genWrite(path string, seed int64, n int, stdout io.Writer) error {
	if path == "-" {
		return synth.WriteSeq(stdout, seed, n)
	}
	// A regular file is written beside itself and renamed; a device or FIFO
	// is written through (see createOut).
	f, err := createOut(path)
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	defer f.Abort()
	if err := synth.WriteSeq(f, seed, n); err != nil {
		return fmt.Errorf("gen %s: %w", path, err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("gen %s: %w", path, err)
	}
	return nil
}

// genLoad writes the incidents into the database as one import: all or
// nothing, and into an empty database the bulk load (see store.Import).
// Incidents are made on another goroutine while earlier ones are written.
func genLoad(ctx context.Context, path string, seed int64, n int, stdout io.Writer) error {
	tuneMallocForBulkLoad()
	st, err := openEngine(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []incident.Incident, 2)
	go func() {
		defer close(batches)
		synth.Batches(seed, n, genBatch, func(b []incident.Incident) error {
			select {
			case batches <- append([]incident.Incident(nil), b...):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	res, err := st.Import(ctx, false, func(w incident.ImportWriter) error {
		for b := range batches {
			for i := range b {
				if err := w.Put(&b[i], 0); err != nil {
					return fmt.Errorf("incident %s: %w", b[i].EventID, err)
				}
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	fmt.Fprintf(stdout, "gen: %d incidents into %s in %.1fs: %d inserted, %d updated, %d unchanged\n",
		n, path, time.Since(start).Seconds(), res.Inserted, res.Updated, res.Unchanged+res.Older)
	return nil
}
