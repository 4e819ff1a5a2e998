// Package serverproc runs `incidentmap serve` as a child process for the
// measuring commands (scripts/bench, scripts/soak): on a free loopback
// address, ready when /readyz answers 200, stopped by a signal, and its
// memory read from /proc.
package serverproc

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is a running `incidentmap serve`.
type Server struct {
	Cmd     *exec.Cmd
	Addr    string        // host:port it listens on
	Base    string        // http://Addr
	Started time.Duration // from the process's start to /readyz 200
	exited  chan struct{} // closed when the process has ended
	waitErr error         // how it ended, once exited is closed
}

// FreeAddr is a loopback address with a port nobody listens on now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Start runs bin serve --db db --addr addr with the extra flags, its log
// (stderr) going to log (nil discards it), and waits until /readyz answers
// 200, at most ready; a server not ready by then is killed.
func Start(bin, db, addr string, log io.Writer, ready time.Duration, flags ...string) (*Server, error) {
	if log == nil {
		log = io.Discard
	}
	s := &Server{Addr: addr, Base: "http://" + addr}
	s.Cmd = exec.Command(bin, append([]string{"serve", "--db", db, "--addr", addr}, flags...)...)
	s.Cmd.Stdout, s.Cmd.Stderr = io.Discard, log
	t0 := time.Now()
	if err := s.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	s.exited = make(chan struct{})
	go func() {
		s.waitErr = s.Cmd.Wait()
		close(s.exited)
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		if resp, err := client.Get(s.Base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.Started = time.Since(t0)
				return s, nil
			}
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("the server exited before it was ready (%v; see its log)", s.waitErr)
		default:
		}
		if time.Since(t0) > ready {
			s.Kill()
			return nil, fmt.Errorf("server not ready after %v", ready)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.Cmd.Process.Pid }

// Stop asks the server to shut down (SIGTERM: it finishes requests and
// checkpoints) and waits for it; the error is how it exited.
func (s *Server) Stop() error {
	s.Cmd.Process.Signal(syscall.SIGTERM)
	<-s.exited
	return s.waitErr
}

// Kill ends the server at once and waits for it.
func (s *Server) Kill() {
	s.Cmd.Process.Kill()
	<-s.exited
}

// ProcKB is a "Name:   N kB" line of /proc/PID/status (VmHWM is the peak
// resident set, VmRSS the current one), in kB; 0 when it cannot be read.
func ProcKB(pid int, name string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// CPU is the user and system time process pid has spent (/proc/PID/stat,
// clock ticks of 10 ms); 0 when it cannot be read.
func CPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count fields after its ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
