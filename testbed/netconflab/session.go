package netconflab

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/fwpush/fwpush/internal/transport/netconf"
	fwssh "github.com/fwpush/fwpush/internal/transport/ssh"
	"github.com/fwpush/fwpush/testbed"
)

// Settle is the pause after the hello every lab session takes: netconfd
// 2.13 leaves an rpc that arrives with the client's hello unanswered.
const Settle = 150 * time.Millisecond

// Dial opens a standard NETCONF session to netconfd on addr (an IP
// literal; port 22, its sshd's netconf subsystem) from the lab's host
// from (testbed.Controller for the controller): a test's own view of the
// device, bypassing fwpush.
func Dial(ctx context.Context, lab *testbed.Lab, from, addr string) (*netconf.Session, error) {
	cfg := fwssh.Config{
		Host: addr, Port: 22, User: "root",
		IdentityFiles: []string{lab.ClientKeyPath()}, KnownHostsFiles: []string{lab.KnownHostsPath()},
		SSHConfigFile: "none", ConnectTimeout: 10 * time.Second, KeepaliveInterval: -1,
		Dial: func(ctx context.Context, network, a string) (net.Conn, error) {
			return lab.DialFrom(ctx, from, network, a)
		},
	}
	s, err := netconf.Dial(ctx, cfg, netconf.WithHelloSettle(Settle))
	if err != nil {
		return nil, fmt.Errorf("netconf lab: %w", err)
	}
	return s, nil
}
