package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole command to the file named by
// INCIDENTMAP_CPUPROFILE, when set, so an import, export or serve run can be
// measured with `go tool pprof` (docs/benchmarks.md). The returned stop
// flushes the profile.
func startProfile() (stop func(), err error) {
	path := os.Getenv("INCIDENTMAP_CPUPROFILE")
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
