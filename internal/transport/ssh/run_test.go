package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fwpush/fwpush/internal/fault"
)

func dialFixture(t *testing.T, opts serverOpts, edit func(*Config)) (*testServer, *Client) {
	t.Helper()
	s, cfg := fixture(t, opts)
	if edit != nil {
		edit(&cfg)
	}
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return s, c
}

func TestRun(t *testing.T) {
	t.Parallel()
	_, c := dialFixture(t, serverOpts{}, nil)
	tests := map[string]struct {
		cmd    string
		stdin  io.Reader
		want   Result
		wantNo bool
	}{
		"stdout":                  {cmd: "echo hello", want: Result{Stdout: []byte("hello\n")}},
		"exit status is a result": {cmd: "echo oops >&2; exit 3", want: Result{Stderr: []byte("oops\n"), ExitStatus: 3}},
		"stdin":                   {cmd: "tr a-z A-Z", stdin: strings.NewReader("nft ruleset\n"), want: Result{Stdout: []byte("NFT RULESET\n")}},
		"killed by signal":        {cmd: "kill -9 $$", want: Result{ExitStatus: 128 + 9}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Run(context.Background(), tc.cmd, tc.stdin)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if string(got.Stdout) != string(tc.want.Stdout) || string(got.Stderr) != string(tc.want.Stderr) || got.ExitStatus != tc.want.ExitStatus {
				t.Errorf("Run(%q) = {%q %q %d}, want {%q %q %d}", tc.cmd, got.Stdout, got.Stderr, got.ExitStatus,
					tc.want.Stdout, tc.want.Stderr, tc.want.ExitStatus)
			}
		})
	}
}

func TestRunStopsCommand(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		timeout time.Duration // Config.CommandTimeout
		cancel  bool          // cancel the ctx instead
		want    error
	}{
		"CommandTimeout": {timeout: 300 * time.Millisecond, want: fault.ErrTimeout},
		"ctx cancelled":  {cancel: true, want: context.Canceled},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, c := dialFixture(t, serverOpts{}, func(cfg *Config) { cfg.CommandTimeout = tc.timeout })
			ctx := context.Background()
			if tc.cancel {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(300*time.Millisecond, cancel)
			}
			start := time.Now()
			_, err := c.Run(ctx, "sleep 30", nil)
			if !errors.Is(err, tc.want) || !errors.Is(err, fault.ErrIndeterminate) {
				t.Fatalf("Run error = %v, want %v and ErrIndeterminate", err, tc.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Run took %v to give up", d)
			}
			if _, _, signals, _ := s.snapshot(); !slices.Contains(signals, "TERM") {
				t.Errorf("server got signals %v, want TERM", signals)
			}
			// The remote process group is gone, not left sleeping.
			s.mu.Lock()
			pgid := s.pgids[0]
			s.mu.Unlock()
			if !waitFor(func() bool { return !groupAlive(t, pgid) }) {
				t.Errorf("process group %d still alive", pgid)
			}
			// The connection is still usable after a stopped command.
			if res, err := c.Run(context.Background(), "echo ok", nil); err != nil || string(res.Stdout) != "ok\n" {
				t.Errorf("Run after stop = %q, %v", res.Stdout, err)
			}
		})
	}
}

// groupAlive reports whether process group pgid has a live (not zombie)
// member. Zombies count as dead: killed children are reparented to PID 1,
// which may be slow to reap them in a container.
func groupAlive(t *testing.T, pgid int) bool {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range stats {
		b, err := os.ReadFile(f)
		i := bytes.LastIndexByte(b, ')') // comm may hold spaces
		if err != nil || i < 0 {
			continue
		}
		// After comm: state ppid pgrp ...
		var state string
		var ppid, pgrp int
		if _, err := fmt.Sscanf(string(b[i+1:]), " %s %d %d", &state, &ppid, &pgrp); err == nil && pgrp == pgid && state != "Z" {
			return true
		}
	}
	return false
}

// fakeSudo puts a `sudo` in PATH for the server's commands: "ok" checks it
// was called as `sudo -n -- CMD...` and runs CMD; "password" answers as a
// sudo without NOPASSWD does.
func fakeSudo(t *testing.T, kind string) []string {
	dir := t.TempDir()
	script := map[string]string{
		"ok":       "#!/bin/sh\n[ \"$1\" = -n ] && [ \"$2\" = -- ] || { echo bad args >&2; exit 99; }\nshift 2\nexec \"$@\"\n",
		"password": "#!/bin/sh\necho 'sudo: a password is required' >&2\nexit 1\n",
	}[kind]
	if err := os.WriteFile(filepath.Join(dir, "sudo"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + dir + ":" + os.Getenv("PATH")}
}

func TestSudo(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		sudo    string // fake sudo kind
		user    string
		wantOut string
		wantErr error
	}{
		"wrapped for non-root":       {sudo: "ok", user: "deploy", wantOut: "it's 'quoted'\n"},
		"sudo wants a password":      {sudo: "password", user: "deploy", wantErr: fault.ErrAuth},
		"root is not wrapped at all": {sudo: "password", user: "root", wantOut: "it's 'quoted'\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, c := dialFixture(t, serverOpts{env: fakeSudo(t, tc.sudo)}, func(cfg *Config) {
				cfg.User, cfg.Sudo = tc.user, true
			})
			res, err := c.Run(context.Background(), `cat; echo "'quoted'"`, strings.NewReader("it's "))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), "NOPASSWD") {
					t.Fatalf("Run error = %v, want %v naming NOPASSWD", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(res.Stdout) != tc.wantOut || res.ExitStatus != 0 {
				t.Fatalf("Run = %q %q %d, %v; want %q", res.Stdout, res.Stderr, res.ExitStatus, err, tc.wantOut)
			}
		})
	}
}
