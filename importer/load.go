package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"incidentmap/store"
)

// MaxProblems is how many bad rows a report lists; the rest are only counted.
const MaxProblems = 100

// Store is what loading needs of the store.
type Store interface {
	// Import runs fn in one write transaction; see store.SQLite.Import.
	Import(ctx context.Context, dryRun bool, fn func(w *store.ImportWriter) error) (store.ImportCounts, error)
}

// Result is what a load did, or found wrong.
type Result struct {
	Rows     int       `json:"rows"`
	DryRun   bool      `json:"dryRun"`
	Written  bool      `json:"written"` // the transaction committed
	Problems []Problem `json:"problems,omitempty"`
	// BadRows counts every bad row, also those beyond the first MaxProblems.
	BadRows int `json:"badRows"`
	store.ImportCounts
}

// RejectedError says that a file had bad rows and nothing was written.
type RejectedError struct{ Result *Result }

// Error implements error.
func (e *RejectedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d rows are bad; nothing was imported", e.Result.BadRows, e.Result.Rows)
	for _, p := range e.Result.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	if more := e.Result.BadRows - len(e.Result.Problems); more > 0 {
		fmt.Fprintf(&b, "\n  … and %d more bad rows", more)
	}
	return b.String()
}

// Options tune a load.
type Options struct {
	Format Format
	DryRun bool // validate, and count what would change, but write nothing
	// Progress, when set, is called every ProgressEvery rows with the rows read.
	Progress      func(rows int)
	ProgressEvery int
}

// FileError says that the file itself could not be read (no header, broken
// JSON): the fault is the file's, not the database's.
type FileError struct{ Err error }

// Error implements error.
func (e *FileError) Error() string { return e.Err.Error() }

// Unwrap returns the reader's error.
func (e *FileError) Unwrap() error { return e.Err }

// errRejected aborts the transaction after the whole file was checked.
var errRejected = errors.New("rejected")

// Load reads r and upserts its incidents by event_id in one transaction.
// Every row is checked; when any is bad, the rest are still checked (without
// writing) to report up to MaxProblems of them, and nothing is written: the
// error is a *RejectedError. A file that cannot be read at all is another
// error; it too leaves the database unchanged.
func Load(ctx context.Context, st Store, r io.Reader, opt Options) (*Result, error) {
	res := &Result{DryRun: opt.DryRun}
	every := opt.ProgressEvery
	if every <= 0 {
		every = 10000
	}
	var sinkErr error // an error of the database or the context, not of the file
	counts, err := st.Import(ctx, opt.DryRun, func(w *store.ImportWriter) error {
		rerr := Read(r, opt.Format, func(row Row, p *Problem) error {
			res.Rows++
			if opt.Progress != nil && res.Rows%every == 0 {
				opt.Progress(res.Rows)
			}
			if res.Rows%1024 == 0 {
				if err := ctx.Err(); err != nil {
					sinkErr = err
					return err
				}
			}
			if p == nil {
				var err error
				if res.BadRows > 0 {
					err = w.Check(&row.Incident)
				} else {
					err = w.Put(&row.Incident, row.Timestamp)
				}
				if err != nil {
					pp := problemOf(row.Row, err)
					if pp.Field == "row" {
						// Not the row's fault: the database failed.
						sinkErr = err
						return err
					}
					p = &pp
				}
			}
			if p != nil {
				res.BadRows++
				if len(res.Problems) < MaxProblems {
					res.Problems = append(res.Problems, *p)
				}
			}
			return nil
		})
		if rerr != nil && sinkErr == nil {
			return &FileError{Err: rerr}
		}
		if rerr != nil {
			return rerr
		}
		if res.BadRows > 0 {
			return errRejected
		}
		return nil
	})
	res.ImportCounts = counts
	switch {
	case errors.Is(err, errRejected):
		res.ImportCounts = store.ImportCounts{}
		return res, &RejectedError{Result: res}
	case errors.Is(err, store.ErrDryRun):
		return res, nil
	case err != nil:
		res.ImportCounts = store.ImportCounts{}
		return res, err
	}
	res.Written = true
	return res, nil
}
