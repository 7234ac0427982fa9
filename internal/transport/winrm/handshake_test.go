package winrm_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/transport/winrm"
	"github.com/fwpush/fwpush/testbed/winsim"
)

// splitter sends the first `left` NTLM AUTHENTICATE messages on a
// connection of their own, as net/http does when it dials a new one
// before the challenge's is back in its pool.
type splitter struct {
	rt, fresh http.RoundTripper
	left      *atomic.Int32
	sent      *atomic.Int32 // AUTHENTICATE messages sent
}

func (s splitter) RoundTrip(req *http.Request) (*http.Response, error) {
	if isAuthenticate(req.Header.Get("Authorization")) {
		s.sent.Add(1)
		if s.left.Add(-1) >= 0 {
			return s.fresh.RoundTrip(req)
		}
	}
	return s.rt.RoundTrip(req)
}

func isAuthenticate(h string) bool {
	_, data, ok := strings.Cut(h, " ")
	b, err := base64.StdEncoding.DecodeString(data)
	return ok && err == nil && len(b) >= 12 && string(b[:8]) == "NTLMSSP\x00" && binary.LittleEndian.Uint32(b[8:12]) == 3
}

// TestSplitHandshakeSentAgain: an NTLM handshake whose answer travels on
// another connection than its challenge is refused by the server (401);
// the client sends the request again and logs on. A handshake split every
// time, or a wrong password, still fails as an authentication error, after
// a bounded number of answers (a wrong password is never sent twice).
func TestSplitHandshakeSentAgain(t *testing.T) {
	tests := map[string]struct {
		splits   int32
		password string
		ok       bool
		sent     int32
	}{
		"split once: sent again":   {splits: 1, password: "pw-Win-1", ok: true, sent: 2},
		"split every time":         {splits: 100, password: "pw-Win-1", sent: 3},
		"wrong password, no split": {splits: 0, password: "wrong", sent: 1},
	}
	dev, err := winsim.New(winsim.Options{Users: []winsim.User{{Name: "fwpush", Password: "pw-Win-1"}}})
	require.NoError(t, err)
	certs, err := winsim.NewCerts("127.0.0.1")
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := winsim.NewServer(dev, winsim.Auth{Negotiate: true})
	go srv.Serve(certs.Listener(ln))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, certs.CAPEM, 0o644))
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var left, sent atomic.Int32
			left.Store(tc.splits)
			restore := winrm.WrapTransportForTest(func(rt http.RoundTripper) http.RoundTripper {
				fresh := rt.(*http.Transport).Clone()
				t.Cleanup(fresh.CloseIdleConnections)
				return splitter{rt: rt, fresh: fresh, left: &left, sent: &sent}
			})
			defer restore()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := winrm.Dial(ctx, winrm.Config{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, User: "fwpush",
				Password: tc.password, CAFile: ca, ConnectTimeout: 5 * time.Second, CommandTimeout: 10 * time.Second})
			assert.Equal(t, tc.sent, sent.Load(), "AUTHENTICATE messages sent")
			if !tc.ok {
				require.ErrorIs(t, err, fault.ErrAuth)
				return
			}
			require.NoError(t, err)
			defer c.Close()
			res, err := c.Run(ctx, "Write-Output 'logged on'", nil)
			require.NoError(t, err)
			assert.Equal(t, "logged on", strings.TrimSpace(string(res.Stdout)))
		})
	}
}
