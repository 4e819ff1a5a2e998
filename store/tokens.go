package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"incidentmap/incident"
)

// TokenPrefix is incident.TokenPrefix.
const TokenPrefix = incident.TokenPrefix

// CreateToken makes a new random token named name, stores its hash and returns
// the secret, which cannot be recovered later. A name already in use by a valid
// token is refused with an error wrapping ErrConflict.
func (s *SQLite) CreateToken(ctx context.Context, name string) (string, error) {
	name, secret, err := incident.NewToken(name)
	if err != nil {
		return "", err
	}
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM tokens WHERE name = ? AND revoked_at IS NULL", name).Scan(&one)
		if err == nil {
			return fmt.Errorf("token %q exists; revoke it first or choose another name: %w", name, ErrConflict)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("token %q: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO tokens (name, hash) VALUES (?, ?)", name, incident.HashToken(secret)); err != nil {
			return fmt.Errorf("store token %q: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Tokens lists every token, valid and revoked, oldest first.
func (s *SQLite) Tokens(ctx context.Context) ([]incident.Token, error) {
	rows, err := s.ro.QueryContext(ctx, "SELECT id, name, created_at, coalesce(revoked_at, '') FROM tokens ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []incident.Token
	for rows.Next() {
		var t incident.Token
		if err := rows.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.RevokedAt); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes the valid token named name; it returns an error wrapping
// ErrNotFound when there is none. The row stays, marked revoked.
func (s *SQLite) RevokeToken(ctx context.Context, name string) error {
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			"UPDATE tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE name = ? AND revoked_at IS NULL", name)
		if err != nil {
			return fmt.Errorf("revoke token %q: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("no valid token named %q: %w", name, ErrNotFound)
		}
		return nil
	})
}

// TokenName returns the name of the valid token secret, or an error wrapping
// ErrNotFound when it is unknown or revoked. The lookup is by hash, so the
// secret is never compared byte by byte and its timing reveals nothing of it.
func (s *SQLite) TokenName(ctx context.Context, secret string) (string, error) {
	var name string
	err := s.ro.QueryRowContext(ctx, "SELECT name FROM tokens WHERE hash = ? AND revoked_at IS NULL", incident.HashToken(secret)).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("token: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("token lookup: %w", err)
	}
	return name, nil
}

// HasTokens reports whether at least one valid token exists; without one the
// write API is off.
func (s *SQLite) HasTokens(ctx context.Context) (bool, error) {
	var n int
	if err := s.ro.QueryRowContext(ctx, "SELECT count(*) FROM tokens WHERE revoked_at IS NULL").Scan(&n); err != nil {
		return false, fmt.Errorf("count tokens: %w", err)
	}
	return n > 0, nil
}
