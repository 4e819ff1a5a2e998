// Command soak runs mixed hostile traffic against `incidentmap serve` for a
// while (make soak: 10 minutes over a 1,000,000-incident database) and
// reports the server's peak RSS, the WAL's peak size, the errors seen and
// whether any acknowledged write was lost (checked once more after a
// restart). It is not part of make test: it takes minutes and a large file.
//
// The traffic, all at once from loopback: ordinary reads (pages, bbox pages,
// tiles, single features, counts per region), writes with a token (POST of
// new incidents, PATCH of existing ones) whose acknowledged results are
// remembered, and the attacks of issues 14 and 15: downloads read 2 KB and
// abandoned (stalled readers), slowloris connections, conflicting
// Content-Length, hostile forwarded headers, gzip bombs, oversized offsets,
// bad parameters, write preflights from foreign origins and event streams.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"incidentmap/scripts/internal/serverproc"
)

func main() {
	bin := flag.String("bin", "./incidentmap", "the incidentmap binary")
	db := flag.String("db", "soak-data/soak-1m.db", "database to serve (it is written to)")
	dur := flag.Duration("duration", 10*time.Minute, "how long the traffic runs")
	logFile := flag.String("log", "", "write the server's log (JSON) to this file")
	flag.Parse()
	serverLog = *logFile
	if err := run(*bin, *db, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// counters are what the traffic saw.
type counters struct {
	requests, serverErrors, transportErrors atomic.Int64
	hostile, hostileWrong                   atomic.Int64
	writesAcked, writesRefused              atomic.Int64
	stalled, slowloris, events              atomic.Int64
	mu                                      sync.Mutex
	examples                                []string
}

func (c *counters) note(format string, a ...any) {
	c.mu.Lock()
	if len(c.examples) < 12 {
		c.examples = append(c.examples, fmt.Sprintf(format, a...))
	}
	c.mu.Unlock()
}

// acked is every acknowledged write: the feature id and the fatalities it
// must have. A later acknowledged write to the same id replaces the value.
type acked struct {
	mu sync.Mutex
	m  map[int64]int
}

func (a *acked) set(id int64, fat int) {
	a.mu.Lock()
	a.m[id] = fat
	a.mu.Unlock()
}

// serverLog is the file the server's log goes to; "" discards it.
var serverLog string

// start serves db on addr for the soak: no rate limits, stalled streams
// cut after 20 s, the log as JSON (to -log).
func start(bin, db, addr string) (*serverproc.Server, error) {
	var log io.Writer
	if serverLog != "" {
		f, err := os.OpenFile(serverLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		log = f
	}
	return serverproc.Start(bin, db, addr, log, 3*time.Minute, "--rate-limit", "0", "--write-rate-limit", "0",
		"--stream-stall-timeout", "20s", "--log-format", "json")
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func run(bin, db string, dur time.Duration) error {
	out, err := exec.Command(bin, "token", "create", "--name", fmt.Sprintf("soak-%d", time.Now().UnixNano()), "--db", db).Output()
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	token := strings.TrimSpace(string(out))
	addr, err := serverproc.FreeAddr()
	if err != nil {
		return err
	}
	srv, err := start(bin, db, addr)
	if err != nil {
		return err
	}
	defer srv.Kill()
	pid := srv.Pid()
	fmt.Printf("soak: %s serving %s (pid %d) for %v\n", bin, db, pid, dur)

	var c counters
	ack := &acked{m: map[int64]int{}}
	var walPeak atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var wg sync.WaitGroup
	spawn := func(n int, f func(ctx context.Context, r *rand.Rand)) {
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, 15))
				for ctx.Err() == nil {
					f(ctx, r)
				}
			}(uint64(i) + uint64(time.Now().UnixNano()))
		}
	}
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	get := func(path string, want ...int) {
		c.requests.Add(1)
		resp, err := client.Get(srv.Base + path)
		if err != nil {
			if ctx.Err() == nil {
				c.transportErrors.Add(1)
				c.note("GET %s: %v", path, err)
			}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			c.serverErrors.Add(1)
			c.note("GET %s: %d", path, resp.StatusCode)
		}
	}

	// Ordinary readers.
	spawn(8, func(ctx context.Context, r *rand.Rand) {
		lon, lat := 40+r.Float64()*6, 30+r.Float64()*6
		switch r.IntN(6) {
		case 0:
			get(fmt.Sprintf("/collections/incidents/items?limit=100&offset=%d", r.IntN(100000)))
		case 1:
			get(fmt.Sprintf("/collections/incidents/items?bbox=%.3f,%.3f,%.3f,%.3f&limit=1000", lon, lat, lon+0.5, lat+0.5))
		case 2:
			z := 6 + r.IntN(5)
			n := float64(int(1) << z)
			x, y := n*(180+lon)/360, n*0.38
			get(fmt.Sprintf("/collections/incidents/tiles/WebMercatorQuad/%d/%d/%d", z, int(x), int(y)))
		case 3:
			get(fmt.Sprintf("/collections/incidents/items/%d", 1+r.IntN(1000000)))
		case 4:
			get("/collections/regions/items?datetime=2021-01-01/2021-12-31")
		case 5:
			get(fmt.Sprintf("/collections/incidents/items?q=drone&datetime=%d-01-01/%d-12-31&limit=50", 2016+r.IntN(10), 2016+r.IntN(10)))
		}
	})

	// Writers: new incidents and patches of existing ones; every 2xx is remembered.
	var postSeq atomic.Int64
	runID := time.Now().Unix()
	spawn(4, func(ctx context.Context, r *rand.Rand) {
		var req *http.Request
		fat := r.IntN(1000)
		if r.IntN(2) == 0 {
			body := fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%.4f,%.4f]},"properties":{"event_id":"SOAK-%d-%d","event_date":"2024-05-01","event_type":"Battles","fatalities":%d,"notes":"soak"}}`,
				40+r.Float64()*6, 30+r.Float64()*6, runID, postSeq.Add(1), fat)
			req, _ = http.NewRequest("POST", srv.Base+"/collections/incidents/items", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/geo+json")
		} else {
			id := 1 + r.IntN(1000000)
			req, _ = http.NewRequest("PATCH", fmt.Sprintf("%s/collections/incidents/items/%d", srv.Base, id),
				strings.NewReader(fmt.Sprintf(`{"properties":{"fatalities":%d}}`, fat)))
			req.Header.Set("Content-Type", "application/merge-patch+json")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		c.requests.Add(1)
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				c.transportErrors.Add(1)
				c.note("%s: %v", req.Method, err)
			}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == 200 || resp.StatusCode == 201:
			var f struct {
				ID         int64 `json:"id"`
				Properties struct {
					Fatalities int `json:"fatalities"`
				} `json:"properties"`
			}
			if json.Unmarshal(b, &f) == nil && f.ID > 0 {
				ack.set(f.ID, f.Properties.Fatalities)
				c.writesAcked.Add(1)
			}
		case resp.StatusCode >= 500:
			c.serverErrors.Add(1)
			c.note("%s: %d %s", req.Method, resp.StatusCode, b)
		default:
			c.writesRefused.Add(1)
		}
	})

	// Stalled readers: a download read for 2 KB, then left open until the
	// server cuts it.
	spawn(4, func(ctx context.Context, r *rand.Rand) {
		formats := []string{"geojson", "csv", "geojsonseq", "kml"}
		conn, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /collections/incidents/download?f=%s HTTP/1.1\r\nHost: %s\r\n\r\n", formats[r.IntN(4)], srv.Addr)
		io.ReadFull(conn, make([]byte, 2048))
		c.stalled.Add(1)
		select {
		case <-ctx.Done():
		case <-time.After(30 * time.Second):
		}
	})

	// Slowloris: headers sent a byte a second.
	spawn(8, func(ctx context.Context, r *rand.Rand) {
		conn, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			return
		}
		defer conn.Close()
		c.slowloris.Add(1)
		for _, b := range []byte("GET /collections HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("a", 100)) {
			if ctx.Err() != nil {
				return
			}
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(time.Second)
		}
	})

	// Event stream subscribers that reconnect now and then.
	spawn(4, func(ctx context.Context, r *rand.Rand) {
		cctx, ccancel := context.WithTimeout(ctx, time.Duration(5+r.IntN(20))*time.Second)
		defer ccancel()
		req, _ := http.NewRequestWithContext(cctx, "GET", srv.Base+"/collections/incidents/events", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		c.events.Add(1)
		io.Copy(io.Discard, bufio.NewReader(resp.Body))
		resp.Body.Close()
	})

	// Hostile single requests: each must be a 4xx, never a 5xx or a hang.
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zw.Write([]byte(`{"type":"Feature","properties":{"notes":"`))
	zw.Write(bytes.Repeat([]byte("A"), 64<<20))
	zw.Close()
	hostile := func(r *rand.Rand) (string, int) {
		switch r.IntN(7) {
		case 0:
			return "GET /collections/regions/items?offset=9223372036854775708 HTTP/1.1\r\nHost: h\r\n\r\n", 400
		case 1:
			return "GET /collections?f=json HTTP/1.1\r\nHost: h\r\nX-Forwarded-Proto: javascript:alert(1)//\r\nX-Forwarded-Host: evil.example\r\n\r\n", 200
		case 2:
			return fmt.Sprintf("POST /collections/incidents/items HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\nContent-Type: application/geo+json\r\nContent-Length: 50\r\nContent-Length: 2\r\n\r\n{}", token), 400
		case 3:
			return fmt.Sprintf("POST /collections/incidents/items HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\nContent-Type: application/geo+json\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", token, bomb.Len(), bomb.Bytes()), 413
		case 4:
			return "OPTIONS /collections/incidents/items HTTP/1.1\r\nHost: h\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: DELETE\r\n\r\n", 204
		case 5:
			return "GET /collections/incidents/items?bbox=1,2,3&limit=-4&filter=((((( HTTP/1.1\r\nHost: h\r\n\r\n", 400
		default:
			return "GET /collections/incidents/items?bbox=170,-10,-170,10 HTTP/1.1\r\nHost: h\r\n\r\n", 200
		}
	}
	spawn(2, func(ctx context.Context, r *rand.Rand) {
		req, want := hostile(r)
		conn, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		c.hostile.Add(1)
		conn.Write([]byte(req))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			if ctx.Err() == nil {
				c.hostileWrong.Add(1)
				c.note("hostile %q: %v", req[:min(60, len(req))], err)
			}
			return
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			c.serverErrors.Add(1)
		}
		if resp.StatusCode != want {
			c.hostileWrong.Add(1)
			c.note("hostile %q: %d, want %d", req[:min(60, len(req))], resp.StatusCode, want)
		}
		if want == 204 && strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "DELETE") {
			c.hostileWrong.Add(1)
			c.note("a foreign origin got a DELETE preflight")
		}
		time.Sleep(100 * time.Millisecond)
	})

	// The monitor: RSS and WAL every second.
	var rssPeak atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			if w := fileSize(db + "-wal"); w > walPeak.Load() {
				walPeak.Store(w)
			}
			if r := serverproc.ProcKB(pid, "VmRSS"); r > rssPeak.Load() {
				rssPeak.Store(r)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	wg.Wait()
	hwm := serverproc.ProcKB(pid, "VmHWM")
	walEnd := fileSize(db + "-wal")
	// Once the abandoned downloads are cut and their encoders done, the
	// checkpointer may truncate the WAL: wait up to a minute, then measure.
	var walAfter int64
	for i := 0; i < 60; i++ {
		if walAfter = fileSize(db + "-wal"); walAfter <= 32<<20 {
			break
		}
		time.Sleep(time.Second)
	}

	// Every acknowledged write, read back from the running server, then after
	// a restart (SIGTERM, checkpoint, start again).
	lost := verify(srv.Base, ack)
	if err := srv.Stop(); err != nil {
		fmt.Printf("soak: server exit: %v\n", err)
	}
	srv2, err := start(bin, db, addr)
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	lostAfter := verify(srv2.Base, ack)
	srv2.Stop()

	fmt.Printf("\n| measure | value |\n|---|---|\n")
	fmt.Printf("| duration | %v |\n", dur)
	fmt.Printf("| requests (reads, writes, hostile) | %d |\n", c.requests.Load()+c.hostile.Load())
	fmt.Printf("| writes acknowledged / refused (4xx) | %d / %d (%d distinct incidents) |\n", c.writesAcked.Load(), c.writesRefused.Load(), len(ack.m))
	fmt.Printf("| stalled downloads / slowloris connections / event streams | %d / %d / %d |\n", c.stalled.Load(), c.slowloris.Load(), c.events.Load())
	fmt.Printf("| hostile requests / answered otherwise than expected | %d / %d |\n", c.hostile.Load(), c.hostileWrong.Load())
	fmt.Printf("| server errors (5xx) | %d |\n", c.serverErrors.Load())
	fmt.Printf("| transport errors on ordinary requests | %d |\n", c.transportErrors.Load())
	fmt.Printf("| server peak RSS (VmHWM; sampled VmRSS peak) | %.0f MB (%.0f MB) |\n", float64(hwm)/1024, float64(rssPeak.Load())/1024)
	fmt.Printf("| WAL peak (sampled each second) / at the end / up to 60 s later | %.1f MB / %.1f MB / %.1f MB |\n",
		float64(walPeak.Load())/(1<<20), float64(walEnd)/(1<<20), float64(walAfter)/(1<<20))
	fmt.Printf("| acknowledged writes lost (running / after restart) | %d / %d |\n", lost, lostAfter)
	for _, e := range c.examples {
		fmt.Println("  e.g.", e)
	}
	if lost > 0 || lostAfter > 0 {
		return fmt.Errorf("%d acknowledged writes lost", max(lost, lostAfter))
	}
	return nil
}

// verify reads every acknowledged incident back and counts those missing or
// with other fatalities than the last acknowledged write gave them.
func verify(base string, ack *acked) int {
	lost := 0
	for id, fat := range ack.m {
		resp, err := http.Get(fmt.Sprintf("%s/collections/incidents/items/%d", base, id))
		if err != nil {
			lost++
			continue
		}
		var f struct {
			Properties struct {
				Fatalities int `json:"fatalities"`
			} `json:"properties"`
		}
		err = json.NewDecoder(resp.Body).Decode(&f)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || f.Properties.Fatalities != fat {
			lost++
		}
	}
	return lost
}
