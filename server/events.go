package server

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"incidentmap/geo"
	"incidentmap/incident"
)

// eventsBatch is how many changes one poll of the change log reads.
const eventsBatch = 500

// liveHub wakes the event streams when this process writes, so they need not
// wait for the next poll. Writes by other processes (CLI imports) are found by
// polling the change log.
type liveHub struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next notify. Take it before reading
// the change log, so that a write between the read and the wait is not missed.
func (l *liveHub) wait() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ch == nil {
		l.ch = make(chan struct{})
	}
	return l.ch
}

// notify wakes every stream waiting. Handlers that change incidents (the
// write API, an HTTP import) call it after their transaction commits.
func (l *liveHub) notify() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ch != nil {
		close(l.ch)
		l.ch = nil
	}
}

// eventsParams are the query parameters of the event stream: the items
// filters (paging, ordering and format make no sense on a stream) and since.
var eventsParams = func() []string {
	var out []string
	for _, p := range itemsParams {
		if contains(pageParams, p) {
			continue
		}
		out = append(out, p)
	}
	return append(out, "since")
}()

// events is GET /collections/incidents/events, a Server-Sent Events stream of
// the changes to the incidents: event created, updated or deleted, id the
// change log seq, data the Feature as it is when sent (for deleted, only id
// and event_id). The items filters select which created and updated events
// are sent; deleted events are always sent, since a deleted incident can no
// longer be matched. A client resumes after the seq in Last-Event-ID (or
// since=); without either, the stream starts with the next change. An id
// beyond the change log gets a reset event first: reload everything.
func (h *handlers) events(c *fiber.Ctx) error {
	q, err := h.parseQuery(c, eventsParams)
	if err != nil {
		return err
	}
	f := q.filter
	f.Limit, f.Offset = 0, 0
	ctx, cancel := h.requestContext(c)
	defer cancel()
	after := int64(-1)
	for _, src := range []struct{ name, v string }{
		{"Last-Event-ID", c.Get("Last-Event-ID")}, {"since", c.Query("since")},
	} {
		if src.v == "" {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(src.v), 10, 64)
		if err != nil || n < 0 {
			return badRequest(fmt.Sprintf("%s %q must be an event id (a whole number of at least 0)", src.name, src.v))
		}
		after = n
		break
	}
	v, err := h.store.DataVersion(ctx)
	if err != nil {
		return err
	}
	// An id beyond the change log means the database was replaced (a restored
	// backup): the client's copy is of other data, and waiting for the log to
	// reach its id would hide every change until then. Tell it to reload.
	reset := after > v.Seq
	if after < 0 || reset {
		after = v.Seq
	}
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no") // proxies must not hold events back
	c.Status(http.StatusOK)
	s := &eventStream{st: h.store, live: &h.live, filter: f, after: after, reset: reset, log: h.log,
		poll: h.cfg.EventsPoll, heartbeat: h.cfg.EventsHeartbeat, timeout: h.cfg.RequestTimeout,
		// The transport's write timeout would cut the stream mid-event; end it
		// cleanly before, and the client reconnects with Last-Event-ID.
		life:     h.cfg.WriteTimeout * 9 / 10,
		shutdown: c.Context().Done()}
	// The stream writer runs after this handler returns, so it must not touch c.
	c.Context().SetBodyStreamWriter(s.run)
	return nil
}

// eventStream is one client's stream.
type eventStream struct {
	st        Store
	live      *liveHub
	filter    incident.Filter
	after     int64 // last seq sent
	reset     bool  // open with a reset event: the client's Last-Event-ID is not of this database
	log       interface{ Info(string, ...any) }
	poll      time.Duration
	heartbeat time.Duration
	timeout   time.Duration
	life      time.Duration // the stream ends cleanly after this long
	shutdown  <-chan struct{}
}

