package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"incidentmap/internal/testsrv"
)

// BenchmarkWriteToEvent measures a POST through the HTTP API until an open
// event stream has delivered its created event: the latency a map sees.
func BenchmarkWriteToEvent(b *testing.B) {
	srv := testsrv.StartSeeded(b)
	tok, err := srv.Store.CreateToken(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/collections/incidents/events")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := strings.Replace(newFeature, "API-1", fmt.Sprintf("BENCH-%d", i), 1)
		req, _ := http.NewRequest("POST", srv.URL+"/collections/incidents/items", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/geo+json")
		r, err := http.DefaultClient.Do(req)
		if err != nil || r.StatusCode != 201 {
			b.Fatalf("POST: %v %v", err, r)
		}
		r.Body.Close()
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), "event: created") {
				break
			}
		}
	}
}
