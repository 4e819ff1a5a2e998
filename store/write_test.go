package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"incidentmap/incident"
	"incidentmap/internal/testsrv"
	"incidentmap/store"
)

func newIncident(eventID string) incident.Incident {
	return incident.Incident{EventID: eventID, EventDate: "2021-05-08", EventType: "Riots", Lon: 44.36, Lat: 33.31,
		TimePrecision: 1, GeoPrecision: 1}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	st := testsrv.Open(t)
	if on, err := st.HasTokens(ctx); err != nil || on {
		t.Fatalf("HasTokens on a new database = %v, %v; want false", on, err)
	}
	secret, err := st.CreateToken(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != len(store.TokenPrefix)+43 || secret[:4] != store.TokenPrefix {
		t.Fatalf("token %q: want %s and 43 base64url characters", secret, store.TokenPrefix)
	}
	if _, err := st.CreateToken(ctx, "alice"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second token named alice: %v, want ErrConflict", err)
	}
	if name, err := st.TokenName(ctx, secret); err != nil || name != "alice" {
		t.Fatalf("TokenName = %q, %v; want alice", name, err)
	}
	if _, err := st.TokenName(ctx, secret+"x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("wrong token: %v, want ErrNotFound", err)
	}
	if err := st.RevokeToken(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TokenName(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked token: %v, want ErrNotFound", err)
	}
	if err := st.RevokeToken(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking twice: %v, want ErrNotFound", err)
	}
	if on, _ := st.HasTokens(ctx); on {
		t.Fatal("HasTokens after revoking the only token = true")
	}
	toks, err := st.Tokens(ctx)
	if err != nil || len(toks) != 1 || toks[0].Name != "alice" || toks[0].RevokedAt == "" {
		t.Fatalf("Tokens = %+v, %v; want alice revoked", toks, err)
	}
	if _, err := st.CreateToken(ctx, "alice"); err != nil {
		t.Fatalf("a new token may reuse a revoked name: %v", err)
	}
}

func TestWriteKeepsHistory(t *testing.T) {
	ctx := context.Background()
	st := testsrv.Open(t)
	a, err := st.CreateIncident(ctx, newIncident("W-1"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != 1 || a.Admin1 != "Baghdad" || a.UpdatedAt == "" {
		t.Fatalf("created %+v; want id 1, admin1 Baghdad assigned from the point, updated_at set", a)
	}
	var ce *incident.ConflictError
	if _, err := st.CreateIncident(ctx, newIncident("W-1")); !errors.As(err, &ce) || ce.ID != 1 {
		t.Fatalf("duplicate event_id: %v; want ConflictError naming incident 1", err)
	}
	var fe *incident.FieldError
	bad := newIncident("W-2")
	bad.EventDate = "2021-02-30"
	if _, err := st.CreateIncident(ctx, bad); !errors.As(err, &fe) || fe.Field != "event_date" {
		t.Fatalf("bad date: %v; want FieldError on event_date", err)
	}
	up, err := st.UpdateIncident(ctx, a.ID, "alice", func(cur incident.Incident) (incident.Incident, error) {
		cur.Fatalities = 4
		return cur, nil
	})
	if err != nil || up.Fatalities != 4 {
		t.Fatalf("update: %+v, %v", up, err)
	}
	// Writing the same values again changes nothing and adds no history.
	if _, err := st.UpdateIncident(ctx, a.ID, "alice", func(cur incident.Incident) (incident.Incident, error) { return cur, nil }); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("precondition")
	if _, err := st.UpdateIncident(ctx, a.ID, "alice", func(cur incident.Incident) (incident.Incident, error) { return cur, stop }); !errors.Is(err, stop) {
		t.Fatalf("refused change: %v", err)
	}
	if _, err := st.DeleteIncident(ctx, a.ID, "bob", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Incident(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted incident still there: %v", err)
	}
	vs, err := st.History(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].Op != "deleted" || vs[0].ChangedBy != "bob" || vs[1].Op != "updated" || vs[1].ChangedBy != "alice" {
		t.Fatalf("history %+v; want deleted by bob, then updated by alice", vs)
	}
	fatalities := func(v incident.Version) float64 {
		var f struct {
			ID         int64
			Properties struct{ Fatalities float64 }
		}
		if err := json.Unmarshal(v.Feature, &f); err != nil || f.ID != a.ID {
			t.Fatalf("history feature %s: %v", v.Feature, err)
		}
		return f.Properties.Fatalities
	}
	if fatalities(vs[0]) != 4 || fatalities(vs[1]) != 0 {
		t.Fatalf("history keeps fatalities %v, %v; want 4 (deleted version), 0 (before the update)", fatalities(vs[0]), fatalities(vs[1]))
	}
	// The deleted incident's id is never given to a new one.
	b, err := st.CreateIncident(ctx, newIncident("W-3"))
	if err != nil || b.ID != 2 {
		t.Fatalf("after deleting the highest id 1, new incident got id %d (%v); want 2", b.ID, err)
	}
	if _, err := st.History(ctx, 99); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("history of an id never used: %v, want ErrNotFound", err)
	}
	// Upserts by imports keep the previous version too, with no token name.
	u := newIncident("W-3")
	u.Notes = "corrected"
	if _, err := st.Upsert(ctx, []incident.Incident{u}); err != nil {
		t.Fatal(err)
	}
	if vs, err := st.History(ctx, b.ID); err != nil || len(vs) != 1 || vs[0].ChangedBy != "" {
		t.Fatalf("history after an upsert: %+v, %v; want one version with no token", vs, err)
	}
}

// TestUpsertNeverReusesADeletedID: SQLite gives max(id)+1 to a new row, so
// deleting the highest incident would hand its id to the next import.
func TestUpsertNeverReusesADeletedID(t *testing.T) {
	ctx := context.Background()
	st := testsrv.Open(t)
	incs := []incident.Incident{newIncident("U-1"), newIncident("U-2")}
	if _, err := st.Upsert(ctx, incs); err != nil || incs[0].ID != 1 || incs[1].ID != 2 {
		t.Fatalf("first upsert: ids %d, %d (%v); want 1, 2", incs[0].ID, incs[1].ID, err)
	}
	if _, err := st.DeleteIncident(ctx, 2, "t", nil); err != nil {
		t.Fatal(err)
	}
	more := []incident.Incident{newIncident("U-1"), newIncident("U-3"), newIncident("U-4")}
	more[0].Notes = "changed"
	res, err := st.Upsert(ctx, more)
	if err != nil || res.Inserted != 2 || res.Updated != 1 {
		t.Fatalf("second upsert: %+v, %v", res, err)
	}
	if more[0].ID != 1 || more[1].ID != 3 || more[2].ID != 4 {
		t.Fatalf("ids %d, %d, %d; want 1 (kept), 3 and 4 (never 2, which was deleted)", more[0].ID, more[1].ID, more[2].ID)
	}
}

// TestImportCacheGoesBack: the page cache an import enlarges on the writer's
// connection is back to SQLite's default afterwards, so a server that took a
// write does not keep the import's memory.
func TestImportCacheGoesBack(t *testing.T) {
	st := testsrv.Open(t)
	if _, err := st.Upsert(context.Background(), []incident.Incident{newIncident("cache-1")}); err != nil {
		t.Fatal(err)
	}
	if n, err := st.WriterCacheSize(); err != nil || n != -2000 {
		t.Fatalf("writer cache_size after an import: %d, %v; want -2000", n, err)
	}
}
