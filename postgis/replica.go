package postgis

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"incidentmap/incident"
)

// replica is a read-only standby (streaming replication) that reads may go to.
type replica struct {
	name  string // the URL without its password, for /readyz and /metrics
	pool  *pgxpool.Pool
	seq   atomic.Int64 // the highest change log seq it has replayed, as last seen (a lower bound)
	ok    atomic.Bool  // it answered the last health check as a standby
	reads atomic.Int64 // reads it served

	mu         sync.Mutex
	why        string  // why it does not answer ("" when it does)
	lagBytes   int64   // WAL the primary has written that it has not replayed
	lagSeconds float64 // how long ago the primary wrote the oldest WAL it has not replayed
}

// replicaCheckEvery is how often each replica's health and position are read.
const replicaCheckEvery = 200 * time.Millisecond

// DefaultReplicaMaxLag is how far behind the primary a replica may replay
// before reads skip it, unless WithReplicaMaxLag says otherwise.
const DefaultReplicaMaxLag = 30 * time.Second

// walHistory is how long the primary's WAL positions are remembered for
// the replicas' lag in seconds; a replica further behind reports at least it.
const walHistory = 10 * time.Minute

// WithReplicas adds read replicas (hot standbys of the primary). A read
// goes to one that answers, replays within the maximum lag, and has
// replayed at least the data version this server last read on the primary
// (every cacheable GET reads it first); otherwise to the primary. Change log
// seqs are taken in commit order (migration 2), so a replica showing seq n
// holds every change up to n, and a GET after a write (by anyone, through
// any server) never reads older data than the write.
func WithReplicas(urls ...string) Option {
	return func(p *PostGIS) { p.replicaURLs = append(p.replicaURLs, urls...) }
}

// WithReplicaMaxLag sets how far behind the primary (in time) a replica may
// replay before reads skip it; 0 keeps DefaultReplicaMaxLag.
func WithReplicaMaxLag(d time.Duration) Option {
	return func(p *PostGIS) {
		if d > 0 {
			p.maxLag = d
		}
	}
}

// walSample is the primary's WAL write position at a moment.
type walSample struct {
	at  time.Time
	lsn int64
}

// walTrack remembers the primary's recent WAL positions, so that a
// replica's replay position converts to a lag in seconds measured on this
// server's clock alone (no clock comparison between hosts).
type walTrack struct {
	mu      sync.Mutex
	samples []walSample // oldest first, positions increasing
}

func (w *walTrack) add(s walSample) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.samples); n > 0 && s.lsn < w.samples[n-1].lsn {
		w.samples = w.samples[:0] // a different primary (failover): start again
	}
	w.samples = append(w.samples, s)
	cut := 0
	for cut < len(w.samples)-1 && s.at.Sub(w.samples[cut].at) > walHistory {
		cut++
	}
	w.samples = w.samples[cut:]
}

// lag is how far replayed trails the primary: the bytes of WAL written
// since, and how long ago the primary first wrote past it.
func (w *walTrack) lag(replayed int64, now time.Time) (int64, float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(w.samples)
	if n == 0 || replayed >= w.samples[n-1].lsn {
		return 0, 0
	}
	bytes := w.samples[n-1].lsn - replayed
	for _, s := range w.samples {
		if s.lsn > replayed {
			return bytes, now.Sub(s.at).Seconds()
		}
	}
	return bytes, 0
}

// openReplicas connects to the replicas and starts their health checks.
func (p *PostGIS) openReplicas(ctx context.Context) error {
	if p.maxLag == 0 {
		p.maxLag = DefaultReplicaMaxLag
	}
	for _, u := range p.replicaURLs {
		cfg, err := poolConfig(u)
		if err != nil {
			return fmt.Errorf("replica: %w", err)
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return fmt.Errorf("replica: %w", err)
		}
		r := &replica{name: redact(u), pool: pool, why: "not checked yet"}
		p.replicas = append(p.replicas, r)
	}
	if len(p.replicas) == 0 {
		return nil
	}
	hctx, cancel := context.WithCancel(context.Background())
	p.stopChecks = cancel
	p.checkReplicas(ctx)
	go func() {
		t := time.NewTicker(replicaCheckEvery)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				p.checkReplicas(hctx)
			}
		}
	}()
	return nil
}

