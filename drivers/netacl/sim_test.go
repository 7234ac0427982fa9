package netacl_test

import (
	"fmt"
	"net/netip"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers/netacl"
	"github.com/fwpush/fwpush/testbed/enforce"
	"github.com/fwpush/fwpush/testbed/netsim"
)

var simOf = map[netacl.Syntax]netsim.Platform{netacl.IOS: netsim.PlatformIOSXE, netacl.NXOS: netsim.PlatformNXOS, netacl.EOS: netsim.PlatformEOS}

// TestSimulatorsEnforceEveryKind types every rendered router ACL (the
// seeds' and one of every rule kind) into the labelled simulator of its
// dialect: the simulator takes every line (its running config reads back
// as rendered) and the filter it hands the lab's packet enforcement gives
// every sampled packet the verdict of fwpush's own evaluator, source
// ports and TCP's ACK included. What a simulator would leave out, the
// lab's probes could not prove.
func TestSimulatorsEnforceEveryKind(t *testing.T) {
	intents := seedRouterIntents(t)
	intents["kinds"] = kindsIntent()
	names := make([]string, 0, len(intents))
	for n := range intents {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, d := range []*netacl.Dialect{ios, nxos, eos} {
		for _, name := range names {
			in := intents[name]
			c, err := d.FromIntent(in)
			require.NoError(t, err, name)
			text := d.Text(c)
			ifmap := map[string]string{}
			linux := map[string]string{}
			for i, f := range in.Filters {
				ifmap[f.Binding.Interface] = fmt.Sprintf("eth%d", i+1)
				linux[f.Name] = ifmap[f.Binding.Interface]
			}
			dev, err := netsim.NewDevice(netsim.Options{Platform: simOf[d.Syntax], Hostname: "sim", Config: text, Interfaces: ifmap})
			require.NoError(t, err)
			back, err := d.Parse(dev.Exec("show running-config"))
			require.NoError(t, err)
			assert.Equal(t, text, d.Text(ownedOnly(&back.Config)), "%v %s: the simulator holds every line as rendered", d.Syntax, name)

			st := dev.State()
			for _, f := range in.Filters {
				var flt *enforce.Filter
				for _, b := range st.Bindings {
					if b.Interface == linux[f.Name] && string(b.Direction) == f.Binding.Direction {
						flt = b.Filter
					}
				}
				require.NotNil(t, flt, "%v %s %s: enforced", d.Syntax, name, f.Name)
				acls := map[bool]*netacl.ACL{false: c.ACL(f.Name, false), true: c.ACL(f.Name+netacl.V6Suffix, true)}
				bad := 0
				for _, p := range intentPackets(in, f, 3000) {
					ap := aclPacket(p)
					want, _ := c.Permits(acls[p.Dst.Is6()], ap)
					if got := enforcedPermits(flt, ap); got != want {
						if bad++; bad <= 5 {
							t.Errorf("%v %s %s: %+v: ACL %v, enforced %v", d.Syntax, name, f.Name, ap, want, got)
						}
					}
				}
			}
		}
	}
}

// ownedOnly keeps a parsed device's fwpush objects, without the
// interfaces' other lines, in canonical order.
func ownedOnly(c *netacl.Config) *netacl.Config {
	out := &netacl.Config{}
	for _, g := range c.Groups {
		if netacl.Owned(g.Name) {
			out.Groups = append(out.Groups, g)
		}
	}
	for _, a := range c.ACLs {
		if netacl.Owned(a.Name) {
			out.ACLs = append(out.ACLs, a)
		}
	}
	for _, i := range c.Ifaces {
		if i.In4+i.Out4+i.In6+i.Out6 != "" {
			out.Ifaces = append(out.Ifaces, i)
		}
	}
	sort.Slice(out.Groups, func(i, j int) bool { return out.Groups[i].Name < out.Groups[j].Name })
	sort.SliceStable(out.ACLs, func(i, j int) bool {
		if out.ACLs[i].Name != out.ACLs[j].Name {
			return out.ACLs[i].Name < out.ACLs[j].Name
		}
		return !out.ACLs[i].V6
	})
	sort.Slice(out.Ifaces, func(i, j int) bool { return out.Ifaces[i].Name < out.Ifaces[j].Name })
	return out
}

// enforcedPermits is what the lab's enforcement (testbed/enforce, as its
// nft rendering matches) does with p: the first rule matching decides,
// Permit passes, anything else stops it.
func enforcedPermits(f *enforce.Filter, p netacl.Packet) bool {
	fam := 6
	if p.Dst.Is4() {
		fam = 4
	}
	in := func(ps []enforce.PortRange, port int) bool {
		if len(ps) == 0 {
			return true
		}
		for _, r := range ps {
			if port >= int(r.Lo) && port <= int(r.Hi) {
				return true
			}
		}
		return false
	}
	for _, r := range f.Rules {
		proto := int(r.Proto)
		if r.Established {
			proto = 6
		}
		switch {
		case r.Family != 0 && r.Family != fam,
			proto != 0 && proto != p.Proto,
			len(r.Src) > 0 && !anyContains(r.Src, p.Src),
			len(r.Dst) > 0 && !anyContains(r.Dst, p.Dst),
			!in(r.SrcPorts, p.SrcPort), !in(r.DstPorts, p.DstPort),
			r.Established && !p.Ack:
			continue
		}
		if len(r.ICMPTypes) > 0 {
			hit := false
			for _, ty := range r.ICMPTypes {
				hit = hit || int(ty) == p.ICMPType
			}
			if !hit {
				continue
			}
		}
		return r.Action == enforce.Permit
	}
	return f.Default == enforce.Permit
}

func anyContains(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
