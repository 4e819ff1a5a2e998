package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/server"
)

// sseEvent is one Server-Sent Event as a client sees it.
type sseEvent struct {
	ID, Event, Data string
}

// sseClient reads an event stream in the background.
type sseClient struct {
	resp   *http.Response
	events chan sseEvent
	beats  chan struct{} // one per heartbeat comment
	done   chan struct{} // closed when the stream ends
	err    error         // why it ended; nil for a clean end (read after done)
}

// openEvents connects to the event stream at path with extra headers.
func openEvents(t *testing.T, url string, hdr map[string]string) *sseClient {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		t.Fatalf("GET %s: %d %q", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{resp: resp, events: make(chan sseEvent, 100), beats: make(chan struct{}, 1000), done: make(chan struct{})}
	opened := make(chan struct{})
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev sseEvent
		first := true
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if first {
					close(opened) // the stream's opening comment arrived
					first = false
				}
				if ev.Event != "" {
					c.events <- ev
				}
				ev = sseEvent{}
			case line == ": heartbeat":
				select {
				case c.beats <- struct{}{}:
				default:
				}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.Data = line[6:]
			}
		}
		c.err = sc.Err()
	}()
	t.Cleanup(func() { resp.Body.Close() })
	select {
	case <-opened:
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream sent nothing on opening")
	}
	return c
}

// next waits for the next event.
func (c *sseClient) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case ev := <-c.events:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return sseEvent{}
}

// none checks that no event arrives within d.
func (c *sseClient) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-c.events:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(d):
	}
}

// eventFeature checks an event's name and returns its feature's id and event_id.
func eventFeature(t *testing.T, ev sseEvent, want string) (int64, string) {
	t.Helper()
	var f struct {
		ID         int64  `json:"id"`
		EventID    string `json:"event_id"`
		Properties struct {
			EventID    string  `json:"event_id"`
			Fatalities float64 `json:"fatalities"`
		}
	}
	if ev.Event != want || json.Unmarshal([]byte(ev.Data), &f) != nil {
		t.Fatalf("event %+v, want %s with JSON data", ev, want)
	}
	if want == "deleted" {
		return f.ID, f.EventID
	}
	return f.ID, f.Properties.EventID
}

func TestEventsFollowWritesAndResume(t *testing.T) {
	w := startWriter(t)
	events := w.srv.URL + "/collections/incidents/events"
	live := openEvents(t, events, nil)

	second := strings.Replace(newFeature, "API-1", "API-2", 1)
	steps := []struct{ method, path, ctype, body string }{
		{"POST", "/collections/incidents/items", "application/geo+json", newFeature}, // 14
		{"POST", "/collections/incidents/items", "application/geo+json", second},     // 15
		{"PATCH", "/collections/incidents/items/14", "application/merge-patch+json", `{"properties":{"fatalities":5}}`},
		{"DELETE", "/collections/incidents/items/15", "", ""},
	}
	want := []struct {
		event   string
		id      int64
		eventID string
	}{{"created", 14, "API-1"}, {"created", 15, "API-2"}, {"updated", 14, "API-1"}, {"deleted", 15, "API-2"}}
	var seqs []string // the events' ids as sent
	last := int64(-1)
	// Each write's event is awaited before the next write: a stream that
	// reads the change log after several writes sends one event per incident
	// (its latest state), as a replay does, so writing all four first would
	// race with the stream on a busy machine.
	for i, s := range steps {
		if resp, body := w.send(t, s.method, s.path, s.ctype, s.body, nil); resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", s.method, s.path, resp.StatusCode, body)
		}
		wt := want[i]
		ev := live.next(t)
		if id, eventID := eventFeature(t, ev, wt.event); id != wt.id || eventID != wt.eventID {
			t.Fatalf("%s event for %d %q, want %d %s", wt.event, id, eventID, wt.id, wt.eventID)
		}
		seq, err := strconv.ParseInt(ev.ID, 10, 64)
		if err != nil || seq <= last {
			t.Fatalf("event id %q does not grow after %v", ev.ID, seqs)
		}
		last = seq
		seqs = append(seqs, ev.ID)
	}
	live.none(t, 300*time.Millisecond)

	// Resuming after the second event sends exactly the two after it, with the same ids.
	resumed := openEvents(t, events, map[string]string{"Last-Event-ID": seqs[1]})
	for i, wt := range want[2:] {
		ev := resumed.next(t)
		if id, _ := eventFeature(t, ev, wt.event); id != wt.id || ev.ID != seqs[i+2] {
			t.Fatalf("resumed event %+v, want %s of %d with id %s", ev, wt.event, wt.id, seqs[i+2])
		}
	}
	resumed.none(t, 300*time.Millisecond)

	// since= does the same for clients that cannot set headers; since=0
	// replays from the start: the seed's 13 creations, then 14's creation and
	// update (with its current data). 15's creation is not sent, since 15 no
	// longer exists; its deletion is.
	fromStart := openEvents(t, events+"?since=0", nil)
	for i := int64(1); i <= 14; i++ {
		if id, _ := eventFeature(t, fromStart.next(t), "created"); id != i {
			t.Fatalf("replayed creation %d is incident %d", i, id)
		}
	}
	if id, _ := eventFeature(t, fromStart.next(t), "updated"); id != 14 {
		t.Fatalf("replayed update of %d, want 14", id)
	}
	if id, _ := eventFeature(t, fromStart.next(t), "deleted"); id != 15 {
		t.Fatalf("replay ends with deletion of %d, want 15", id)
	}
	fromStart.none(t, 300*time.Millisecond)

	if r, b := do(t, "GET", events+"?since=x", nil, nil); r.StatusCode != 400 {
		t.Fatalf("since=x: %d %s", r.StatusCode, b)
	}
	if r, b := do(t, "GET", events+"?limit=5", nil, nil); r.StatusCode != 400 {
		t.Fatalf("limit on the stream: %d %s", r.StatusCode, b)
	}
}

