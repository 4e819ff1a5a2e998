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

// lockDatabase takes the exclusive advisory lock that serve holds for its
// whole life, so that restore (and a second serve) can tell the database is
// in use. The lock is on the database file itself (flock, by inode), so a
// hard link or symlink to a served database is locked too; SQLite's own
// locks are POSIX record locks, which flock does not touch. DB.lock beside
// the file's real path (symlinks resolved) is locked as well and carries the
// pid, for people and older builds. Other commands (seed, import, backup)
// share the database through SQLite's own locking and do not take it.
func lockDatabase(dbPath string) (release func(), err error) {
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", dbPath, err)
	}
	// An empty file is an empty SQLite database; creating it here gives the
	// lock an inode before SQLite first opens it.
	db, err := os.OpenFile(dbPath, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dbPath, err)
	}
	if err := flockNB(db, dbPath); err != nil {
		db.Close()
		return nil, err
	}
	real, err := filepath.EvalSymlinks(dbPath)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("lock %s: %w", dbPath, err)
	}
	f, err := os.OpenFile(real+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("lock %s: %w", dbPath, err)
	}
	if err := flockNB(f, dbPath); err != nil {
		f.Close()
		db.Close()
		return nil, err
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
		// Closing db after the store: a close drops this process's POSIX
		// locks on the inode, which SQLite must no longer hold by then.
		syscall.Flock(int(db.Fd()), syscall.LOCK_UN)
		db.Close()
	}, nil
}

// flockNB takes an exclusive flock on f without waiting.
func flockNB(f *os.File, dbPath string) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%s: %w", dbPath, errLocked)
		}
		return fmt.Errorf("lock %s: %w", dbPath, err)
	}
	return nil
}
