package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/synth"
)

// changePage is one page of /collections/incidents/changes.
type changePage struct {
	Since   int64 `json:"since"`
	Next    int64 `json:"next"`
	More    bool  `json:"more"`
	Reset   bool  `json:"reset"`
	Changes []struct {
		Seq     int64           `json:"seq"`
		Op      string          `json:"op"`
		ID      int64           `json:"id"`
		EventID string          `json:"event_id"`
		Feature json.RawMessage `json:"feature"`
	} `json:"changes"`
}

// syncClient keeps a copy of the incidents from the change feed.
type syncClient struct {
	srv   *testsrv.Server
	held  map[int64]string // id → the Feature as received
	since int64
}

// page applies one page and returns whether more changes wait.
func (c *syncClient) page(t *testing.T, limit int) bool {
	t.Helper()
	var p changePage
	c.srv.GetJSON(t, fmt.Sprintf("/collections/incidents/changes?since=%d&limit=%d", c.since, limit), 200, &p)
	if p.Reset {
		c.held, c.since = map[int64]string{}, 0
		return true
	}
	last := c.since
	for _, ch := range p.Changes {
		if ch.Seq <= last {
			t.Fatalf("change %d after %d: the feed went back", ch.Seq, last)
		}
		last = ch.Seq
		if ch.Op == "deleted" {
			delete(c.held, ch.ID)
		} else {
			c.held[ch.ID] = string(ch.Feature)
		}
	}
	c.since = p.Next
	return p.More
}

// serverSet is every incident the server has, as items gives it.
func serverSet(t *testing.T, srv *testsrv.Server) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	path := "/collections/incidents/items?limit=10000"
	for path != "" {
		var fc struct {
			Features []json.RawMessage `json:"features"`
			Links    []link            `json:"links"`
		}
		srv.GetJSON(t, path, 200, &fc)
		for _, f := range fc.Features {
			var id struct{ ID int64 }
			json.Unmarshal(f, &id)
			out[id.ID] = string(f)
		}
		path = ""
		for _, l := range fc.Links {
			if l.Rel == "next" {
				path = strings.TrimPrefix(l.Href, srv.URL)
			}
		}
	}
	return out
}

// TestChangeFeedSyncsUnderRandomWrites syncs a client from the change feed
// in small pages while another goroutine creates, updates and deletes
// incidents at random; now and then the client loses its place and resumes
// from a since it saved earlier. When the writes stop and the client has
// read to the end, it must hold exactly the server's incidents, byte for
// byte.
func TestChangeFeedSyncsUnderRandomWrites(t *testing.T) {
	st := testsrv.OpenSeeded(t)
	srv := testsrv.Start(t, st, nil)
	ctx := context.Background()
	rng := rand.New(rand.NewSource(13))

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		wr := rand.New(rand.NewSource(14))
		ids := []int64{}
		for i := int64(1); i <= 13; i++ {
			ids = append(ids, i)
		}
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			switch op := wr.Intn(10); {
			case op < 5 || len(ids) == 0:
				inc := synth.Incident(77, n)
				inc.ID = 0
				out, err := st.CreateIncident(ctx, inc)
				if err != nil {
					t.Errorf("create: %v", err)
					return
				}
				ids = append(ids, out.ID)
			case op < 8:
				id := ids[wr.Intn(len(ids))]
				_, err := st.UpdateIncident(ctx, id, "test", func(cur incident.Incident) (incident.Incident, error) {
					cur.Fatalities = wr.Intn(50)
					cur.Notes = fmt.Sprintf("update %d", n)
					return cur, nil
				})
				if err != nil {
					t.Errorf("update %d: %v", id, err)
					return
				}
			default:
				k := wr.Intn(len(ids))
				if _, err := st.DeleteIncident(ctx, ids[k], "test", nil); err != nil {
					t.Errorf("delete %d: %v", ids[k], err)
					return
				}
				ids = append(ids[:k], ids[k+1:]...)
			}
			time.Sleep(time.Millisecond)
		}
	}()

	c := &syncClient{srv: srv, held: map[int64]string{}}
	saved := []int64{0}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		c.page(t, 1+rng.Intn(20))
		saved = append(saved, c.since)
		if rng.Intn(15) == 0 {
			// Lost its place: back to a since saved a while ago. The
			// changes after it come again; applying them twice is harmless.
			c.since = saved[rng.Intn(len(saved))]
		}
	}
	close(stop)
	wg.Wait()
	for c.page(t, 7) {
	}
	c.page(t, 7) // and once more after "no more", as a polling client would
	want := serverSet(t, srv)
	if len(c.held) != len(want) {
		t.Fatalf("the client holds %d incidents, the server %d", len(c.held), len(want))
	}
	for id, f := range want {
		if c.held[id] != f {
			t.Fatalf("incident %d:\nclient %s\nserver %s", id, c.held[id], f)
		}
	}
	if len(saved) < 20 {
		t.Fatalf("only %d pages read while writing: the test synced too little to mean much", len(saved))
	}
	t.Logf("%d pages, %d incidents in sync", len(saved), len(want))
}

