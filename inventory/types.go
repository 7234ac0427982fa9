package inventory

import (
	"net/netip"
	"os"
	"regexp"
	"sort"
	"sync"
)

// Inventory is a loaded, validated inventory.
type Inventory struct {
	Dir      string              `json:"dir"`
	Hosts    map[string]*Host    `json:"hosts"`
	Groups   map[string]*Group   `json:"groups"`
	Networks map[string]*Network `json:"networks"`
	// Management lists where fwpush connects from. Every device always
	// accepts its management protocol from these prefixes.
	Management []netip.Prefix `json:"management"`
	// Warnings are what the inventory probably did not mean but fwpush
	// can still use, each "file:line:col: field: message".
	Warnings []string `json:"warnings,omitempty"`

	// opts are the load options, kept to resolve platform names later
	// (--limit platform:X).
	opts options

	// idx is built once on first use: sorted names and role → hosts, so
	// compiling 5,000 hosts never sorts or scans the inventory per flow.
	idxOnce sync.Once
	names   []string
	byRole  map[string][]*Host
}

func (inv *Inventory) index() {
	inv.idxOnce.Do(func() {
		inv.names = make([]string, 0, len(inv.Hosts))
		for n := range inv.Hosts {
			inv.names = append(inv.names, n)
		}
		sort.Strings(inv.names)
		inv.byRole = map[string][]*Host{}
		for _, n := range inv.names {
			h := inv.Hosts[n]
			for _, r := range h.Roles {
				inv.byRole[r] = append(inv.byRole[r], h)
			}
		}
	})
}

// Host is one device with every attribute resolved (host, then its groups,
// then defaults).
type Host struct {
	Name     string `json:"name"`
	Hostname string `json:"hostname"`
	Port     int    `json:"port"`
	Username string `json:"username,omitempty"`
	Password Secret `json:"password,omitempty"`
	Platform string `json:"platform"`
	// Groups are the host's direct groups; Roles adds every inherited one.
	Groups            []string       `json:"groups"`
	Roles             []string       `json:"roles"`
	Data              map[string]any `json:"data,omitempty"`
	ConnectionOptions map[string]any `json:"connection_options,omitempty"`
	// Addresses are every address the host owns, IPv4 first, sorted.
	Addresses []netip.Addr `json:"addresses"`
	// ACLs are network ACL bindings (routers and switches only).
	ACLs []ACLBinding `json:"acls,omitempty"`
	// File, Line and Col locate the host's definition for error messages.
	File string `json:"-"`
	Line int    `json:"-"`
	Col  int    `json:"-"`
}

// HasRole reports whether the host is in group role, directly or inherited.
func (h *Host) HasRole(role string) bool {
	for _, r := range h.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// ACLBinding says where a network device filters: an ACL bound to an
// interface in one direction, protecting the listed roles or networks.
type ACLBinding struct {
	Interface string   `json:"interface" yaml:"interface"`
	Direction string   `json:"direction" yaml:"direction"`
	Protects  []string `json:"protects" yaml:"protects"`
}

// Group is a Nornir group; in fwpush a group is a role.
type Group struct {
	Name   string         `json:"name"`
	Groups []string       `json:"groups,omitempty"`
	Data   map[string]any `json:"data,omitempty"`
}

// Network is a named set of prefixes for what fwpush does not manage:
// external peers, client subnets. It may fill playbook roles.
type Network struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Prefixes    []netip.Prefix `json:"prefixes"`
	Roles       []string       `json:"roles,omitempty"`
}

// Secret is a credential or a ${ENV} reference to one. It never prints its
// value: fmt, %v, %#v, JSON and YAML all show "[redacted]". The password
// field is one, and so is every value under a secret-looking key of data
// or connection_options (see IsSecretKey).
type Secret string

var envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// Reveal returns the secret's value, reading it from the environment when
// it is a ${ENV} reference (or from ProvideSecret, for one asked for).
// An unset variable reveals as empty: callers that send a secret check
// first with UnsetSecrets.
func (s Secret) Reveal() string {
	v, _ := s.lookup()
	return v
}

// lookup reveals s and says whether it has a value: false only for a
// ${ENV} reference to a variable neither set nor provided.
func (s Secret) lookup() (string, bool) {
	name, ok := s.EnvVar()
	if !ok {
		return string(s), true
	}
	if v, ok := provided.Load(name); ok {
		return v.(string), true
	}
	return os.LookupEnv(name)
}

// EnvVar is the variable a ${ENV} reference names.
func (s Secret) EnvVar() (string, bool) {
	if m := envRef.FindStringSubmatch(string(s)); m != nil {
		return m[1], true
	}
	return "", false
}

// provided holds the values of ${ENV} references given to this process
// (asked for on a terminal), never exported to a child process.
var provided sync.Map

// ProvideSecret gives the ${name} references of this process a value, as
// if the variable were set.
func ProvideSecret(name, value string) { provided.Store(name, value) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// MarshalText keeps JSON and YAML encoders from printing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Names returns the host names, sorted.
func (inv *Inventory) Names() []string {
	inv.index()
	return inv.names
}

// Select returns the hosts keep accepts, sorted by name.
func (inv *Inventory) Select(keep func(*Host) bool) []*Host {
	var out []*Host
	for _, n := range inv.Names() {
		if h := inv.Hosts[n]; keep == nil || keep(h) {
			out = append(out, h)
		}
	}
	return out
}

// HostsWithRole returns the hosts having role, sorted by name.
func (inv *Inventory) HostsWithRole(role string) []*Host {
	inv.index()
	return inv.byRole[role]
}

// NetworksWithRole returns the networks filling role, sorted by name.
func (inv *Inventory) NetworksWithRole(role string) []*Network {
	var out []*Network
	for _, n := range sortedKeys(inv.Networks) {
		for _, r := range inv.Networks[n].Roles {
			if r == role {
				out = append(out, inv.Networks[n])
				break
			}
		}
	}
	return out
}

// HasRole reports whether any host or network fills role.
func (inv *Inventory) HasRole(role string) bool {
	if _, ok := inv.Groups[role]; ok {
		return true
	}
	return len(inv.NetworksWithRole(role)) > 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
