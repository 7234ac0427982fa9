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
// controller included) are dropped while it is down. Only the switch
// namespace is touched.
func (l *Lab) SetLink(ctx context.Context, host string, up bool) error {
	l.mu.Lock()
	i, ok := l.byName[host]
	l.mu.Unlock()
	if !ok || host == Controller {
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
	if err := ipBatch(ctx, fd, fmt.Sprintf("link set p%d %s", i, state)); err != nil {
		return fmt.Errorf("%s: set link %s: %w", host, state, err)
	}
	return nil
}