// checkReplicas samples the primary's WAL position, then every replica's
// (each on its own goroutine, so one that hangs delays no other).
func (p *PostGIS) checkReplicas(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	var lsn int64
	err := p.pool.QueryRow(cctx, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint").Scan(&lsn)
	cancel()
	if err == nil {
		p.wal.add(walSample{at: time.Now(), lsn: lsn})
	}
	var wg sync.WaitGroup
	for _, r := range p.replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.check(ctx, &p.wal)
		}()
	}
	wg.Wait()
}

// check reads the replica's replay position and replayed change log seq.
func (r *replica) check(ctx context.Context, wal *walTrack) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var standby bool
	var replayed, seq int64
	err := r.pool.QueryRow(ctx, `SELECT pg_is_in_recovery(),
		coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'), 0)::bigint,
		(SELECT coalesce(max(seq), 0) FROM change_log)`).Scan(&standby, &replayed, &seq)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil:
		r.ok.Store(false)
		r.why = "does not answer"
		return
	case !standby:
		// A promoted standby takes writes of its own: its data may part from
		// the primary's.
		r.ok.Store(false)
		r.why = "is not a standby (promoted?)"
		return
	}
	r.raise(seq)
	r.lagBytes, r.lagSeconds = wal.lag(replayed, time.Now())
	r.why = ""
	r.ok.Store(true)
}

// raise records that the replica has replayed at least seq.
func (r *replica) raise(seq int64) {
	for {
		old := r.seq.Load()
		if seq <= old || r.seq.CompareAndSwap(old, seq) {
			return
		}
	}
}

// usable reports whether reads may go to the replica at all (it answers as
// a standby and replays within the maximum lag), and why not.
func (r *replica) usable(maxLag time.Duration) (bool, string) {
	if !r.ok.Load() {
		r.mu.Lock()
		defer r.mu.Unlock()
		return false, r.why
	}
	r.mu.Lock()
	lag := r.lagSeconds
	r.mu.Unlock()
	if lag > maxLag.Seconds() {
		return false, fmt.Sprintf("replays %.1f s behind the primary (more than %s)", lag, maxLag)
	}
	return true, ""
}

// caughtUp reports whether the replica holds data version need: from its
// last check, or else by asking it now (a write a moment ago is usually
// replayed within milliseconds; the health check comes only every
// replicaCheckEvery). Statements run on it afterwards see at least what
// this answer saw.
func (r *replica) caughtUp(need int64) bool {
	if r.seq.Load() >= need {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	var seq int64
	if err := r.pool.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM change_log").Scan(&seq); err != nil {
		return false
	}
	r.raise(seq)
	return seq >= need
}

// reader is where a read goes: the next replica (round robin) that is
// usable and holds the data version this server last saw on the primary,
// else the primary.
func (p *PostGIS) reader() *pgxpool.Pool {
	need := p.seen.Load()
	for range p.replicas {
		r := p.replicas[p.next.Add(1)%uint64(len(p.replicas))]
		if ok, _ := r.usable(p.maxLag); ok && r.caughtUp(need) {
			r.reads.Add(1)
			return r.pool
		}
	}
	return p.pool
}

// saw records a data version read on the primary: reads after it must see it.
func (p *PostGIS) saw(seq int64) {
	for {
		old := p.seen.Load()
		if seq <= old || p.seen.CompareAndSwap(old, seq) {
			return
		}
	}
}

// ReplicaStates says how each read replica is: whether it answers, its
// replay lag, the reads it served and why reads skip it, if they do (for
// /readyz and /metrics).
func (p *PostGIS) ReplicaStates() []incident.ReplicaState {
	var out []incident.ReplicaState
	need := p.seen.Load()
	for _, r := range p.replicas {
		ok, why := r.usable(p.maxLag)
		r.mu.Lock()
		s := incident.ReplicaState{Name: r.name, OK: r.ok.Load(), Reads: r.reads.Load(),
			Behind: max(0, need-r.seq.Load()), LagBytes: r.lagBytes, LagSeconds: r.lagSeconds}
		r.mu.Unlock()
		if !ok {
			s.Skipped = why
		} else if s.Behind > 0 {
			s.Skipped = "has not replayed the latest changes yet"
		}
		out = append(out, s)
	}
	return out
}

// redact is a URL without its password.
func redact(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return "replica"
	}
	return pu.Redacted()
}
