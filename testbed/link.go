package testbed

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"
)

// SetLink cuts (up false) or restores (up true) host's link to the lab's
// switch by setting the switch-side end of its veth pair down or up, like
// pulling and replugging its cable: the host keeps its addresses, routes
// and every process; packets between it and the rest of the lab (the
// controller included) are dropped while it is down. For a router it cuts
// or restores every interface. Only the switch namespace is touched.
func (l *Lab) SetLink(ctx context.Context, host string, up bool) error {
	var ports []string
	if i, ok := l.byName[host]; ok {
		ports = []string{hostPort(i)}
	} else if r, ok := l.routerByName[host]; ok {
		for i := range l.routers[r].Interfaces {
			ports = append(ports, routerPort(r, i))
		}
	} else {
		return fmt.Errorf("%s: set link: no such lab host", host)
	}
	fd, err := l.dupNetns(switchHost)
	if err != nil {
		return fmt.Errorf("%s: set link: %w", host, err)
	}
	defer unix.Close(fd)
	state := "down"
	if up {
		state = "up"
	}
	var lines []string
	for _, p := range ports {
		lines = append(lines, fmt.Sprintf("link set %s %s", p, state))
	}
	if err := ipBatch(ctx, fd, lines...); err != nil {
		return fmt.Errorf("%s: set link %s: %w", host, state, err)
	}
	return nil
}
