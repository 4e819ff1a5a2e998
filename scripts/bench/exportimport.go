package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"incidentmap/scripts/internal/serverproc"
)

// The rows of issue 16's export and import targets: full downloads over
// HTTP in each streamed format with the server's CPU time and memory (the
// peak during the download alone, and what it keeps after), and the
// command line import of an ACLED CSV of the same incidents into a new
// database. CPU seconds are given beside wall time because on a shared
// machine the wall time says more about the neighbours than the server.

// procStatCPU is a process's user + system CPU time so far (Linux /proc).
func procStatCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count fields after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

// resetPeak starts a new VmHWM for pid (Linux: clear_refs 5), so the next
// reading is the peak of what follows; false when the kernel refuses.
func resetPeak(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

// exportImportRows downloads every incident in each streamed format and
// imports an ACLED CSV export of db (made once beside it) into a new
// database.
func exportImportRows(bin, db string, s *server) ([]row, error) {
	pid := s.cmd.Process.Pid
	var out []row
	for _, f := range []string{"geojson", "geojsonseq", "csv"} {
		before := vmRSS(pid)
		peak := "peak during"
		if !resetPeak(pid) {
			peak = "peak since start"
		}
		cpu0 := procStatCPU(pid)
		d, size, _, err := s.get("/collections/incidents/download?f=" + f)
		if err != nil {
			return nil, err
		}
		cpu := procStatCPU(pid) - cpu0
		hwm := vmHWM(pid)
		time.Sleep(time.Second) // what the server keeps, not what it frees at once
		out = append(out, row{fmt.Sprintf("full download over HTTP, /collections/incidents/download?f=%s (one request, 1,000,000 features)", f),
			"≤ 1.5 s, RSS ≤ 64 MB",
			fmt.Sprintf("%s for %d MB; server CPU %.1f s; RSS %s before, %s %s, %s after (load %s)",
				ms(d), size>>20, cpu.Seconds(), before, peak, hwm, vmRSS(pid), loadavg())})
	}

	csvFile := strings.TrimSuffix(db, ".db") + ".acled.csv"
	if _, err := os.Stat(csvFile); err != nil {
		if _, _, err := timeCommand(bin, "export", "--db", db, "--format", "csv", "--out", csvFile); err != nil {
			return nil, err
		}
	}
	target := strings.TrimSuffix(db, ".db") + ".import-csv-bench.db"
	clean := func() {
		for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
			os.Remove(target + suffix)
		}
	}
	clean()
	defer clean()
	load := loadavg()
	d, rss, err := timeCommand(bin, "import", "--quiet", "--db", target, csvFile)
	if err != nil {
		return nil, err
	}
	out = append(out, row{"incidentmap import of 1,000,000 rows (ACLED CSV, into a new database)", "≤ 10 s, ≤ 128 MB",
		fmt.Sprintf("%s, peak RSS %d MB (load %s)", ms(d), rss>>20, load)})
	return out, nil
}

// vmRSS is a process's resident set size now, from /proc (Linux).
func vmRSS(pid int) string {
	kb := serverproc.ProcKB(pid, "VmRSS")
	if kb == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%d MB", kb/1024)
}
