package netacl

import "maps"

// WithPortNames returns a copy of d that also reads the given port names
// (tcp, udp): tests parse other tools' output, whose names a device may
// not print.
func (d *Dialect) WithPortNames(tcp, udp map[string]int) *Dialect {
	c := *d
	c.names.TCP = maps.Clone(d.names.TCP)
	c.names.UDP = maps.Clone(d.names.UDP)
	maps.Copy(c.names.TCP, tcp)
	maps.Copy(c.names.UDP, udp)
	return &c
}
