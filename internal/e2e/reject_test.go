package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/verify"
)

// TestRejectAnswersOnLab: `action: reject` makes nftables (app-1) and
// iptables (web-2) answer a denied connection at once (the probe sees a
// refusal), while `action: deny` on the same hosts stays silent (the probe
// times out), over IPv4 and IPv6. Before reject was rendered, both were
// silent drops.
func TestRejectAnswersOnLab(t *testing.T) {
	pb := filepath.Join(t.TempDir(), "reject.yml")
	require.NoError(t, os.WriteFile(pb, []byte(`name: reject
roles: {web: {}, app: {}, db: {}}
flows:
  - {from: db, to: [app, web], ports: [tcp/8080], why: db reaches the app}
  - {name: no-telnet, from: db, to: [app, web], ports: [tcp/23], action: reject, why: telnet is refused at once}
  - {from: db, to: [app, web], ports: [tcp/24], action: deny, why: port 24 is dropped silently}
`), 0o644))
	e := newEnv(t, "../../inventory/examples/webapp", pb)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := apply.Run(ctx, e.p, e.opener(), apply.Options{ConfirmWithin: 20 * time.Second, Engine: eo()})
	require.NoError(t, err)
	for _, d := range rep.Devices {
		require.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
	}

	var probes []verify.Probe
	var want []verify.Observed
	for _, dst := range []string{"app-1", "web-2"} {
		for fam := 0; fam < 2; fam++ {
			src, d := e.p.Inv.Hosts["db-1"].Addresses[fam], e.p.Inv.Hosts[dst].Addresses[fam]
			for port, got := range map[uint16]verify.Observed{23: verify.Refused, 24: verify.Blocked} {
				probes = append(probes, verify.Probe{From: "db-1", To: dst, Src: src, Dst: d, Proto: policy.TCP, Port: port})
				want = append(want, got)
			}
		}
	}
	vr, err := verify.Run(ctx, probes, e.runner(), 3*time.Second, eo())
	require.NoError(t, err)
	require.Len(t, vr.Results, len(probes))
	for i, r := range vr.Results {
		assert.Equal(t, want[i], r.Got, "%s (%s)", r.Probe, r.Note)
	}
}
