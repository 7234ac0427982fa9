package linuxhost

import (
	"fmt"

	"github.com/fwpush/fwpush/inventory"
)

// Inventory data keys for SSH settings, resolved host → groups → defaults
// like every Nornir data key, so a whole inventory (the lab's, say) can
// carry its own known_hosts and key without command-line flags.
const (
	DataKnownHosts   = "ssh_known_hosts"   // path or list of paths
	DataIdentityFile = "ssh_identity_file" // path or list of paths
	DataProxyJump    = "proxy_jump"        // [user@]host[:port][,next]
)

// dataList reads a string or a list of strings from host data.
func dataList(h *inventory.Host, key string) []string {
	switch v := h.Data[key].(type) {
	case string:
		if v != "" {
			return []string{v}
		}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}
