package postgis

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"incidentmap/incident"
)

// replica is a read-only standby (streaming replication) that reads may go to.
type replica struct {
	name  string // the URL without its password, for /readyz
	pool  *pgxpool.Pool
	seq   atomic.Int64 // the highest change log seq it has replayed, as last seen
	ok    atomic.Bool  // it answered the last health check
	reads atomic.Int64 // reads it served
	why   atomic.Value // string: why it is skipped
}

// replicaCheckEvery is how often each replica's health and position are read.
const replicaCheckEvery = 200 * time.Millisecond

// WithReplicas adds read replicas (hot standbys of the primary): reads go to
// one that answers and has replayed at least the data version the primary
// last showed this server, else to the primary. So a GET after a write (by
// anyone, through any server that saw it) never reads older data than the
// write, and a replica that lags or fails is skipped.
func WithReplicas(urls ...string) Option {
	return func(p *PostGIS) { p.replicaURLs = append(p.replicaURLs, urls...) }
}

// openReplicas connects to the replicas and starts their health checks.
func (p *PostGIS) openReplicas(ctx context.Context) error {
	for _, u := range p.replicaURLs {
		cfg, err := pgxpool.ParseConfig(u)
		if err != nil {
			return fmt.Errorf("replica: %w", err)
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return fmt.Errorf("replica: %w", err)
		}
		r := &replica{name: redact(u), pool: pool}
		r.why.Store("not checked yet")
		p.replicas = append(p.replicas, r)
	}
	if len(p.replicas) == 0 {
		return nil
	}
	hctx, cancel := context.WithCancel(context.Background())
	p.stopChecks = cancel
	for _, r := range p.replicas {
		r.check(ctx)
		go func() {
			t := time.NewTicker(replicaCheckEvery)
			defer t.Stop()
			for {
				select {
				case <-hctx.Done():
					return
				case <-t.C:
					r.check(hctx)
				}
			}
		}()
	}
	return nil
}

// check reads the replica's replayed change log position.
func (r *replica) check(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var seq int64
	if err := r.pool.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM change_log").Scan(&seq); err != nil {
		r.ok.Store(false)
		r.why.Store("does not answer")
		return
	}
	r.seq.Store(seq)
	r.ok.Store(true)
	r.why.Store("")
}

// reader is where a read goes: the next replica (round robin) that answers
// and has caught up with the data version this server last saw on the
// primary, else the primary.
func (p *PostGIS) reader() *pgxpool.Pool {
	need := p.seen.Load()
	for range p.replicas {
		r := p.replicas[p.next.Add(1)%uint64(len(p.replicas))]
		if r.ok.Load() && r.seq.Load() >= need {
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

// replicaStates says how each replica is, for readiness.
func (p *PostGIS) replicaStates() []incident.ReplicaState {
	var out []incident.ReplicaState
	need := p.seen.Load()
	for _, r := range p.replicas {
		s := incident.ReplicaState{Name: r.name, OK: r.ok.Load(), Reads: r.reads.Load(), Behind: max(0, need-r.seq.Load())}
		if why, _ := r.why.Load().(string); why != "" {
			s.Skipped = why
		} else if s.Behind > 0 {
			s.Skipped = "behind the primary"
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
