package ssh

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestWriteFileAtomic(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts serverOpts
		user string
		sudo bool
	}{
		"sftp":                        {},
		"no sftp subsystem: shell":    {opts: serverOpts{noSFTP: true}},
		"sudo: shell through sudo -n": {user: "deploy", sudo: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if tc.sudo {
				tc.opts.env = fakeSudo(t, "ok")
			}
			s, c := dialFixture(t, tc.opts, func(cfg *Config) {
				if tc.user != "" {
					cfg.User, cfg.Sudo = tc.user, tc.sudo
				}
			})
			dir := t.TempDir()
			target := filepath.Join(dir, "fwpush.nft")
			old := strings.Repeat("old ruleset\n", 1000)
			if err := os.WriteFile(target, []byte(old), 0o600); err != nil {
				t.Fatal(err)
			}
			oldIno := inode(t, target)
			// A reader that opened the file before the write keeps the old
			// content whole: the new file arrived by rename, not in place.
			reader, err := os.Open(target)
			if err != nil {
				t.Fatal(err)
			}
			defer reader.Close()

			data := []byte(strings.Repeat("table inet fwpush {}\n", 5000)) // > one sftp packet
			if err := c.WriteFile(context.Background(), target, data, 0o640); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			got, err := os.ReadFile(target)
			if err != nil || string(got) != string(data) {
				t.Fatalf("content after WriteFile: %d bytes, %v; want %d bytes", len(got), err, len(data))
			}
			fi, _ := os.Stat(target)
			if fi.Mode().Perm() != 0o640 {
				t.Errorf("mode = %v, want 0640", fi.Mode().Perm())
			}
			if inode(t, target) == oldIno {
				t.Error("file was rewritten in place, not renamed over")
			}
			if b, _ := io.ReadAll(reader); string(b) != old {
				t.Errorf("earlier reader saw %d bytes of changed content", len(b))
			}
			// How it was written: into a temp sibling, then one rename.
			execs, sftpOps := s.ops()
			if tc.opts.noSFTP || tc.sudo {
				if len(execs) != 1 || !strings.Contains(execs[0], "cat > ") || !strings.Contains(execs[0], "mv -f -- ") ||
					!strings.Contains(execs[0], dir+"/.fwpush.nft.fwpush-") {
					t.Errorf("shell write ran %q, want cat into a temp sibling then mv", execs)
				}
				if tc.sudo && !strings.HasPrefix(execs[0], "sudo -n -- sh -c ") {
					t.Errorf("shell write not under sudo: %q", execs[0])
				}
			} else {
				if len(sftpOps) != 2 || !strings.HasPrefix(sftpOps[0], "open "+dir+"/.fwpush.nft.fwpush-") ||
					sftpOps[1] != "posix-rename "+strings.TrimPrefix(sftpOps[0], "open ")+" "+target || len(execs) != 0 {
					t.Errorf("sftp operations %q (execs %q), want open of a temp sibling then posix-rename onto %s", sftpOps, execs, target)
				}
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("directory holds %v, want only fwpush.nft (temp file left behind?)", names)
			}
		})
	}
}

func TestWriteFileFailureLeavesTarget(t *testing.T) {
	t.Parallel()
	for _, noSFTP := range []bool{false, true} {
		_, c := dialFixture(t, serverOpts{noSFTP: noSFTP}, nil)
		missing := filepath.Join(t.TempDir(), "no-such-dir", "f")
		if err := c.WriteFile(context.Background(), missing, []byte("x"), 0o600); err == nil {
			t.Errorf("noSFTP=%v: WriteFile into a missing directory succeeded", noSFTP)
		}
	}
}

func TestSFTPIsReusedOrUnavailable(t *testing.T) {
	t.Parallel()
	_, c := dialFixture(t, serverOpts{}, nil)
	a, err := c.SFTP()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.SFTP()
	if a != b {
		t.Error("SFTP opened a second client")
	}
	_, c2 := dialFixture(t, serverOpts{noSFTP: true}, nil)
	if _, err := c2.SFTP(); !errors.Is(err, ErrSFTPUnavailable) {
		t.Errorf("SFTP without subsystem = %v, want ErrSFTPUnavailable", err)
	}
}
