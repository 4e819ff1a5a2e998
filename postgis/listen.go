package postgis

import (
	"context"
	"fmt"
	"time"
)

// ListenChanges calls fn after every statement that changed incidents,
// whichever server, import or psql session made it: the triggers NOTIFY
// incidentmap_changes and this LISTENs on one connection of its own. It runs
// until ctx ends, reconnecting after a failure (and calling fn then too, as
// changes may have passed unheard), and returns ctx's error.
func (p *PostGIS) ListenChanges(ctx context.Context, fn func()) error {
	wait := 100 * time.Millisecond
	for {
		err := p.listen(ctx, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_ = err // the connection broke: listen again, after a pause that grows to 5 s
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
		fn()
	}
}

func (p *PostGIS) listen(ctx context.Context, fn func()) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// A connection that listens stays out of the pool afterwards: its
	// session state (LISTEN) must not reach another user.
	pc := conn.Hijack()
	defer pc.Close(context.Background())
	if _, err := pc.Exec(ctx, "LISTEN incidentmap_changes"); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	for {
		if _, err := pc.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		fn()
	}
}
