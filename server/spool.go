package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"incidentmap/export"
)

// Streamed responses (items pages, exports, the HTML list) read their rows
// inside one database snapshot. Written straight to the client, a reader
// that stops reading would hold that snapshot, and SQLite cannot reuse the
// WAL behind it: every write meanwhile grows the WAL file (issue 15: 221 MB
// in a 5 s burst behind one stalled reader). So the rows are encoded as fast
// as the database gives them into a spool — memory first, then an unlinked
// temporary file — and the snapshot is released when the last row is read;
// the client is fed from the spool at its own pace. Only when the spool's
// disk budget (Config.SpoolLimit, shared by all streams) is spent does an
// encoder wait for its client again, and a client that accepts nothing for
// Config.StreamStallTimeout is cut off either way.

// spoolMemory is what one spool holds in memory before it uses its file.
const spoolMemory = 1 << 20

// streamReadSize is the most a streamed response sends per write.
const streamReadSize = 256 << 10

// hijackWait bounds the wait for fasthttp to hand a download its
// connection (it does once the handler and the middleware return).
const hijackWait = 30 * time.Second

// errSpoolAborted is what the encoder's writes return once the client is gone.
var errSpoolAborted = errors.New("the client went away")

// spoolChunk is a piece of the spooled stream: bytes in memory, or a range
// of the spool file.
type spoolChunk struct {
	mem      []byte
	off, len int64
}

// spool is an ordered byte queue with one writer (the encoder) and one
// reader (the response); see the comment above.
type spool struct {
	mu      sync.Mutex
	cond    *sync.Cond
	chunks  []spoolChunk
	memUsed int
	file    *os.File
	fileEnd int64
	onDisk  int64 // bytes this spool has charged to budget
	budget  *atomic.Int64
	max     int64
	closed  bool  // the writer is done
	err     error // why the writer stopped, or nil
	aborted bool  // the reader is gone
}

func newSpool(budget *atomic.Int64, max int64) *spool {
	s := &spool{budget: budget, max: max}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// Write queues p: in memory while the spool holds under spoolMemory there,
// in the file while the shared disk budget allows, and otherwise in memory
// after waiting for the reader to make room.
func (s *spool) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aborted {
		return 0, errSpoolAborted
	}
	n := len(p)
	if n == 0 {
		// An empty memory chunk would read as a file range.
		return 0, nil
	}
	if s.memUsed+n > spoolMemory && s.charge(int64(n)) {
		if err := s.toFile(p); err != nil {
			s.budget.Add(-int64(n))
			s.onDisk -= int64(n)
			return 0, err
		}
		s.cond.Broadcast()
		return n, nil
	}
	for s.memUsed > 0 && s.memUsed+n > spoolMemory && !s.aborted {
		s.cond.Wait()
	}
	if s.aborted {
		return 0, errSpoolAborted
	}
	s.chunks = append(s.chunks, spoolChunk{mem: append([]byte(nil), p...)})
	s.memUsed += n
	s.cond.Broadcast()
	return n, nil
}

// Take is Write that keeps p itself in memory, not a copy (export.Taker):
// a stream's buffers go to the client as they are, and back to the export
// (export.Recycle) once sent. p is copied only when it goes to the file.
func (s *spool) Take(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aborted {
		return errSpoolAborted
	}
	n := len(p)
	if n == 0 {
		return nil
	}
	if s.memUsed+n > spoolMemory && s.charge(int64(n)) {
		err := s.toFile(p)
		if err != nil {
			s.budget.Add(-int64(n))
			s.onDisk -= int64(n)
			return err
		}
		export.Recycle(p)
		s.cond.Broadcast()
		return nil
	}
	for s.memUsed > 0 && s.memUsed+n > spoolMemory && !s.aborted {
		s.cond.Wait()
	}
	if s.aborted {
		return errSpoolAborted
	}
	s.chunks = append(s.chunks, spoolChunk{mem: p})
	s.memUsed += n
	s.cond.Broadcast()
	return nil
}

