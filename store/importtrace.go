package store

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// importTrace, when INCIDENTMAP_IMPORT_TRACE is set, makes a bulk load
// write each of its steps with its wall and CPU time (of the whole process)
// to standard error: where an import's time goes, step by step.
var importTrace = os.Getenv("INCIDENTMAP_IMPORT_TRACE") != ""

// traceStep is a step being timed.
type traceStep struct {
	t   time.Time
	cpu time.Duration
}

func startStep() traceStep {
	if !importTrace {
		return traceStep{}
	}
	return traceStep{time.Now(), cpuTime()}
}

// done writes the step's times, named by the first characters of what.
func (s traceStep) done(what string) {
	if importTrace {
		fmt.Fprintf(os.Stderr, "import step: %6.2f s wall %6.2f s CPU  %.60s\n",
			time.Since(s.t).Seconds(), (cpuTime() - s.cpu).Seconds(), what)
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
