package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestTokenCommands(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "t.db")
	var out, errs bytes.Buffer
	if err := run(ctx, []string{"token", "create", "--name", "alice", "--db", db}, &out, &errs); err != nil {
		t.Fatalf("create: %v (%s)", err, errs.String())
	}
	secret := strings.TrimSpace(out.String())
	if !strings.HasPrefix(secret, "imk_") || len(secret) != 47 || strings.Contains(out.String(), "alice") {
		t.Fatalf("create printed %q; want only the token on stdout", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"token", "list", "--db", db}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "alice") || !strings.Contains(out.String(), "valid") || strings.Contains(out.String(), secret) {
		t.Fatalf("list: %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"token", "revoke", "--name", "alice", "--db", db}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"token", "list", "--db", db}, &out, &errs); err != nil || !strings.Contains(out.String(), "revoked") {
		t.Fatalf("list after revoke: %q %v", out.String(), err)
	}
	for _, args := range [][]string{{"token"}, {"token", "create", "--db", db}, {"token", "frobnicate"}} {
		if err := run(ctx, args, &out, &errs); exitCode(err) != 2 {
			t.Fatalf("%v: %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
	if err := run(ctx, []string{"token", "revoke", "--name", "nobody", "--db", db}, &out, &errs); err == nil || exitCode(err) != 1 {
		t.Fatalf("revoking an unknown token: %v", err)
	}
}