// charge takes n bytes of the shared disk budget, if there are that many.
func (s *spool) charge(n int64) bool {
	if s.budget.Add(n) > s.max {
		s.budget.Add(-n)
		return false
	}
	s.onDisk += n
	return true
}

// toFile appends p to the spool file (made on first use, unlinked at once).
func (s *spool) toFile(p []byte) error {
	if s.file == nil {
		f, err := os.CreateTemp("", "incidentmap-spool-")
		if err != nil {
			return err
		}
		os.Remove(f.Name()) // gone with the descriptor, whatever happens
		s.file = f
	}
	if _, err := s.file.WriteAt(p, s.fileEnd); err != nil {
		return err
	}
	if k := len(s.chunks); k > 0 && s.chunks[k-1].mem == nil && s.chunks[k-1].off+s.chunks[k-1].len == s.fileEnd {
		s.chunks[k-1].len += int64(len(p))
	} else {
		s.chunks = append(s.chunks, spoolChunk{off: s.fileEnd, len: int64(len(p))})
	}
	s.fileEnd += int64(len(p))
	return nil
}

// CloseWrite says the writer is done; err, if not nil, is why it stopped.
func (s *spool) CloseWrite(err error) {
	s.mu.Lock()
	s.closed, s.err = true, err
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Read gives the next queued bytes, waiting for the writer; io.EOF once the
// writer is done and everything was read.
func (s *spool) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.chunks) == 0 && !s.closed && !s.aborted {
		s.cond.Wait()
	}
	if s.aborted {
		return 0, errSpoolAborted
	}
	if len(s.chunks) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		return 0, io.EOF
	}
	c := &s.chunks[0]
	if c.mem != nil {
		// As many queued memory chunks as p holds: the response goes out in
		// few large writes, not one per encoder write.
		n := 0
		for n < len(p) && len(s.chunks) > 0 && s.chunks[0].mem != nil {
			c := &s.chunks[0]
			k := copy(p[n:], c.mem)
			c.mem = c.mem[k:]
			n += k
			if len(c.mem) == 0 {
				s.chunks = s.chunks[1:]
			}
		}
		s.memUsed -= n
		s.cond.Broadcast()
		return n, nil
	}
	n, err := s.file.ReadAt(p[:min(int64(len(p)), c.len)], c.off)
	c.off += int64(n)
	c.len -= int64(n)
	if c.len == 0 {
		s.chunks = s.chunks[1:]
	}
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// take is Read without the copy, for a sender that writes several buffers
// at once: the queued memory chunks, as they are, up to max bytes (at least
// one chunk; mem is true), or else the next range of the file read into
// buf. The returned memory is the caller's. nil and io.EOF once the writer
// is done and everything was taken.
func (s *spool) take(max int, buf []byte) (parts [][]byte, mem bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.chunks) == 0 && !s.closed && !s.aborted {
		s.cond.Wait()
	}
	if s.aborted {
		return nil, false, errSpoolAborted
	}
	if len(s.chunks) == 0 {
		if s.err != nil {
			return nil, false, s.err
		}
		return nil, false, io.EOF
	}
	c := &s.chunks[0]
	if c.mem != nil {
		var out [][]byte
		n := 0
		for len(s.chunks) > 0 && s.chunks[0].mem != nil && (n == 0 || n+len(s.chunks[0].mem) <= max) {
			m := s.chunks[0].mem
			out = append(out, m)
			n += len(m)
			s.chunks[0] = spoolChunk{}
			s.chunks = s.chunks[1:]
		}
		s.memUsed -= n
		s.cond.Broadcast()
		return out, true, nil
	}
	k, err := s.file.ReadAt(buf[:min(int64(len(buf)), c.len)], c.off)
	c.off += int64(k)
	c.len -= int64(k)
	if c.len == 0 {
		s.chunks = s.chunks[1:]
	}
	if err == io.EOF && k > 0 {
		err = nil
	}
	if k == 0 && err == nil {
		err = io.ErrUnexpectedEOF
	}
	return [][]byte{buf[:k]}, false, err
}