func TestEventsFilterAndOtherWriters(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.EventsPoll = 50 * time.Millisecond
	cfg.EventsHeartbeat = 100 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := testsrv.Start(t, testsrv.OpenSeeded(t), &cfg)
	// Only Riots in Anbar.
	stream := openEvents(t, srv.URL+"/collections/incidents/events?event_type=Riots&region=Anbar", nil)
	mk := func(eventID, eventType string, lon, lat float64) incident.Incident {
		return incident.Incident{EventID: eventID, EventDate: "2021-03-01", EventType: eventType, TimePrecision: 1,
			GeoPrecision: 1, Lon: lon, Lat: lat}
	}
	// Written through the store, as another process (a CLI import) would: no
	// in-process notification, so the stream finds them by polling.
	if _, err := srv.Store.Upsert(context.Background(), []incident.Incident{
		mk("F-1", "Battles", 43.3, 33.4), // Anbar, not Riots
		mk("F-2", "Riots", 44.01, 36.19), // Riots, Erbil
		mk("F-3", "Riots", 43.3, 33.4),   // Riots in Anbar: the one to send
	}); err != nil {
		t.Fatal(err)
	}
	id, eventID := eventFeature(t, stream.next(t), "created")
	if id != 16 || eventID != "F-3" {
		t.Fatalf("filtered stream sent %d %s, want 16 F-3", id, eventID)
	}
	stream.none(t, 300*time.Millisecond)
	select {
	case <-stream.beats:
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat comment on an idle stream")
	}

	// The server shutting down ends the stream cleanly, without waiting for the timeout.
	if err := srv.App.ShutdownWithTimeout(5 * time.Second); err != nil {
		t.Fatalf("shutdown with an open event stream: %v", err)
	}
	select {
	case <-stream.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream did not end on shutdown")
	}
}

func TestEventsEndCleanlyBeforeTheWriteTimeout(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.WriteTimeout = time.Second
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := testsrv.Start(t, testsrv.OpenSeeded(t), &cfg)
	stream := openEvents(t, srv.URL+"/collections/incidents/events?since=12", nil)
	if id, _ := eventFeature(t, stream.next(t), "created"); id != 13 {
		t.Fatalf("since=12 sent incident %d first, want 13", id)
	}
	select {
	case <-stream.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived the write timeout")
	}
	// A clean end: the chunked body is terminated, so the client sees EOF, not
	// a cut connection, and reconnects with Last-Event-ID.
	if stream.err != nil {
		t.Fatalf("the stream ended with %v, want a clean end", stream.err)
	}
}

func TestEventsResetForAnUnknownLastEventID(t *testing.T) {
	srv := testsrv.StartSeeded(t)
	// The seed made 13 changes; a client coming back with 500 saw another database.
	stream := openEvents(t, srv.URL+"/collections/incidents/events", map[string]string{"Last-Event-ID": "500"})
	ev := stream.next(t)
	if ev.Event != "reset" || ev.ID != "13" || ev.Data != `{"seq":13}` {
		t.Fatalf("first event %+v; want reset to seq 13", ev)
	}
	// After the reset it follows the log from there.
	if _, err := srv.Store.Upsert(context.Background(), []incident.Incident{{EventID: "R-1", EventDate: "2021-03-01",
		EventType: "Riots", TimePrecision: 1, GeoPrecision: 1, Lon: 44.4, Lat: 33.3}}); err != nil {
		t.Fatal(err)
	}
	if ev := stream.next(t); ev.Event != "created" || ev.ID != "14" {
		t.Fatalf("after the reset: %+v; want created with id 14", ev)
	}
}
