package postgis

import (
	"context"
	"fmt"
	"sync"
	"time"

	"incidentmap/internal/bgcount"
)

// How a page's numberMatched is had, as the SQLite engine has it (issue 16:
// every filtered first page ≤ 50 ms at ten million incidents, never a wrong
// number): from the count cache when the filter was counted for the data
// version this server last read; else, for a page that allows it
// (Filter.MayDeferCount) on a table of deferCountRows ids or more, the count
// runs in the background (bgcount) while the page is read in its own
// statement, and the cursor's Matched waits for it until countWait after
// the query began. A count not done by then leaves numberMatched out; it is
// in the cache for the next request of the same filter. Smaller tables,
// HTML pages of more than a buffer, streams and downloads count first.

// deferCountRows is the table size (in ids) from which a page's count may be
// left to the background (the SQLite engine's).
const deferCountRows = 250000

// countWait is how long a page waits for a background count.
const countWait = 20 * time.Millisecond

// WithCountDeferral sets the table size (in ids) from which a page whose
// filter allows it (Filter.MayDeferCount) may go without numberMatched while
// its count runs in the background; the default is 250,000. A non-nil gate
// holds every background count until it is closed: tests lower the size
// and hold the counts to see pages go without them.
func WithCountDeferral(minRows int64, gate <-chan struct{}) Option {
	return func(p *PostGIS) { p.deferRows, p.bgGate = minRows, gate }
}

// idSpanCache keeps the table's id span (max − min + 1) for a while: whether
// counts may be deferred depends on the table's size, which a page should
// not ask the database for every time.
type idSpanCache struct {
	mu   sync.Mutex
	span int64
	at   time.Time
}

// idSpanFor is how long a read id span is used.
const idSpanFor = 10 * time.Second

// mayDefer says whether a page's count may be left to the background: the
// table spans deferCountRows ids or more.
func (p *PostGIS) mayDefer(ctx context.Context) (bool, error) {
	min := p.deferRows
	if min <= 0 {
		min = deferCountRows
	}
	c := &p.span
	c.mu.Lock()
	span, fresh := c.span, time.Since(c.at) < idSpanFor
	c.mu.Unlock()
	if !fresh {
		// Two index seeks (min and max of the primary key).
		if err := p.reader().QueryRow(ctx, "SELECT coalesce(max(id) - min(id) + 1, 0) FROM incidents").Scan(&span); err != nil {
			return false, fmt.Errorf("id span: %w", err)
		}
		c.mu.Lock()
		c.span, c.at = span, time.Now()
		c.mu.Unlock()
	}
	return span >= min, nil
}

// pendingCount is a count a cursor may still get: the background job and
// where its number will be.
type pendingCount struct {
	p        *PostGIS
	job      *bgcount.Job
	key      string
	version  int64
	deadline time.Time
}

// wait waits for the job until the deadline and returns the count of the
// version the page was asked at, if known by then.
func (c *pendingCount) wait() (int64, bool) {
	c.job.Wait(c.deadline)
	return c.p.counts.get(c.key, c.version)
}

// deferCount starts (or joins) the background count of q for a page begun
// at t0.
func (p *PostGIS) deferCount(q *query, t0 time.Time) *pendingCount {
	key := countKey(q)
	version := p.seen.Load()
	job := p.bg.Start(key, func(ctx context.Context) { _, _ = p.countIn(ctx, p.reader(), q) })
	return &pendingCount{p: p, job: job, key: key, version: version, deadline: t0.Add(countWait)}
}