// Abort ends the spool from the reader's side: the writer's next Write
// fails, and the file and its budget are given back.
func (s *spool) Abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aborted = true
	s.chunks = nil
	if s.file != nil {
		s.file.Close()
		s.file = nil
	}
	s.budget.Add(-s.onDisk)
	s.onDisk = 0
	s.cond.Broadcast()
}

// streamSpooled sends a response body that encode writes, decoupled from
// the client by a spool: encode runs at once on its own goroutine and
// release (closing the cursor: the snapshot) runs as soon as it returns.
// The client takes one of its IP's stream slots until the body is sent;
// over the cap the request is a 429 and release runs before returning.
func (h *handlers) streamSpooled(c *fiber.Ctx, release func(), encode func(w io.Writer) error) error {
	return h.stream(c, release, encode, false)
}

// streamDownload is streamSpooled for a download (a whole file, often
// hundreds of MB). When the response goes out as it is (no content coding)
// over HTTP/1.1, the body is written on the connection itself in chunks of
// up to streamReadSize, each with one writev: fasthttp's body stream writer
// passes through a pipe and sends chunks of 4 KB, two system calls each —
// 370,000 writes for a 760 MB download. The connection closes after it.
func (h *handlers) streamDownload(c *fiber.Ctx, release func(), encode func(w io.Writer) error) error {
	return h.stream(c, release, encode, true)
}

// plainHTTP11 says whether the response to c goes out unencoded over
// HTTP/1.1: a GET that accepts no content coding the compress middleware
// applies (or the server does not compress).
func (h *handlers) plainHTTP11(c *fiber.Ctx) bool {
	rq := &c.Context().Request.Header
	if !rq.IsGet() || !rq.IsHTTP11() {
		return false
	}
	if !h.cfg.Compress {
		return true
	}
	for _, coding := range []string{"gzip", "br", "deflate", "zstd"} {
		if rq.HasAcceptEncoding(coding) {
			return false
		}
	}
	return true
}

func (h *handlers) stream(c *fiber.Ctx, release func(), encode func(w io.Writer) error, download bool) error {
	done, ok := h.streams.acquire(h, c)
	if !ok {
		release()
		return &Error{Status: 429, Code: CodeTooManyRequests,
			Description: "too many streamed responses at once from " + c.IP() + "; finish one first"}
	}
	sp := newSpool(&h.spoolUsed, h.cfg.SpoolLimit)
	h.metrics.snapshots.Inc()
	go func() {
		err := encode(sp)
		release()
		h.metrics.snapshots.Dec()
		sp.CloseWrite(err)
	}()
	conn := c.Context().Conn()
	stall := h.cfg.StreamStallTimeout
	log, path := h.log, c.Path()
	path = string([]byte(path)) // c's buffers are reused after the handler
	if download && h.plainHTTP11(c) {
		fctx := c.Context()
		fctx.Response.Header.SetContentLength(-1) // chunked
		fctx.Response.Header.SetConnectionClose()
		if h.cfg.Compress {
			// The compress middleware would have said so: another client's
			// copy of this URL may be gzipped.
			fctx.Response.Header.Add(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
		}
		fctx.HijackSetNoResponse(true)
		writeTimeout := h.cfg.WriteTimeout
		// The hijack handler runs once the middleware is done with the
		// response's header: it writes that header itself, then the body.
		// Should fasthttp never call the hijack handler (the connection broke
		// first), the guard frees the encoder, its snapshot and the slot.
		var claimed atomic.Bool
		guard := time.AfterFunc(hijackWait, func() {
			if claimed.CompareAndSwap(false, true) {
				sp.Abort()
				done()
			}
		})
		fctx.Hijack(func(hc net.Conn) {
			if !claimed.CompareAndSwap(false, true) {
				return
			}
			guard.Stop()
			defer done()
			defer sp.Abort()
			if writeTimeout > 0 {
				hc.SetWriteDeadline(time.Now().Add(writeTimeout))
			}
			cut := time.AfterFunc(stall, func() {
				log.Info("stream cut: the client accepted nothing", "path", path, "stall", stall)
				// Close on the hijacked conn does nothing (fasthttp closes it
				// after the handler): close the connection itself, which
				// fails the blocked write.
				closeConn(conn)
			})
			defer cut.Stop()
			if _, err := hc.Write(fctx.Response.Header.Header()); err != nil {
				return
			}
			if err := sendChunked(hc, sp, func() { cut.Reset(stall) }); err != nil && err != errSpoolAborted {
				log.Error("stream failed", "path", path, "err", err)
			}
		})
		return nil
	}
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer done()
		defer sp.Abort()
		// A client that accepts nothing for stall is cut off: closing the
		// connection fails the write that waits on it.
		cut := time.AfterFunc(stall, func() {
			log.Info("stream cut: the client accepted nothing", "path", path, "stall", stall)
			closeConn(conn)
		})
		defer cut.Stop()
		// Each read is written and flushed as one chunk: large reads mean
		// few chunks and few system calls for a download of hundreds of MB.
		buf := make([]byte, streamReadSize)
		for {
			n, err := sp.Read(buf)
			if n > 0 {
				cut.Reset(stall)
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
				if werr := w.Flush(); werr != nil {
					return
				}
			}
			if err != nil {
				if err != io.EOF {
					log.Error("stream failed", "path", path, "err", err)
				}
				return
			}
		}
	})
	return nil
}

