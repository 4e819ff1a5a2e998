package server_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/server"
	"incidentmap/store"
)

// TestLoad runs 32 clients against a real listener on 127.0.0.1 for a fixed
// time (INCIDENTMAP_LOAD_SECONDS, default 5; `make loadtest` runs 30), mixing
// plain reads, filtered reads and writes while a backup is taken. It passes
// when no request got a 5xx, every acknowledged write is stored, and the
// backup passes integrity_check. Figures are logged, never asserted.
func TestLoad(t *testing.T) {
	seconds := 5
	if s := os.Getenv("INCIDENTMAP_LOAD_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 600 {
			t.Fatalf("INCIDENTMAP_LOAD_SECONDS=%q: want 1..600", s)
		}
		seconds = n
	}
	st := testsrv.OpenSeeded(t)
	token, err := st.CreateToken(context.Background(), "load-test")
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.WriteRateLimit = 0 // the load is the point; loopback is exempt anyway
	srv := testsrv.Start(t, st, &cfg)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	reads := []string{
		"/collections/incidents/items?limit=100",
		"/collections/incidents/items?bbox=43.5,35.9,44.5,36.5",
		"/collections/incidents/items?datetime=2021-01-01/2021-12-31&region=Anbar",
		"/collections/incidents/items?filter=" + "fatalities%3E%3D1",
		"/collections/incidents/items?q=rocket*",
		"/collections/regions/items?datetime=2021-01-01/..",
		"/collections/incidents/items/3",
		"/collections",
	}
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	var requests, failures, serverErrors, writes atomic.Int64
	var acked sync.Map
	var wg sync.WaitGroup
	for c := 0; c < 32; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			for i := 0; time.Now().Before(deadline); i++ {
				if c%4 == 0 && i%5 == 0 { // a quarter of the clients also write, through the write API
					id := fmt.Sprintf("LOAD-%d-%d", c, i)
					body := fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%f,%f]},
						"properties":{"event_id":%q,"event_date":"2023-06-01","event_type":"Battles","geo_precision":2,"source":"synthetic"}}`,
						44+rng.Float64(), 33+rng.Float64(), id)
					req, _ := http.NewRequest("POST", srv.URL+"/collections/incidents/items", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/geo+json")
					req.Header.Set("Authorization", "Bearer "+token)
					resp, err := client.Do(req)
					requests.Add(1)
					if err != nil {
						failures.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					switch {
					case resp.StatusCode >= 500:
						serverErrors.Add(1)
					case resp.StatusCode == http.StatusCreated:
						acked.Store(id, true) // acknowledged: it must be there afterwards
						writes.Add(1)
					default:
						failures.Add(1)
						t.Errorf("write %s: status %d", id, resp.StatusCode)
					}
					continue
				}
				resp, err := client.Get(srv.URL + reads[rng.IntN(len(reads))])
				requests.Add(1)
				if err != nil {
					failures.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					serverErrors.Add(1)
				}
			}
		}(c)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	time.Sleep(time.Duration(seconds) * time.Second / 2)
	if err := st.Backup(context.Background(), backup); err != nil {
		t.Errorf("backup under load: %v", err)
	}
	wg.Wait()
	t.Logf("load: %d reads (%.0f/s), %d writes, %d transport failures, %d 5xx in %ds",
		requests.Load(), float64(requests.Load())/float64(seconds), writes.Load(), failures.Load(), serverErrors.Load(), seconds)
	if serverErrors.Load() > 0 || failures.Load() > 0 {
		t.Fatalf("%d 5xx responses and %d failed requests under load", serverErrors.Load(), failures.Load())
	}
	missing := 0
	acked.Range(func(k, _ any) bool {
		n, err := st.Count(context.Background(), incident.Filter{Equals: []incident.Equal{{Field: "event_id", Value: k}}})
		if err != nil || n != 1 {
			missing++
		}
		return true
	})
	if missing > 0 || writes.Load() == 0 {
		t.Fatalf("%d of %d acknowledged writes are missing", missing, writes.Load())
	}
	if problems, err := store.CheckFile(context.Background(), backup); err != nil || len(problems) > 0 {
		t.Fatalf("backup taken under load: %v %v", problems, err)
	}
	bst, err := store.Open(context.Background(), backup)
	if err != nil {
		t.Fatal(err)
	}
	defer bst.Close()
	if n, _ := bst.Count(context.Background(), incident.Filter{}); n < 13 {
		t.Fatalf("backup holds %d incidents", n)
	}
}
