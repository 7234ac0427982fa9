package drivers

import "time"

// TransportOptions are the connection settings the CLI collects for every
// session of a run.
type TransportOptions struct {
	KnownHostsFiles []string
	TrustOnFirstUse bool
	IdentityFiles   []string
	UseAgent        bool
	SSHConfigFile   string
	ConnectTimeout  time.Duration
	CommandTimeout  time.Duration
	Keepalive       time.Duration
	ConnectRetries  int
}
