package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"incidentmap/incident"
	"incidentmap/store"
)

// MaxProblems is how many bad rows a report lists; the rest are only counted.
const MaxProblems = 100

// Store is what loading needs of the store.
type Store interface {
	// Import runs fn in one write transaction; see store.SQLite.Import.
	Import(ctx context.Context, dryRun bool, fn func(w incident.ImportWriter) error) (incident.ImportCounts, error)
}

// Result is what a load did, or found wrong.
type Result struct {
	Rows     int       `json:"rows"`
	DryRun   bool      `json:"dryRun"`
	Written  bool      `json:"written"` // the transaction committed
	Problems []Problem `json:"problems,omitempty"`
	// BadRows counts every bad row, also those beyond the first MaxProblems.
	BadRows int `json:"badRows"`
	incident.ImportCounts
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

// loadChunk is how many checked rows the reader hands the writer at a time.
const loadChunk = 512

// loadChunkBytes also ends a chunk when its rows' text reaches it, so that
// rows with long notes do not make the queue hold hundreds of MB: with the
// queue of 4, the chunk being filled and the one being written, at most
// about 6 × 1 MiB (plus one row) of text is in flight.
const loadChunkBytes = 1 << 20

// textBytes is the size of an incident's text, for loadChunkBytes.
func textBytes(inc *incident.Incident) int {
	return len(inc.EventID) + len(inc.EventDate) + len(inc.EventType) + len(inc.SubEventType) +
		len(inc.Actor1) + len(inc.Actor2) + len(inc.Admin1) + len(inc.Admin2) + len(inc.Location) +
		len(inc.Region) + len(inc.Source) + len(inc.SourceURL) + len(inc.Notes) + len(inc.Tags)
}

// Load reads r and upserts its incidents by event_id in one transaction.
// Every row is checked; when any is bad, the rest are still checked (without
// writing) to report up to MaxProblems of them, and nothing is written: the
// error is a *RejectedError. A file that cannot be read at all is another
// error; it too leaves the database unchanged.
//
// Reading and checking run on one goroutine and writing on another, so a
// large file keeps two cores busy; chunks of rows pass between them through
// a short queue, which bounds memory.
func Load(ctx context.Context, st Store, r io.Reader, opt Options) (*Result, error) {
	res := &Result{DryRun: opt.DryRun}
	every := opt.ProgressEvery
	if every <= 0 {
		every = 10000
	}
	counts, err := st.Import(ctx, opt.DryRun, func(w incident.ImportWriter) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		chunks := make(chan []Row, 4)
		readErr := make(chan error, 1)
		go func() {
			defer close(chunks)
			readErr <- readChecked(ctx, r, opt, every, w, res, chunks)
		}()
		var writeErr error
		for chunk := range chunks {
			if writeErr != nil {
				continue // drain, so the reader is not left blocked
			}
			for i := range chunk {
				if err := w.PutChecked(&chunk[i].Incident, chunk[i].Timestamp); err != nil {
					// Checked rows fail only when the database does.
					writeErr = err
					cancel()
					break
				}
			}
		}
		rerr := <-readErr
		switch {
		case writeErr != nil:
			return writeErr
		case rerr != nil:
			return rerr
		case res.BadRows > 0:
			return errRejected
		}
		return nil
	})
	res.ImportCounts = counts
	switch {
	case errors.Is(err, errRejected):
		res.ImportCounts = incident.ImportCounts{}
		return res, &RejectedError{Result: res}
	case errors.Is(err, store.ErrDryRun):
		return res, nil
	case err != nil:
		res.ImportCounts = incident.ImportCounts{}
		return res, err
	}
	res.Written = true
	return res, nil
}

// readChecked reads and checks every row of r, recording problems in res,
// and sends the good rows in chunks until the first bad one: after it the
// import is lost, and the rest is only checked. The error is the file's
// (*FileError) or the context's.
func readChecked(ctx context.Context, r io.Reader, opt Options, every int, w incident.ImportWriter, res *Result, chunks chan<- []Row) error {
	chunk := make([]Row, 0, loadChunk)
	chunkBytes := 0
	send := func() error {
		if len(chunk) == 0 {
			return nil
		}
		select {
		case chunks <- chunk:
		case <-ctx.Done():
			return ctx.Err()
		}
		chunk = make([]Row, 0, loadChunk)
		chunkBytes = 0
		return nil
	}
	rerr := Read(r, opt.Format, func(row Row, p *Problem) error {
		res.Rows++
		if opt.Progress != nil && res.Rows%every == 0 {
			opt.Progress(res.Rows)
		}
		if res.Rows%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if p == nil {
			if err := w.Check(&row.Incident); err != nil {
				pp := problemOf(row.Row, err)
				p = &pp
			}
		}
		if p != nil {
			res.BadRows++
			if len(res.Problems) < MaxProblems {
				res.Problems = append(res.Problems, *p)
			}
			return nil
		}
		if res.BadRows > 0 {
			return nil
		}
		chunk = append(chunk, row)
		chunkBytes += textBytes(&row.Incident)
		if len(chunk) == loadChunk || chunkBytes >= loadChunkBytes {
			return send()
		}
		return nil
	})
	if rerr != nil {
		if ctx.Err() != nil && errors.Is(rerr, ctx.Err()) {
			return rerr
		}
		return &FileError{Err: rerr}
	}
	if res.BadRows > 0 {
		return nil
	}
	return send()
}
