package netacl

import (
	"fmt"

	"github.com/goccy/go-yaml"
)

// Syntax is one of the three dialects.
type Syntax int

// The dialects.
const (
	IOS  Syntax = iota // Cisco IOS-XE
	NXOS               // Cisco NX-OS
	EOS                // Arista EOS
)

// Dialect is a syntax with its keyword tables: the port, protocol and
// ICMP names the device accepts and prints, read from the platform's
// embedded YAML (its `acl:` section).
type Dialect struct {
	Syntax Syntax
	names  tables
}

// tables are the names a device prints for numbers; the parser reads
// them back. fwpush itself always writes numbers.
type tables struct {
	TCP       map[string]int    `yaml:"tcp-ports"`
	UDP       map[string]int    `yaml:"udp-ports"`
	ICMP      map[string]int    `yaml:"icmp-types"`
	ICMPCodes map[string][2]int `yaml:"icmp-codes"`
	ICMPv6    map[string]int    `yaml:"icmpv6-types"`
	Protocols map[string]int    `yaml:"protocols"`
}

// NewDialect reads a platform's keyword tables from the `acl:` section
// of its YAML file.
func NewDialect(s Syntax, doc []byte) (*Dialect, error) {
	var f struct {
		ACL *tables `yaml:"acl"`
	}
	if err := yaml.Unmarshal(doc, &f); err != nil {
		return nil, fmt.Errorf("acl tables: %w", err)
	}
	if f.ACL == nil || len(f.ACL.Protocols) == 0 {
		return nil, fmt.Errorf("acl tables: no acl section with protocols")
	}
	return &Dialect{Syntax: s, names: *f.ACL}, nil
}

// MustDialect is NewDialect for a platform's embedded file.
func MustDialect(s Syntax, doc []byte) *Dialect {
	d, err := NewDialect(s, doc)
	if err != nil {
		panic(err)
	}
	return d
}

// indent is how the dialect indents a block's lines.
func (d *Dialect) indent() string {
	switch d.Syntax {
	case NXOS:
		return "  "
	case EOS:
		return "   "
	}
	return " "
}

// separator ends a block in canonical text.
func (d *Dialect) separator() string {
	if d.Syntax == NXOS {
		return ""
	}
	return "!"
}

// aclHeader opens an ACL.
func (d *Dialect) aclHeader(a *ACL) string {
	switch {
	case a.V6:
		return "ipv6 access-list " + a.Name
	case d.Syntax == IOS:
		return "ip access-list extended " + a.Name
	}
	return "ip access-list " + a.Name
}

// noACL deletes an ACL.
func (d *Dialect) noACL(name string, v6 bool) string {
	return "no " + d.aclHeader(&ACL{Name: name, V6: v6})
}

// groupHeader opens an object-group.
func (d *Dialect) groupHeader(g *Group) string {
	return "object-group " + string(g.Kind) + " " + g.Name
}

// bindWord is the interface command binding an ACL of a family.
func (d *Dialect) bindWord(v6 bool) string {
	switch {
	case !v6:
		return "ip access-group"
	case d.Syntax == EOS:
		return "ipv6 access-group"
	}
	return "ipv6 traffic-filter"
}

// aclOption is the list-wide per-entry counter line fwpush writes: hits
// per entry, which operators read to see what a policy matches.
func (d *Dialect) aclOption() string {
	switch d.Syntax {
	case NXOS:
		return "statistics per-entry"
	case EOS:
		return "counters per-entry"
	}
	return ""
}

// addrGroupKind is the object-group kind for a family's address sets,
// "" when the dialect has none (they are expanded).
func (d *Dialect) addrGroupKind(v6 bool) GroupKind {
	switch {
	case d.Syntax == IOS && !v6:
		return NetGroup
	case d.Syntax == NXOS && !v6:
		return Addr4
	case d.Syntax == NXOS:
		return Addr6
	}
	return ""
}

// portGroupKind is the object-group kind for several port ranges of a
// rule in a family, "" when the dialect has none (IOS-XE service groups
// are for IPv4 lists).
func (d *Dialect) portGroupKind(v6 bool) GroupKind {
	switch {
	case d.Syntax == IOS && !v6:
		return SvcGroup
	case d.Syntax == IOS:
		return ""
	case d.Syntax == NXOS:
		return PortGroup
	}
	return ""
}

// maxEq is how many single ports one `eq` may list.
func (d *Dialect) maxEq() int {
	if d.Syntax == EOS {
		return 10
	}
	return 1
}

// sharedRemarkSeq: IOS-XE numbers an IPv4 remark like the rule after it.
func (d *Dialect) sharedRemarkSeq(v6 bool) bool { return d.Syntax == IOS && !v6 }

// protoName is the keyword fwpush writes for a protocol number: the
// common ones by name, the rest as numbers.
func (d *Dialect) protoName(p int, v6 bool) string {
	switch p {
	case -1:
		if v6 {
			return "ipv6"
		}
		return "ip"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 132:
		return "sctp"
	case 1:
		if !v6 {
			return "icmp"
		}
	case 58:
		if v6 {
			if d.Syntax == EOS {
				return "icmpv6"
			}
			return "icmp"
		}
	}
	return fmt.Sprint(p)
}

// hasPorts reports whether a protocol carries ports.
func hasPorts(p int) bool { return p == 6 || p == 17 || p == 132 }
