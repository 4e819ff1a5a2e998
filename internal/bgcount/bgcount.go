// Package bgcount runs the counts that pages do not wait for (issue 16:
// every filtered first page ≤ 50 ms at ten million incidents): an engine
// starts a filter's count here, waits for it a short while, and when it is
// not done the page goes without numberMatched; the count, when it ends, is
// in the engine's own count cache for the next request of the filter. Both
// engines use it, so a count is never run twice at once and the counts in
// the background are bounded alike.
package bgcount

import (
	"context"
	"sync"
	"time"
)

// Max bounds the counts running at once: a filter asked while they run is
// counted by a later request that finds room.
const Max = 2

// Timeout ends a count that has not finished.
const Timeout = 10 * time.Minute

// Runner runs background counts, one per key at a time, at most Max at
// once, until Close. The zero value is not usable: see New.
type Runner struct {
	mu      sync.Mutex
	running map[string]*Job
	ctx     context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
	gate    <-chan struct{}
}

// New is a Runner; a non-nil gate holds every count until it is closed
// (tests hold counts to see pages go without them).
func New(gate <-chan struct{}) *Runner {
	ctx, stop := context.WithCancel(context.Background())
	return &Runner{running: map[string]*Job{}, ctx: ctx, stop: stop, gate: gate}
}

// Job is one background count.
type Job struct{ done chan struct{} }

// Wait waits for the job until deadline; it says whether the job has ended
// (its count, if it succeeded, is then where the job put it). A nil job has
// not ended.
func (j *Job) Wait(deadline time.Time) bool {
	if j == nil {
		return false
	}
	d := time.Until(deadline)
	if d <= 0 {
		select {
		case <-j.done:
			return true
		default:
			return false
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-j.done:
		return true
	case <-t.C:
		return false
	}
}

// Start returns the running count of key, or starts count (which keeps the
// number itself; nobody waits for its error: the next request of the filter
// counts again) on a context that Close cancels; nil when Max counts run
// already or the runner is closed.
func (r *Runner) Start(key string, count func(ctx context.Context)) *Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	if j, ok := r.running[key]; ok {
		return j
	}
	if r.ctx.Err() != nil || len(r.running) >= Max {
		return nil
	}
	j := &Job{done: make(chan struct{})}
	r.running[key] = j
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			r.mu.Lock()
			delete(r.running, key)
			r.mu.Unlock()
			close(j.done)
		}()
		ctx, cancel := context.WithTimeout(r.ctx, Timeout)
		defer cancel()
		if r.gate != nil {
			select {
			case <-r.gate:
			case <-ctx.Done():
				return
			}
		}
		count(ctx)
	}()
	return j
}

// Close cancels the running counts and waits for them to end.
func (r *Runner) Close() {
	r.stop()
	r.wg.Wait()
}
