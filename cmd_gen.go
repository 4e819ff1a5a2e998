package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"time"

	"incidentmap/geo"
	"incidentmap/synth"
)

// genBatch is how many incidents one transaction of gen --db writes: large
// enough that commits do not dominate, small enough to bound memory.
const genBatch = 10000

// cmdGen writes deterministic synthetic incidents as GeoJSON Text Sequences,
// or loads them into a database with --db.
func cmdGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gen", stderr)
	n := fs.Int("n", 1000, "how many incidents")
	seed := fs.Int64("seed", 1, "random seed: the same seed gives the same incidents, byte for byte")
	out := fs.String("out", "", `file to write GeoJSON Text Sequences (RFC 8142) to, "-" for standard output (the default without --db)`)
	db := fs.String("db", "", "load the incidents into this database instead (upsert by event_id, batches of 10,000)")
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
	// Write beside the target and rename, so a failed run leaves no half file.
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if err := synth.WriteSeq(f, seed, n); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("gen %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("gen %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// genLoad upserts the incidents in batches, each its own transaction, while
// the next batch is generated on another goroutine.
func genLoad(ctx context.Context, path string, seed int64, n int, stdout io.Writer) error {
	tuneMallocForBulkLoad()
	st, err := openStore(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	// A bulk load touches far more pages than SQLite's default 2 MB cache
	// holds; spilling them to the WAL mid-transaction multiplies the writes.
	// The store has one write connection, so the setting stays on it.
	if err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "PRAGMA cache_size = -262144") // 256 MiB
		return err
	}); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	start := time.Now()
	batches := make(chan []geo.Incident, 2)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(batches)
		synth.Batches(seed, n, genBatch, func(b []geo.Incident) error {
			select {
			case batches <- append([]geo.Incident(nil), b...):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var inserted, updated, unchanged, done int
	for b := range batches {
		res, err := st.Upsert(ctx, b)
		if err != nil {
			return fmt.Errorf("gen: load incidents %d–%d: %w", done+1, done+len(b), err)
		}
		done += len(b)
		inserted, updated, unchanged = inserted+res.Inserted, updated+res.Updated, unchanged+res.Unchanged
	}
	fmt.Fprintf(stdout, "gen: %d incidents into %s in %.1fs: %d inserted, %d updated, %d unchanged\n",
		done, path, time.Since(start).Seconds(), inserted, updated, unchanged)
	return nil
}