// sendChunked writes what sp holds to conn in HTTP/1.1 chunked coding, one
// writev per chunk (size line, the spool's buffers, CRLF), and the last
// chunk at the end; progress runs after every write. It returns the first
// error; the body is then left unfinished, so the client sees it cut.
func sendChunked(conn net.Conn, sp *spool, progress func()) error {
	buf := make([]byte, streamReadSize)
	var size [20]byte
	for {
		parts, mem, err := sp.take(streamReadSize, buf)
		if len(parts) > 0 {
			n := 0
			for _, p := range parts {
				n += len(p)
			}
			if n > 0 {
				line := strconv.AppendInt(size[:0], int64(n), 16)
				line = append(line, '\r', '\n')
				bufs := make(net.Buffers, 0, len(parts)+2)
				bufs = append(bufs, line)
				bufs = append(bufs, parts...)
				bufs = append(bufs, crlf)
				if _, werr := bufs.WriteTo(conn); werr != nil {
					return werr
				}
				progress()
				if mem {
					for _, p := range parts {
						export.Recycle(p)
					}
				}
			}
		}
		if err == io.EOF {
			_, err = conn.Write(lastChunk)
			return err
		}
		if err != nil {
			return err
		}
	}
}

var (
	crlf      = []byte("\r\n")
	lastChunk = []byte("0\r\n\r\n")
)

func closeConn(c net.Conn) {
	if c != nil {
		c.Close()
	}
}

// streamSlots counts the streamed responses in flight per client IP.
type streamSlots struct {
	mu sync.Mutex
	n  map[string]int
}

// acquire takes a slot for c's IP, or reports that it has
// Config.MaxStreamsPerIP already; loopback clients are exempt unless rate
// limits apply to them (RateLimitLoopback). done gives the slot back.
func (s *streamSlots) acquire(h *handlers, c *fiber.Ctx) (done func(), ok bool) {
	max := h.cfg.MaxStreamsPerIP
	ip := c.IP()
	if max <= 0 {
		return func() {}, true
	}
	if pip := net.ParseIP(ip); pip != nil && pip.IsLoopback() && !h.cfg.RateLimitLoopback {
		return func() {}, true
	}
	ip = string([]byte(ip))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	if s.n[ip] >= max {
		return nil, false
	}
	s.n[ip]++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.n[ip]--; s.n[ip] <= 0 {
				delete(s.n, ip)
			}
			s.mu.Unlock()
		})
	}, true
}
