package main

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lmode is the type and permissions of path itself (symlinks not followed).
func lmode(path string) fs.FileMode {
	fi, err := os.Lstat(path)
	if err != nil {
		return 0
	}
	return fi.Mode()
}

// TestExportOutFIFO exports into a named pipe: the reader on the other end
// gets the whole collection and the pipe is still a pipe afterwards (before,
// a temporary file was renamed over it, as over /dev/null when run as root).
func TestExportOutFIFO(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	mustCLI(t, "seed", "--db", db)
	for _, format := range []string{"geojson", "gpkg"} {
		t.Run(format, func(t *testing.T) {
			fifo := filepath.Join(dir, "pipe-"+format)
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			got := make(chan []byte, 1)
			go func() {
				f, err := os.Open(fifo)
				if err != nil {
					got <- nil
					return
				}
				b, _ := io.ReadAll(f)
				f.Close()
				got <- b
			}()
			mustCLI(t, "export", "--db", db, "--format", format, "--out", fifo)
			var b []byte
			select {
			case b = <-got:
			case <-time.After(10 * time.Second):
				t.Fatalf("nothing reached the FIFO's reader in 10 s; %s is now %v", fifo, lmode(fifo))
			}
			switch format {
			case "geojson":
				var fc struct{ Features []json.RawMessage }
				if err := json.Unmarshal(b, &fc); err != nil || len(fc.Features) != 13 {
					t.Fatalf("read %d bytes from the FIFO, %d features, err %v", len(b), len(fc.Features), err)
				}
			case "gpkg":
				if !bytes.HasPrefix(b, []byte("SQLite format 3\x00")) || len(b) < 4096 {
					t.Fatalf("read %d bytes from the FIFO, not a GeoPackage: %q", len(b), b[:min(len(b), 16)])
				}
			}
			fi, err := os.Lstat(fifo)
			if err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
				t.Fatalf("after the export %s is %v (err %v), want a named pipe", fifo, fi.Mode(), err)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".pipe-*")); len(left) > 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}
}

// TestExportOutSymlink follows a symlink on purpose: the file it points to
// gets the export, keeps its permissions, and the link stays a link. A link
// to nothing is refused and creates nothing.
func TestExportOutSymlink(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	mustCLI(t, "seed", "--db", db)
	target := filepath.Join(dir, "real", "incidents.geojson")
	os.MkdirAll(filepath.Dir(target), 0o755)
	if err := os.WriteFile(target, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.geojson")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "export", "--db", db, "--format", "geojson", "--out", link)
	li, err := os.Lstat(link)
	if err != nil || li.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("%s is %v after the export (err %v), want the symlink kept", link, li.Mode(), err)
	}
	if got := features(t, target); len(got) != 13 {
		t.Fatalf("target holds %d features, want 13", len(got))
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o640 {
		t.Fatalf("target mode %v, want 0640 kept", fi.Mode().Perm())
	}

	dangling := filepath.Join(dir, "dangling.geojson")
	nowhere := filepath.Join(dir, "nowhere", "x.geojson")
	os.Symlink(nowhere, dangling)
	out, err := runCLI(t, "export", "--db", db, "--format", "geojson", "--out", dangling)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("export to a dangling link: err %v, out %s; want a refusal", err, out)
	}
	if _, err := os.Lstat(nowhere); err == nil {
		t.Fatalf("the dangling link's target was created")
	}

	// A regular file keeps its mode; a new one gets 0644 less the umask.
	plain := filepath.Join(dir, "plain.csv")
	os.WriteFile(plain, nil, 0o600)
	mustCLI(t, "export", "--db", db, "--format", "csv", "--out", plain)
	if fi, _ := os.Stat(plain); fi.Mode().Perm() != 0o600 || fi.Size() < 1000 {
		t.Fatalf("plain file mode %v size %d, want 0600 kept and the CSV", fi.Mode().Perm(), fi.Size())
	}
}

// TestGenOutFIFO: gen --out writes through a FIFO too.
func TestGenOutFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- -1
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- bytes.Count(b, []byte{0x1E})
	}()
	mustCLI(t, "gen", "--n", "50", "--seed", "3", "--out", fifo)
	select {
	case n := <-got:
		if n != 50 {
			t.Fatalf("read %d records from the FIFO, want 50", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("nothing reached the FIFO's reader in 10 s; %s is now %v", fifo, lmode(fifo))
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatalf("%s is no longer a FIFO: %v %v", fifo, fi.Mode(), err)
	}
}
