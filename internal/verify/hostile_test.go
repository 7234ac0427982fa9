package verify

import (
	"bytes"
	"context"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/hostiletest"
	"github.com/fwpush/fwpush/internal/policy"
)

// localRunner runs the probe script with this machine's sh, as sshd would
// on the probing host. The probes only target loopback and addresses no
// packet can be sent to, so nothing leaves the machine.
func localRunner(ctx context.Context, host, script string, stdin []byte) (string, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.Output()
	return string(out), err
}

// TestProbeAddressNeverRuns is the `fwpush verify` injection: an address
// with a zone holding shell code (netip accepts any zone text) once ran
// that code as root on the probing host. Every hostile zone must now be
// refused before it is sent, with the probe reported as an error, while
// the good probe next to it still runs.
func TestProbeAddressNeverRuns(t *testing.T) {
	c := hostiletest.NewCanaries(t)
	tried := 0
	for _, p := range c.Corpus() {
		for _, base := range []string{"2001:db8::11", "fe80::1"} {
			a, err := netip.ParseAddr(base + "%" + p.Text)
			if err != nil {
				continue // netip refuses it already
			}
			tried++
			probes := []Probe{
				{From: "a", Dst: netip.MustParseAddr("127.0.0.1"), Proto: policy.TCP, Port: 1, Expect: true},
				{From: "a", Dst: a, Proto: policy.TCP, Port: 80, Expect: true},
			}
			rep, err := Run(context.Background(), probes, localRunner, time.Second, engine.Options{MaxFailPercentage: -1})
			require.NoError(t, err)
			assert.Empty(t, c.Fired(), "%s: a payload ran on the probing host", p.Name)
			assert.True(t, rep.Results[0].Pass, "%s: loopback probe: got %s (%s)", p.Name, rep.Results[0].Got, rep.Results[0].Note)
			assert.Equal(t, Error, rep.Results[1].Got, p.Name)
			assert.Contains(t, rep.Results[1].Note, "not sent", p.Name)
		}
	}
	assert.Greater(t, tried, 20)
}

// TestCheckLine: the shape check before sending.
func TestCheckLine(t *testing.T) {
	for line, ok := range map[string]bool{
		"0 tcp 198.18.1.1 80 2.0":        true,
		"12 udp 2001:db8::1 53 6.0":      true,
		"0 tcp 2001:db8::1%eth0 80 2.0":  false,
		"0 tcp 0.0.0.0 80 2.0":           false,
		"0 tcp 224.0.0.1 80 2.0":         false,
		"0 tcp ::ffff:198.18.1.1 80 2.0": false, // ambiguous: write the IPv4 form
		"0 tcp 198.18.1.1 0 2.0":         false,
		"0 tcp 198.18.1.1 65536 2.0":     false,
		"0 sctp 198.18.1.1 80 2.0":       false,
		"0 tcp 198.18.1.1 80 2.0\n1":     false,
		"-1 tcp 198.18.1.1 80 2.0":       false,
		"0 tcp 198.18.1.1 80 $(id)":      false,
		"0 tcp 198.18.1.1 80 2.0 extra":  false,
		"0 tcp 198.018.1.1 80 2.0":       false,
		strings.Repeat("1", 20) + " tcp": false,
	} {
		assert.Equal(t, ok, checkLine(line) == nil, "%q", line)
	}
}
