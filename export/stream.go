package export

import (
	"io"
	"runtime"
	"sync"

	"incidentmap/incident"
)

// A streamed format is a head, one piece of bytes per row and a tail. Rows
// are encoded into buffers of many rows and each buffer is written whole
// (few large writes, no bufio copy). With more than one CPU the encoding
// runs beside the read: the caller's goroutine reads rows into jobs,
// encoders fill each job's buffer, and the writer sends the buffers in the
// order of the rows, so the bytes are the same as those of one goroutine.
// A full export of a million incidents is about 1 s of SQLite stepping and
// 1 s of encoding: read and encode on one core each, it takes half the time.

// rowFormat is how one streamed format writes a file.
type rowFormat struct {
	head []byte
	// row appends the bytes of inc, the file's i-th row (from 0).
	row  func(dst []byte, inc *incident.Incident, i int) []byte
	tail []byte
}

// jobRows is how many rows one job holds: a few hundred KB of output, so
// writes are large and the jobs in flight (jobDepth) stay small.
const jobRows = 256

// flushAt is the buffer size at which the one-goroutine writer writes.
const flushAt = 256 << 10

// encodeWorkers is how many goroutines encode; one means no pipeline.
var encodeWorkers = func() int { return runtime.GOMAXPROCS(0) }

// writeRows writes the head, every row and the tail of rf to w and returns
// how many rows it wrote. rows.Err is the caller's to check.
func writeRows(w io.Writer, rf *rowFormat, rows Rows) (int, error) {
	if err := writeSome(w, rf.head); err != nil {
		return 0, err
	}
	var n int
	var err error
	if k := encodeWorkers(); k > 1 {
		n, err = writeRowsParallel(w, rf, rows, k)
	} else {
		n, err = writeRowsSerial(w, rf, rows)
	}
	if err != nil {
		return n, err
	}
	return n, writeSome(w, rf.tail)
}

// writeSome writes b unless it is empty.
func writeSome(w io.Writer, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := w.Write(b)
	return err
}

func writeRowsSerial(w io.Writer, rf *rowFormat, rows Rows) (int, error) {
	buf := make([]byte, 0, flushAt+flushAt/4)
	n := 0
	for rows.Next() {
		buf = rf.row(buf, rows.Incident(), n)
		n++
		if len(buf) >= flushAt {
			if _, err := w.Write(buf); err != nil {
				return n, err
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Taker is a writer that takes a buffer instead of copying it, as the
// server's spool does: after Take(b), b is the taker's, and it hands b to
// Recycle once it is done with it, for the rows of the next job. A 760 MB
// export then neither copies its bytes once more nor allocates them anew.
type Taker interface {
	Take(b []byte) error
}

// recycled holds buffers given back by takers; a few, so that an idle
// server keeps little.
var recycled = make(chan []byte, 8)

// Recycle gives back a buffer a Taker took. Buffers of odd sizes are left
// to the garbage collector.
func Recycle(b []byte) {
	if cap(b) < 32<<10 || cap(b) > 1<<20 {
		return
	}
	select {
	case recycled <- b[:0]:
	default:
	}
}

// newBuffer is a recycled buffer, or a new one of n bytes.
func newBuffer(n int) []byte {
	select {
	case b := <-recycled:
		return b
	default:
		return make([]byte, 0, n)
	}
}

// job is jobRows consecutive rows and, once encoded, their bytes.
type job struct {
	first int // the index of rows[0] in the file
	rows  []incident.Incident
	out   []byte
	done  chan struct{} // a token once out holds the rows' bytes
}

// writeRowsParallel is writeRows with k encoders. A row's Incident is
// copied into its job; its strings stay valid after the cursor's next row
// (Go strings are immutable, and the SQLite cursor's point into batch
// buffers it never writes again).
func writeRowsParallel(w io.Writer, rf *rowFormat, rows Rows, k int) (int, error) {
	depth := 2*k + 2 // jobs in flight: each encoder busy, one being read, a few written
	free := make(chan *job, depth)
	for range depth {
		free <- &job{rows: make([]incident.Incident, 0, jobRows), done: make(chan struct{}, 1)}
	}
	work := make(chan *job, depth)
	order := make(chan *job, depth)
	stop := make(chan struct{}) // closed when a write failed: the reader stops

	var encoders sync.WaitGroup
	for range k {
		encoders.Add(1)
		go func() {
			defer encoders.Done()
			for j := range work {
				out := j.out[:0]
				for i := range j.rows {
					out = rf.row(out, &j.rows[i], j.first+i)
				}
				j.out = out
				j.done <- struct{}{}
			}
		}()
	}

	// The reader: rows into jobs, in order.
	go func() {
		defer close(order)
		defer close(work)
		n := 0
		for {
			var j *job
			select {
			case j = <-free:
			case <-stop:
				return
			}
			j.first = n
			j.rows = j.rows[:0]
			more := true
			for len(j.rows) < jobRows {
				if more = rows.Next(); !more {
					break
				}
				j.rows = append(j.rows, *rows.Incident())
			}
			n += len(j.rows)
			if len(j.rows) > 0 {
				// Neither send blocks: at most depth jobs exist.
				work <- j
				order <- j
			}
			if !more {
				return
			}
		}
	}()

	taker, _ := w.(Taker)
	n := 0
	var werr error
	for j := range order {
		<-j.done
		if werr == nil {
			if taker != nil {
				werr = taker.Take(j.out)
				j.out = newBuffer(cap(j.out))
			} else {
				_, werr = w.Write(j.out)
			}
			if werr != nil {
				close(stop)
			} else {
				n += len(j.rows)
			}
		}
		if cap(j.out) > 4<<20 {
			j.out = nil // one huge row (64 KB notes are the most; rows are bounded) is not kept
		}
		free <- j
	}
	encoders.Wait()
	return n, werr
}