func TestChangeFeedFormatsAndErrors(t *testing.T) {
	w := startWriter(t)
	srv := w.srv
	var p changePage
	srv.GetJSON(t, "/collections/incidents/changes?limit=5", 200, &p)
	if len(p.Changes) != 5 || !p.More || p.Next != p.Changes[4].Seq || p.Changes[0].Op != "created" || p.Changes[0].ID != 1 {
		t.Fatalf("first page: %+v", p)
	}
	// A deletion is in the feed as its id; updated_since finds the update.
	// updated_at is kept to the second: step past the seeding's second.
	time.Sleep(1100 * time.Millisecond)
	before := time.Now().UTC().Format(time.RFC3339)
	w.send(t, "PATCH", "/collections/incidents/items/2", "application/merge-patch+json", `{"properties":{"fatalities":7}}`, nil)
	w.send(t, "DELETE", "/collections/incidents/items/3", "", "", nil)
	p = changePage{}
	srv.GetJSON(t, "/collections/incidents/changes?since=13", 200, &p)
	if len(p.Changes) != 2 || p.Changes[0].Op != "updated" || p.Changes[0].ID != 2 || p.Changes[1].Op != "deleted" ||
		p.Changes[1].ID != 3 || p.Changes[1].Feature != nil || p.More {
		t.Fatalf("after the writes: %+v", p)
	}
	var fc featureCollection
	srv.GetJSON(t, "/collections/incidents/items?updated_since="+before, 200, &fc)
	if got := fmt.Sprint(fc.ids()); got != "[2]" {
		t.Fatalf("updated_since=%s: %s; want [2]", before, got)
	}
	// GeoJSON text sequence: one Feature per change, the next since in headers.
	resp, body := do(t, "GET", srv.URL+"/collections/incidents/changes?since=13&f=geojsonseq", nil, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/geo+json-seq" || resp.Header.Get("X-Next-Since") != "15" ||
		!strings.Contains(resp.Header.Get("Link"), "since=15") {
		t.Fatalf("geojsonseq: %d %v", resp.StatusCode, resp.Header)
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	var recs []map[string]any
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != 0x1e {
			t.Fatalf("record without RS: %q", line)
		}
		var m map[string]any
		if err := json.Unmarshal(line[1:], &m); err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		recs = append(recs, m)
	}
	if len(recs) != 2 || recs[0]["type"] != "Feature" || recs[0]["change"].(map[string]any)["op"] != "updated" ||
		recs[1]["geometry"] != nil || recs[1]["change"].(map[string]any)["op"] != "deleted" || recs[1]["id"] != 3.0 {
		t.Fatalf("geojsonseq records: %v", recs)
	}
	// A since beyond the log: reset.
	p = changePage{}
	srv.GetJSON(t, "/collections/incidents/changes?since=999999", 200, &p)
	if !p.Reset || p.Next != 0 || len(p.Changes) != 0 {
		t.Fatalf("since beyond the log: %+v", p)
	}
	for q, status := range map[string]int{"since=-1": 400, "since=x": 400, "limit=0": 400, "f=csv": 406, "bbox=1,2,3,4": 400} {
		if resp, body := do(t, "GET", srv.URL+"/collections/incidents/changes?"+q, nil, nil); resp.StatusCode != status {
			t.Errorf("%s: %d %s; want %d", q, resp.StatusCode, body, status)
		}
	}
	if resp, _ := do(t, "GET", srv.URL+"/collections/incidents/items?updated_since=yesterday", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("updated_since=yesterday: %d; want 400", resp.StatusCode)
	}
}
