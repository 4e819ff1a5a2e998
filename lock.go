package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// errLocked says another process serves the database.
var errLocked = errors.New("the database is in use by a running incidentmap serve")

// lockDatabase takes an exclusive advisory lock on dbPath+".lock", held by
// serve for its whole life so that restore can tell the database is in use.
// Other commands (seed, import, backup) share the database safely through
// SQLite's own locking and do not take it.
func lockDatabase(dbPath string) (release func(), err error) {
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", dbPath, err)
	}
	f, err := os.OpenFile(dbPath+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dbPath, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dbPath, errLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", dbPath, err)
	}
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
