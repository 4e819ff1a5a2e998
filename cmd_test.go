package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"incidentmap/incident"
	"incidentmap/store"
)

// runCLI runs the program in-process and returns its output.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestBackupRestoreCheck(t *testing.T) {
	dir := t.TempDir()
	db, bak := filepath.Join(dir, "a.db"), filepath.Join(dir, "backup", "b.db")
	if out, err := runCLI(t, "seed", "--db", db); err != nil || !strings.Contains(out, "13 inserted") {
		t.Fatalf("seed: %v %s", err, out)
	}
	if out, err := runCLI(t, "backup", "--db", db, "--to", bak); err != nil || !strings.Contains(out, "integrity ok") {
		t.Fatalf("backup: %v %s", err, out)
	}
	if out, err := runCLI(t, "check", "--db", bak); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("check: %v %s", err, out)
	}
	// Change the live database, then restore the backup over it.
	ctx := context.Background()
	st, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	inc, _ := st.Incident(ctx, 1)
	inc.Fatalities = 99
	st.Upsert(ctx, []incident.Incident{inc})
	st.Close()

	release, err := lockDatabase(db) // as a running serve holds it
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "restore", "--db", db, "--from", bak); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("restore while served: %v %s; want a refusal", err, out)
	}
	release()
	if out, err := runCLI(t, "restore", "--db", db, "--from", bak); err != nil {
		t.Fatalf("restore: %v %s", err, out)
	}
	st, err = openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got, _ := st.Incident(ctx, 1); got.Fatalities != 0 {
		t.Fatalf("after restore incident 1 has %d fatalities; want the backup's 0", got.Fatalities)
	}
	// A damaged file is refused and leaves the database alone.
	bad := filepath.Join(dir, "bad.db")
	os.WriteFile(bad, bytes.Repeat([]byte("not sqlite "), 1000), 0o644)
	if _, err := runCLI(t, "restore", "--db", db, "--from", bad); err == nil {
		t.Fatal("restore from a damaged file succeeded")
	}
	if _, err := runCLI(t, "check", "--db", bad); err == nil {
		t.Fatal("check of a damaged file passed")
	}
	if n, _ := st.Count(ctx, incident.Filter{}); n != 13 {
		t.Fatalf("after a refused restore the database holds %d incidents", n)
	}
}

// buildBinary compiles the program once per test run, with the project's tags.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "incidentmap-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "incidentmap")
	out, err := exec.Command("go", "build", "-tags", "sqlite_fts5", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syntheticIncidents makes n incidents around Baghdad, marked synthetic.
func syntheticIncidents(prefix string, from, n int) []incident.Incident {
	incs := make([]incident.Incident, n)
	for i := range incs {
		k := from + i
		incs[i] = incident.Incident{EventID: fmt.Sprintf("%s-%d", prefix, k), EventDate: "2022-03-01", TimePrecision: 1,
			EventType: "Battles", GeoPrecision: 1, Lon: 44 + float64(k%500)/1000, Lat: 33 + float64(k/500%500)/1000,
			Admin1: "Baghdad", Source: "synthetic", Notes: strings.Repeat("synthetic incident text ", 8)}
	}
	return incs
}

func TestSIGTERMFinishesInFlightRequests(t *testing.T) {
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "a.db")
	st, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Upsert(ctx, syntheticIncidents("SYN-TERM", 0, 20000)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", addr, "--compress=false")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	waitReady(t, base)

	const clients = 8
	type result struct {
		returned int
		err      error
	}
	results := make(chan result, clients)
	started := make(chan struct{}, clients)
	for i := 0; i < clients; i++ {
		go func(i int) {
			resp, err := http.Get(fmt.Sprintf("%s/collections/incidents/items?limit=10000&offset=%d", base, i*1000))
			if err != nil {
				results <- result{err: err}
				return
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			br.Peek(1) // the response has begun
			started <- struct{}{}
			var fc struct{ NumberReturned int }
			if err := json.NewDecoder(br).Decode(&fc); err != nil {
				results <- result{err: err}
				return
			}
			results <- result{returned: fc.NumberReturned}
		}(i)
	}
	for i := 0; i < clients; i++ {
		<-started
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < clients; i++ {
		r := <-results
		if r.err != nil || r.returned != 10000 {
			t.Errorf("in-flight request: %d features, %v; want 10000 complete", r.returned, r.err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM; logs:\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not exit within 30 s of SIGTERM; logs:\n%s", logs.String())
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("the server still answers after exiting")
	}
	if problems, err := store.CheckFile(ctx, db); err != nil || len(problems) > 0 {
		t.Fatalf("database after shutdown: %v %v", problems, err)
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not become ready", base)
}

// TestHelperWriter is not a test: TestSIGKILLDuringWrites runs the test binary
// again with INCIDENTMAP_TEST_WRITER set, and this function then writes
// batches of incidents until it is killed, printing each acknowledged total.
func TestHelperWriter(t *testing.T) {
	db := os.Getenv("INCIDENTMAP_TEST_WRITER")
	if db == "" {
		t.Skip("only run as the writer process of TestSIGKILLDuringWrites")
	}
	ctx := context.Background()
	st, err := openStore(ctx, db)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for batch := 0; ; batch++ {
		if _, err := st.Upsert(ctx, syntheticIncidents("SYN-KILL", batch*500, 500)); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Printf("acked %d\n", (batch+1)*500)
	}
}

func TestSIGKILLDuringWrites(t *testing.T) {
	db := filepath.Join(t.TempDir(), "a.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
	cmd.Env = append(os.Environ(), "INCIDENTMAP_TEST_WRITER="+db)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	acked := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error") {
			t.Fatalf("writer: %s", line)
		}
		if n, ok := strings.CutPrefix(line, "acked "); ok {
			acked, _ = strconv.Atoi(n)
			if acked >= 5000 {
				break
			}
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	io.Copy(io.Discard, stdout)
	cmd.Wait()
	if acked < 5000 {
		t.Fatalf("writer acknowledged only %d rows before it stopped", acked)
	}
	ctx := context.Background()
	if problems, err := store.CheckFile(ctx, db); err != nil || len(problems) > 0 {
		t.Fatalf("after SIGKILL: integrity %v %v", problems, err)
	}
	st, err := openStore(ctx, db)
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer st.Close()
	n, err := st.Count(ctx, incident.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	// Every acknowledged batch is there, and batches are whole.
	if n < int64(acked) || n%500 != 0 {
		t.Fatalf("after SIGKILL: %d incidents; acknowledged %d in whole batches of 500", n, acked)
	}
}
