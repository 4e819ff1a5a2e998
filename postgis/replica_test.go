package postgis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"incidentmap/geo"
	"incidentmap/internal/pgtest"
	"incidentmap/internal/testsrv"
	"incidentmap/postgis"
	"incidentmap/seed"
	"incidentmap/server"
)

// TestReadReplica runs a real streaming replica (pg_basebackup of a primary,
// started as a hot standby): reads are served from it, a GET right after a
// write sees the write, and a stopped replica is skipped without errors and
// named in /readyz.
func TestReadReplica(t *testing.T) {
	ctx := context.Background()
	pgtest.Shared(t) // skips off CI, or fails on CI, when PostgreSQL is missing
	primary, err := pgtest.New()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	defer primary.Stop()
	conn, err := pgx.Connect(ctx, primary.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE rt"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	url := primary.URL("rt")
	p0 := openPostGISAt(t, url)
	incs, err := geo.IncidentsFromGeoJSON(seed.IncidentsGeoJSON)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p0.Upsert(ctx, incs); err != nil {
		t.Fatal(err)
	}
	token, err := p0.CreateToken(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	standby, err := primary.Standby()
	if err != nil {
		t.Fatal(err)
	}
	defer standby.Stop()
	p, err := postgis.Open(ctx, url, postgis.WithRegions(testsrv.Regions(t)), postgis.WithReplicas(standby.URL("rt")))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cfg := server.DefaultConfig()
	cfg.WarmTiles = false
	srv := testsrv.StartEngine(t, p, &cfg, nil)

	type readyz struct {
		Status   string
		Replicas []struct {
			OK      bool
			Behind  int64
			Reads   int64
			Skipped string
		}
	}
	ready := func() readyz {
		t.Helper()
		var r readyz
		srv.GetJSON(t, "/readyz", 200, &r)
		if len(r.Replicas) != 1 {
			t.Fatalf("readyz %+v: want one replica", r)
		}
		return r
	}
	page := 0
	matched := func() int {
		t.Helper()
		// A new page each time: pages are cached per data version.
		page++
		var fc struct{ NumberMatched int }
		srv.GetJSON(t, fmt.Sprintf("/collections/incidents/items?limit=1&offset=%d", page), 200, &fc)
		return fc.NumberMatched
	}
	deadline := time.Now().Add(10 * time.Second)
	for r := ready(); !r.Replicas[0].OK || r.Replicas[0].Behind > 0; r = ready() {
		if time.Now().After(deadline) {
			t.Fatalf("the replica never caught up: %+v", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for range 10 {
		if n := matched(); n != 13 {
			t.Fatalf("numberMatched %d; want 13", n)
		}
	}
	if r := ready(); r.Replicas[0].Reads < 10 {
		t.Fatalf("the replica served %d reads of 10 pages; want them all", r.Replicas[0].Reads)
	}

	// A write, then at once a read: never older than the write.
	req, _ := http.NewRequest("POST", srv.URL+"/collections/incidents/items", strings.NewReader(
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[44.36,33.31]},"properties":{"event_id":"RYW-1","event_date":"2024-05-02","event_type":"Riots"}}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/geo+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if n := matched(); n != 14 {
		t.Fatalf("right after the write numberMatched is %d; want 14", n)
	}

	// The replica stops: reads go on from the primary, readyz names it.
	if err := standby.StopServer(); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for r := ready(); r.Replicas[0].OK; r = ready() {
		if time.Now().After(deadline) {
			t.Fatalf("readyz still calls the stopped replica fine: %+v", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for range 5 {
		if n := matched(); n != 14 {
			t.Fatalf("with the replica down numberMatched %d; want 14", n)
		}
	}
	r := ready()
	if r.Status != "ready" || r.Replicas[0].Skipped == "" {
		b, _ := json.Marshal(r)
		t.Fatalf("readyz with the replica down: %s", b)
	}
}