// run writes events until the client goes (a write fails) or the server shuts
// down; it ends the response cleanly either way.
func (s *eventStream) run(w *bufio.Writer) {
	// The retry hint and a first comment open the stream at once, so clients
	// see the connection before the first change.
	fmt.Fprintf(w, "retry: 2000\n: incidentmap events after %d\n\n", s.after)
	if s.reset {
		fmt.Fprintf(w, "id: %d\nevent: reset\ndata: {\"seq\":%d}\n\n", s.after, s.after)
	}
	if w.Flush() != nil {
		return
	}
	poll := time.NewTicker(s.poll)
	defer poll.Stop()
	beat := time.NewTicker(s.heartbeat)
	defer beat.Stop()
	end := time.NewTimer(s.life)
	defer end.Stop()
	for {
		wake := s.live.wait()
		more, err := s.send(w)
		if err != nil {
			s.log.Info("event stream ended", "after", s.after, "err", err)
			return
		}
		if more {
			// A long replay still yields to shutdown and the stream's end.
			select {
			case <-s.shutdown:
				return
			case <-end.C:
				return
			default:
				continue
			}
		}
		select {
		case <-s.shutdown:
			fmt.Fprint(w, ": server shutting down\n\n")
			w.Flush()
			return
		case <-end.C:
			fmt.Fprint(w, ": reconnect to continue\n\n")
			w.Flush()
			return
		case <-wake:
		case <-poll.C:
		case <-beat.C:
			if _, err := w.WriteString(": heartbeat\n\n"); err != nil {
				return
			}
			if w.Flush() != nil {
				return
			}
		}
	}
}

// send writes the events of one batch of changes; more is true when the
// batch was full and more may wait.
func (s *eventStream) send(w *bufio.Writer) (more bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	changes, err := s.st.Changes(ctx, s.after, eventsBatch)
	if err != nil || len(changes) == 0 {
		return false, err
	}
	current, err := s.matching(ctx, changes)
	if err != nil {
		return false, err
	}
	buf := make([]byte, 0, 1024)
	for _, ch := range changes {
		buf = buf[:0]
		if ch.Op == "deleted" {
			buf = appendEvent(buf, ch.Seq, ch.Op)
			buf = append(buf, `{"id":`...)
			buf = strconv.AppendInt(buf, ch.IncidentID, 10)
			buf = append(buf, `,"event_id":`...)
			buf = geo.AppendString(buf, ch.EventID)
			buf = append(buf, "}\n\n"...)
		} else if inc, ok := current[ch.IncidentID]; ok {
			buf = appendEvent(buf, ch.Seq, ch.Op)
			buf = geo.AppendFeature(buf, &inc)
			buf = append(buf, "\n\n"...)
		}
		s.after = ch.Seq
		if len(buf) == 0 {
			continue
		}
		if _, err := w.Write(buf); err != nil {
			return false, err
		}
	}
	// Flush at the end of the batch even when the filter sent nothing: the
	// write error tells a gone client from a quiet one.
	if err := w.Flush(); err != nil {
		return false, err
	}
	return len(changes) == eventsBatch, nil
}

func appendEvent(buf []byte, seq int64, op string) []byte {
	buf = append(buf, "id: "...)
	buf = strconv.AppendInt(buf, seq, 10)
	buf = append(buf, "\nevent: "...)
	buf = append(buf, op...)
	return append(buf, "\ndata: "...)
}

// matching reads the incidents of the created and updated changes that the
// stream's filter selects, as they are now.
func (s *eventStream) matching(ctx context.Context, changes []incident.Change) (map[int64]incident.Incident, error) {
	var ids []int64
	for _, ch := range changes {
		if ch.Op != "deleted" {
			ids = append(ids, ch.IncidentID)
		}
	}
	out := map[int64]incident.Incident{}
	if len(ids) == 0 {
		return out, nil
	}
	f := s.filter
	f.IDs = ids
	cur, err := s.st.Incidents(ctx, f, false)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer cur.Close()
	for cur.Next() {
		inc := *cur.Incident()
		out[inc.ID] = inc
	}
	return out, cur.Err()
}
