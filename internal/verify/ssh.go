package verify

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/shellquote"
	"github.com/fwpush/fwpush/internal/transport/ssh"
	"github.com/fwpush/fwpush/inventory"
)

// SSHRunner runs probe scripts on inventory hosts over SSH, reaching each
// as its driver would (Target.SSH: the inventory's address, user and SSH
// data keys, the run's options); dial may be nil (the system dialer).
func SSHRunner(inv *inventory.Inventory, opts drivers.TransportOptions,
	dial func(ctx context.Context, network, addr string) (net.Conn, error)) Runner {
	return func(ctx context.Context, host, script string, stdin []byte) (string, error) {
		h := inv.Hosts[host]
		if h == nil {
			return "", fmt.Errorf("no host %q", host)
		}
		cfg, err := drivers.Target{Host: h, Options: opts, Dial: dial}.SSH()
		if err != nil {
			return "", err
		}
		c, err := ssh.Dial(ctx, cfg)
		if err != nil {
			return "", err
		}
		defer c.Close()
		res, err := c.Run(ctx, "sh -c "+shellquote.Quote(script), bytes.NewReader(stdin))
		if err != nil {
			return "", err
		}
		if res.ExitStatus != 0 {
			return string(res.Stdout), fmt.Errorf("probe script: exit status %d: %s", res.ExitStatus, strings.TrimSpace(string(res.Stderr)))
		}
		return string(res.Stdout), nil
	}
}
