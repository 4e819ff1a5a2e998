package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
)

// startProfile writes a CPU profile of the whole command to the file named by
// INCIDENTMAP_CPUPROFILE, when set, so an import, export or serve run can be
// measured with `go tool pprof` (docs/benchmarks.md); and a heap profile to
// the file named by INCIDENTMAP_MEMPROFILE when the command ends (serve
// writes it on SIGTERM before it lets go of its caches: see heapProfileNow),
// to see what a long-running server keeps. The returned stop flushes both.
func startProfile() (stop func(), err error) {
	stopCPU, err := startCPUProfile(os.Getenv("INCIDENTMAP_CPUPROFILE"))
	if err != nil {
		return nil, err
	}
	return func() {
		stopCPU()
		heapProfileNow()
	}, nil
}

// heapProfileNow writes the heap profile INCIDENTMAP_MEMPROFILE names, once:
// a later call does nothing.
func heapProfileNow() {
	heapOnce.Do(func() {
		if path := os.Getenv("INCIDENTMAP_MEMPROFILE"); path != "" {
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintln(os.Stderr, "INCIDENTMAP_MEMPROFILE:", err)
			}
		}
	})
}

var heapOnce sync.Once

func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("INCIDENTMAP_CPUPROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("INCIDENTMAP_CPUPROFILE: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeHeapProfile writes the live heap as of a fresh collection: what the
// process keeps, not what it has yet to free.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
