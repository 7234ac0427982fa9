package ssh

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/pkg/sftp"

	"github.com/fwpush/fwpush/internal/shellquote"
)

// ErrSFTPUnavailable means the device has no sftp subsystem (many network
// OSes); WriteFile then falls back to the shell.
var ErrSFTPUnavailable = errors.New("sftp subsystem unavailable")

// SFTP returns the connection's SFTP client, opened on first use and
// shared afterwards; Close closes it.
func (c *Client) SFTP() (*sftp.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sftp != nil {
		return c.sftp, nil
	}
	if c.sftpErr != nil {
		return nil, c.sftpErr
	}
	sc, err := sftp.NewClient(c.target.client)
	if err != nil {
		// x/crypto reports a refused subsystem request only by this text.
		if strings.Contains(err.Error(), "subsystem request failed") {
			c.sftpErr = fmt.Errorf("%s: %w: %w", c.name, ErrSFTPUnavailable, err)
			return nil, c.sftpErr
		}
		return nil, fmt.Errorf("%s: sftp: %w", c.name, err)
	}
	c.sftp = sc
	return sc, nil
}

// WriteFile replaces the remote file path with data and mode atomically:
// it writes a temporary file in the same directory and renames it over
// path, so a reader (or a crash) sees the old file or the new one, never a
// partial one. It uses SFTP, or `cat > tmp && mv` through Run when the
// device has no sftp subsystem or Sudo applies (SFTP cannot use sudo). A
// replaced file gets the login user's ownership.
func (c *Client) WriteFile(ctx context.Context, p string, data []byte, mode os.FileMode) error {
	if p == "" || strings.HasSuffix(p, "/") {
		return fmt.Errorf("%s: write file %q: not a file path", c.name, p)
	}
	tmp := tempName(p)
	if !c.sudo {
		sc, err := c.SFTP()
		switch {
		case err == nil:
			return c.writeSFTP(ctx, sc, p, tmp, data, mode)
		case !errors.Is(err, ErrSFTPUnavailable):
			return fmt.Errorf("%s: write file %s: %w", c.name, p, err)
		}
	}
	return c.writeShell(ctx, p, tmp, data, mode)
}

// tempName is a hidden, unguessable sibling of p: same directory, so the
// rename stays within one filesystem and is atomic.
func tempName(p string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return path.Join(path.Dir(p), "."+path.Base(p)+".fwpush-"+hex.EncodeToString(b[:])+".tmp")
}

func (c *Client) writeSFTP(ctx context.Context, sc *sftp.Client, p, tmp string, data []byte, mode os.FileMode) (err error) {
	fail := func(step string, e error) error {
		_ = sc.Remove(tmp)
		return fmt.Errorf("%s: write file %s: %s: %w", c.name, p, step, c.connErr(e))
	}
	f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("%s: write file %s: create temp: %w", c.name, p, c.connErr(err))
	}
	const chunk = 64 << 10
	for off := 0; off < len(data); off += chunk {
		if err := ctx.Err(); err != nil {
			f.Close()
			return fail("write", ctxKind(err))
		}
		if _, err := f.Write(data[off:min(off+chunk, len(data))]); err != nil {
			f.Close()
			return fail("write", err)
		}
	}
	// Chmod after create: the server's umask applied to the open.
	if err := f.Chmod(mode.Perm()); err != nil {
		f.Close()
		return fail("chmod", err)
	}
	if _, ok := sc.HasExtension("fsync@openssh.com"); ok {
		if err := f.Sync(); err != nil {
			f.Close()
			return fail("fsync", err)
		}
	}
	if err := f.Close(); err != nil {
		return fail("close", err)
	}
	if err := ctx.Err(); err != nil {
		return fail("rename", ctxKind(err))
	}
	// Plain SFTP rename refuses to replace an existing file; the OpenSSH
	// extension is rename(2).
	if _, ok := sc.HasExtension("posix-rename@openssh.com"); ok {
		if err := sc.PosixRename(tmp, p); err != nil {
			return fail("rename", err)
		}
		return nil
	}
	res, err := c.Run(ctx, "mv -f -- "+shellquote.Quote(tmp)+" "+shellquote.Quote(p), nil)
	if err == nil && res.ExitStatus != 0 {
		err = fmt.Errorf("mv exited %d: %s", res.ExitStatus, bytes.TrimSpace(res.Stderr))
	}
	if err != nil {
		return fail("rename", err)
	}
	return nil
}

// writeShell streams data to `cat` and renames with mv; umask 077 keeps the
// temp file private until chmod sets the final mode.
func (c *Client) writeShell(ctx context.Context, p, tmp string, data []byte, mode os.FileMode) error {
	qt, qp := shellquote.Quote(tmp), shellquote.Quote(p)
	script := fmt.Sprintf("umask 077 && cat > %s && chmod %04o %s && mv -f -- %s %s || { rm -f -- %s; exit 1; }",
		qt, mode.Perm(), qt, qt, qp, qt)
	res, err := c.Run(ctx, script, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: write file %s: %w", c.name, p, err)
	}
	if res.ExitStatus != 0 {
		return fmt.Errorf("%s: write file %s: shell exited %d: %s", c.name, p, res.ExitStatus, bytes.TrimSpace(res.Stderr))
	}
	return nil
}
