package netsim

import (
	"crypto/ed25519"
	"crypto/rand"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestExecRequestWithPublicKeyAndPinnedHostKey(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	o := iosOpts()
	o.Users = []User{{Name: "robot", AuthorizedKeys: []ssh.PublicKey{signer.PublicKey()}, Privilege: 15}}
	s := startSim(t, o)
	hk, err := knownhosts.New(s.known)
	require.NoError(t, err)
	addr := "127.0.0.1:" + strconv.Itoa(s.port)
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "robot", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hk})
	require.NoError(t, err)
	defer c.Close()
	sess, err := c.NewSession()
	require.NoError(t, err)
	out, err := sess.Output("show ip access-lists FOREIGN")
	require.NoError(t, err)
	assert.Equal(t, "Extended IP access list FOREIGN\n    10 permit tcp any any eq 22\n    20 deny ip any any log\n", string(out))

	_, err = ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "robot", Auth: []ssh.AuthMethod{ssh.Password("x")}, HostKeyCallback: hk})
	assert.Error(t, err, "password login for a key-only user")
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherKey, _ := ssh.NewSignerFromKey(other)
	wrongHost := ssh.FixedHostKey(otherKey.PublicKey())
	_, err = ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "robot", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: wrongHost})
	assert.Error(t, err, "a client pinning another host key refuses the simulator")
}

// TestDryRunSendsNoConfigCommand: RELIABILITY A12 needs to see that a dry
// run (show commands only) sends no configuration-mode command and changes
// nothing; the counters tell, and a configuration line moves them.
func TestDryRunSendsNoConfigCommand(t *testing.T) {
	for name, o := range map[string]Options{"ios": iosOpts(), "nxos": nxosOpts(), "eos": eosOpts()} {
		t.Run(name, func(t *testing.T) {
			s := startSim(t, o)
			before := body(s.dev.RunningConfig())
			d := s.driver(t, adminUser, adminPass)
			for _, c := range []string{"show running-config", "show ip access-lists", "show version"} {
				_, failed := send(t, d, c)
				require.NoError(t, failed, c)
			}
			assert.Equal(t, 0, s.dev.ConfigModeCommands())
			assert.Equal(t, 0, s.dev.MutatingCommands())
			assert.Equal(t, before, body(s.dev.RunningConfig()))
			n := len(s.states)
			m, err := d.SendConfigs([]string{"ip access-list " + map[string]string{"ios": "extended "}[name] + "X"})
			require.NoError(t, err)
			require.NoError(t, m.Failed)
			assert.Equal(t, 2, s.dev.ConfigModeCommands(), "configure terminal + one line")
			assert.Equal(t, n, len(s.states), "an ACL bound nowhere changes no enforcement")
		})
	}
}

// TestOnChangeFollowsRealApplyGranularity: IOS applies each line as it is
// typed, so a bound ACL built line by line goes through every
// intermediate state; an EOS session commit is one change.
func TestOnChangeFollowsRealApplyGranularity(t *testing.T) {
	s := startSim(t, iosOpts())
	d := s.driver(t, adminUser, adminPass)
	n := len(s.states)
	m, err := d.SendConfigs([]string{"interface gi0/2", "ip access-group LIVE in", "ip access-list extended LIVE",
		"permit tcp any any eq 22", "permit tcp any any eq 80", "permit tcp any any eq 443"})
	require.NoError(t, err)
	require.NoError(t, m.Failed)
	assert.Equal(t, n+3, len(s.states), "one state per rule added to the bound ACL")

	e := startSim(t, eosOpts())
	de := e.driver(t, adminUser, adminPass)
	n = len(e.states)
	sendAll(t, de, "configure session one", "interface Ethernet2", "ip access-group LIVE in", "ip access-list LIVE",
		"permit tcp any any eq 22", "permit tcp any any eq 80", "commit")
	assert.Equal(t, n+1, len(e.states))
}
