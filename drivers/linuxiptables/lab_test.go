package linuxiptables

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/testbed"
)

// labNamespace creates a throwaway network namespace, removed when the test
// ends, pass or fail. Every command of these tests runs inside it, never in
// the machine's own namespace.
func labNamespace(t *testing.T) string { return testbed.NamespaceT(t) }

// inNS runs a command inside the namespace with a deadline.
func inNS(ns string, stdin []byte, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%v: %w: %s", args, err, stderr.String())
	}
	return stdout.String(), nil
}

// commands are the tools of each part.
var commands = map[string]struct{ cmd, restore, save string }{
	PartIPv4: {"iptables", "iptables-restore", "iptables-save"},
	PartIPv6: {"ip6tables", "ip6tables-restore", "ip6tables-save"},
}

// labApply loads a config the way a session will: Check, then per part
// restore --test and the real restore --noflush; it returns each part's
// full iptables-save output.
func labApply(t *testing.T, ns string, cfg drivers.Config) map[string]string {
	t.Helper()
	require.NoError(t, Check(cfg))
	saves := map[string]string{}
	for _, p := range cfg.Parts {
		c := commands[p.Name]
		in := []byte(RestoreInput(p.Text))
		_, err := inNS(ns, in, c.restore, "--test", "--noflush")
		require.NoError(t, err, p.Name)
		_, err = inNS(ns, in, c.restore, "--noflush")
		require.NoError(t, err, p.Name)
		saves[p.Name], err = inNS(ns, nil, c.save, "-t", "filter")
		require.NoError(t, err, p.Name)
	}
	return saves
}

// labLoad loads a render into the namespace the way a session will (see
// labApply): each load must replace the previous one completely, and
// iptables-save must print exactly the render back.
func labLoad(t *testing.T, ns string, cfg drivers.Config) {
	t.Helper()
	saves := labApply(t, ns, cfg)
	for _, p := range cfg.Parts {
		if d := cmp.Diff(p.Text, Canonicalize(saves[p.Name])); d != "" {
			t.Errorf("%s: iptables-save prints something else than the render (-render +saved):\n%s", p.Name, d)
		}
	}
}

// TestLabHooks proves what a session relies on: hooks inserted with
// InsertArgs sit at position 1 and survive a reload of our chains, foreign
// rules are untouched, and an empty config empties our chains.
func TestLabHooks(t *testing.T) {
	ns := labNamespace(t)
	withEgress, err := New().Render(edgeIntent())
	require.NoError(t, err)
	noEgress := edgeIntent()
	noEgress.Filters = noEgress.Filters[:1]
	inputOnly, err := New().Render(noEgress)
	require.NoError(t, err)

	labApply(t, ns, withEgress)
	foreign := map[string]string{PartIPv4: "198.18.200.1/32", PartIPv6: "2001:db8:200::1/128"}
	for part, src := range foreign {
		_, err := inNS(ns, nil, commands[part].cmd, "-A", "INPUT", "-s", src, "-p", "tcp", "-m", "tcp", "--dport", "9", "-j", "ACCEPT")
		require.NoError(t, err)
	}
	hooks := HookRules(withEgress)
	require.Len(t, hooks, 4)
	for _, h := range hooks {
		_, err := inNS(ns, nil, append([]string{commands[h.Part].cmd}, h.InsertArgs()...)...)
		require.NoError(t, err)
	}

	saves := labApply(t, ns, inputOnly)
	for _, h := range hooks {
		require.Equal(t, []int{1}, HookPositions(saves[h.Part], h), h.Rule())
	}
	for part, src := range foreign {
		require.Contains(t, saves[part], "-A INPUT -s "+src+" -p tcp -m tcp --dport 9 -j ACCEPT")
		// FWPUSH-OUTPUT is flushed, not left over from the egress config.
		require.Equal(t, inputOnly.Part(part), Canonicalize(saves[part]))
	}

	saves = labApply(t, ns, drivers.Config{Parts: []drivers.Part{{Name: PartIPv4}, {Name: PartIPv6}}})
	for part := range foreign {
		require.Empty(t, Canonicalize(saves[part]), "an empty part empties our chains")
	}
}
