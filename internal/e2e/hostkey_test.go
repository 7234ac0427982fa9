package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/plan"
	fwssh "github.com/fwpush/fwpush/internal/transport/ssh"
)

// authLines are what sshd (LogLevel VERBOSE) logs once a client starts
// user authentication; none may appear for a refused host key.
var authLines = []string{"Accepted key", "Accepted publickey", "Failed publickey", "Postponed", "Failed none",
	"Failed password", "Invalid user", "userauth"}

// TestHostKeyRefusedBeforeAuth connects to each Linux host with a
// known_hosts that does not know it, and with one that holds another key
// for it (RELIABILITY.md A9): both are refused with fault.ErrHostKey and
// the offered fingerprint, and the host's sshd log proves the connection
// got there but no authentication was attempted. Trust on first use
// records the key only when asked, after which strict checking connects,
// and it never overrides a changed key.
func TestHostKeyRefusedBeforeAuth(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t, "baseline.yml", nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	_, otherPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	other, err := ssh.NewSignerFromKey(otherPriv)
	require.NoError(t, err)

	for _, h := range e.hostNames() {
		addr := e.p.Inv.Hosts[h].Hostname
		fp := ssh.FingerprintSHA256(e.lab.HostKey(h))
		changed := knownhosts.Line([]string{addr}, other.PublicKey()) + "\n"
		for name, content := range map[string]string{"unknown host": "", "changed key": changed} {
			kh := filepath.Join(dir, h+"-"+strings.ReplaceAll(name, " ", "-"))
			require.NoError(t, os.WriteFile(kh, []byte(content), 0o600))
			mark := len(e.sshdLog(t, h))
			_, err := e.openWith(kh, false)(ctx, h)
			require.ErrorIs(t, err, fault.ErrHostKey, "%s: %s", h, name)
			var hke *fwssh.HostKeyError
			require.ErrorAs(t, err, &hke, h)
			assert.Equal(t, fp, hke.Fingerprint, "%s: %s", h, name)
			assert.Equal(t, name == "changed key", hke.Changed, "%s: %s", h, name)
			assert.Contains(t, err.Error(), fp, "%s: the fingerprint is shown", h)
			t.Logf("%s, %s: %v", h, name, err)

			log := sshdLogAfter(t, e, h, mark, "Connection closed by 198.18.0.1")
			assert.Contains(t, log, "Connection from 198.18.0.1", "%s: the connection reached sshd", h)
			for _, l := range authLines {
				assert.NotContains(t, log, l, "%s, %s: no authentication attempt may follow a refused host key", h, name)
			}
			b, err := os.ReadFile(kh)
			require.NoError(t, err)
			assert.Equal(t, content, string(b), "%s: strict checking writes nothing", h)
		}

		// Trust on first use, only when asked: the key is recorded, a
		// strict connection then works, and a changed key stays refused.
		tofu := filepath.Join(dir, h+"-tofu")
		mark := len(e.sshdLog(t, h))
		s, err := e.openWith(tofu, true)(ctx, h)
		require.NoError(t, err, h)
		_, err = s.Fetch(ctx)
		require.NoError(t, err)
		require.NoError(t, s.Close())
		b, err := os.ReadFile(tofu)
		require.NoError(t, err)
		assert.Contains(t, string(b), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(e.lab.HostKey(h)))), h)
		// The grep above is meaningful: a real login does leave auth lines.
		assert.Contains(t, sshdLogAfter(t, e, h, mark, "Accepted publickey"), "Accepted publickey", h)

		s, err = e.openWith(tofu, false)(ctx, h)
		require.NoError(t, err, "%s: strict after trust on first use", h)
		require.NoError(t, s.Close())
		_, err = e.openWith(filepath.Join(dir, h+"-changed-key"), true)(ctx, h)
		require.ErrorIs(t, err, fault.ErrHostKey, "%s: trust on first use never accepts a changed key", h)
	}
}

// openWith opens sessions checking host keys against knownHosts only.
func (e *env) openWith(knownHosts string, tofu bool) plan.Opener {
	o := e.opts
	o.KnownHostsFiles, o.TrustOnFirstUse = []string{knownHosts}, tofu
	return plan.DriverOpener(e.reg, e.p.Inv, o, e.lab.DialContext)
}

// sshdLogAfter waits (bounded) until host's sshd log, past byte mark,
// contains want, and returns that part of the log.
func sshdLogAfter(t *testing.T, e *env, host string, mark int, want string) string {
	t.Helper()
	var log string
	for i := 0; i < 100; i++ {
		log = e.sshdLog(t, host)[mark:]
		if strings.Contains(log, want) {
			return log
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: sshd did not log %q within 5 s; got:\n%s", host, want, log)
	return ""
}
