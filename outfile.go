package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// outFile is where a command writes its output file (export --out, gen --out).
// A regular file, or a name that does not exist yet, is written beside itself
// and renamed into place on Commit, so a failure never leaves half a file
// under the real name. Anything else that exists — a device such as
// /dev/null, a FIFO, a terminal, /dev/stdout — is written through, never
// replaced: renaming a temporary file over /dev/null would turn the device
// into a regular file for the whole machine. A symlink is followed on
// purpose: the file it points to is written (a regular target replaced by
// rename, so the link itself stays), and a link pointing nowhere is refused
// rather than guessed at.
type outFile struct {
	*os.File
	final string      // the regular file the rename lands on; "" when written through
	mode  fs.FileMode // the replaced file's permissions, kept
	keep  bool        // the mode of an existing file is kept
	done  bool
}

// createOut opens path for writing as outFile describes.
func createOut(path string) (*outFile, error) {
	fi, err := os.Stat(path) // follows symlinks
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if li, lerr := os.Lstat(path); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(path)
			return nil, fmt.Errorf("%s is a symbolic link to %q, which does not exist; name the file itself", path, target)
		}
		return createRenamed(path, 0, false)
	case err != nil:
		return nil, err
	case fi.IsDir():
		return nil, fmt.Errorf("%s is a directory", path)
	case fi.Mode().IsRegular():
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return nil, err
		}
		return createRenamed(real, fi.Mode().Perm(), true)
	}
	// A device, FIFO, socket or terminal: write to it as it is. No O_CREATE,
	// so a race that removed it fails instead of creating a regular file.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	return &outFile{File: f}, nil
}

// createRenamed opens a temporary file beside final for Commit to rename.
func createRenamed(final string, mode fs.FileMode, keep bool) (*outFile, error) {
	f, err := os.CreateTemp(filepath.Dir(final), "."+filepath.Base(final)+".*.partial")
	if err != nil {
		return nil, err
	}
	return &outFile{File: f, final: final, mode: mode, keep: keep}, nil
}

// Commit closes the file and, for a regular file, renames it into place with
// the replaced file's permissions (0644 less the umask for a new one, as
// os.Create would give).
func (o *outFile) Commit() error {
	o.done = true
	if o.final == "" {
		return o.File.Close()
	}
	tmp := o.Name()
	err := o.Sync()
	if o.keep {
		err = errors.Join(err, o.Chmod(o.mode))
	} else {
		err = errors.Join(err, o.Chmod(0o666&^umask()))
	}
	if err = errors.Join(err, o.File.Close()); err == nil {
		err = os.Rename(tmp, o.final)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// Abort closes the file and removes the temporary file, if any; after Commit
// it does nothing, so it can be deferred.
func (o *outFile) Abort() {
	if o.done {
		return
	}
	o.done = true
	o.File.Close()
	if o.final != "" {
		os.Remove(o.Name())
	}
}

// Regular reports whether the output is a regular file (renamed into place).
func (o *outFile) Regular() bool { return o.final != "" }

// Final is the file the output lands on: the regular file (symlinks
// resolved) or the path written through.
func (o *outFile) Final() string {
	if o.final != "" {
		return o.final
	}
	return o.Name()
}

var _ io.Writer = (*outFile)(nil)

// umask is the process's file mode creation mask.
func umask() fs.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return fs.FileMode(m)
}
