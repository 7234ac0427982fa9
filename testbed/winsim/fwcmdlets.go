package winsim

import (
	"fmt"
	"strconv"
	"strings"
)

const ruleClass = "MSFT_NetFirewallRule"

func ruleObject(r *Rule) *psObject {
	enabled := "False"
	if r.Enabled {
		enabled = "True"
	}
	return &psObject{typeName: "Microsoft.Management.Infrastructure.CimInstance#root/standardcimv2/MSFT_NetFirewallRule",
		props: objProps("Name", r.Name, "DisplayName", r.DisplayName, "Description", r.Description, "Group", r.Group,
			"DisplayGroup", r.Group, "Enabled", enabled, "Direction", r.Direction, "Action", r.Action,
			"Profile", strings.Join(r.Profile, ", "), "PrimaryStatus", "OK"),
		native: r.Name}
}

func objProps(kv ...any) *omap {
	m := newOmap()
	for i := 0; i+1 < len(kv); i += 2 {
		m.set(kv[i].(string), kv[i+1])
	}
	return m
}

func strValues(ss []string) []value {
	out := make([]value, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// checkRule validates and normalizes a rule as New-NetFirewallRule does.
func checkRule(r *Rule) error {
	if r.Name == "" || r.DisplayName == "" {
		return winErr(invented + "a rule needs a Name and a DisplayName")
	}
	if r.Direction == "" {
		r.Direction = "Inbound"
	}
	if r.Action == "" {
		r.Action = "Allow"
	}
	if len(r.Profile) == 0 {
		r.Profile = []string{"Any"}
	}
	p := strings.ToUpper(r.Protocol)
	switch p {
	case "", "ANY":
		r.Protocol = "Any"
	case "TCP", "UDP":
		r.Protocol = p
	case "ICMPV4":
		r.Protocol = "ICMPv4"
	case "ICMPV6":
		r.Protocol = "ICMPv6"
	default:
		n, err := strconv.Atoi(r.Protocol)
		if err != nil || n < 0 || n > 255 {
			return winErr("The protocol is invalid. Specify a protocol number from 0 to 255, or one of the keywords TCP, UDP, ICMPv4, ICMPv6, Any.")
		}
		switch n {
		case 6:
			r.Protocol = "TCP"
		case 17:
			r.Protocol = "UDP"
		case 1:
			r.Protocol = "ICMPv4"
		case 58:
			r.Protocol = "ICMPv6"
		}
	}
	ports := r.Protocol == "TCP" || r.Protocol == "UDP"
	for _, f := range []*[]string{&r.LocalPort, &r.RemotePort} {
		if len(*f) == 0 {
			*f = []string{"Any"}
			continue
		}
		if !ports && !(len(*f) == 1 && strings.EqualFold((*f)[0], "any")) {
			return winErr("The port is invalid. When Protocol is TCP or UDP, individual ports or ranges are allowed. Also, the following port keywords are allowed on LocalPort: RPC, RPCEPMap, Teredo, IPHTTPSIn, IPHTTPSOut, PlayToDiscovery.")
		}
		n, err := normPorts(*f)
		if err != nil {
			return err
		}
		*f = n
	}
	icmp := r.Protocol == "ICMPv4" || r.Protocol == "ICMPv6"
	if len(r.IcmpType) == 0 || len(r.IcmpType) == 1 && strings.EqualFold(r.IcmpType[0], "any") {
		r.IcmpType = []string{"Any"}
	} else if !icmp {
		return winErr("The ICMP type is invalid. The ICMP type may be specified only when the protocol is ICMPv4 or ICMPv6.")
	} else {
		for _, t := range r.IcmpType {
			typ, code, hasCode := strings.Cut(t, ":")
			n, err := strconv.Atoi(typ)
			c := 0
			if hasCode {
				c, err = strconv.Atoi(code)
			}
			if strings.EqualFold(t, "any") {
				continue
			}
			if err != nil || n < 0 || n > 255 || c < 0 || c > 255 {
				return winErr("The ICMP type is invalid. Specify ICMP types as a number from 0 to 255, optionally followed by a colon and a code from 0 to 255.")
			}
		}
	}
	for _, f := range []*[]string{&r.LocalAddress, &r.RemoteAddress} {
		if len(*f) == 0 {
			*f = []string{"Any"}
			continue
		}
		var out []string
		for _, a := range *f {
			n, err := normAddress(strings.TrimSpace(a))
			if err != nil {
				return err
			}
			if n == "Any" {
				if len(*f) > 1 {
					return winErr("The address is invalid. Any cannot be combined with other addresses.")
				}
				out = []string{"Any"}
				break
			}
			out = append(out, n)
		}
		*f = out
	}
	if icmp {
		fam := 4
		if r.Protocol == "ICMPv6" {
			fam = 6
		}
		for _, p := range append(prefixes(r.RemoteAddress), prefixes(r.LocalAddress)...) {
			if p.Addr().Is4() != (fam == 4) {
				return winErr(invented+"address %s does not match the protocol %s", p, r.Protocol)
			}
		}
	}
	return nil
}

// selectRules returns the rules a Get/Remove-NetFirewallRule call selects,
// or reports the CIM "not found" error naming the first filter that
// matched nothing.
func (in *interp) selectRules(b *bound, cmd string) []*Rule {
	d := in.dev
	var out []*Rule
	for _, name := range d.ruleOrder() {
		r := d.rules[strings.ToLower(name)]
		ok := true
		if b.has("Name") {
			ok = ok && anyFold(b.strs("Name"), r.Name)
		}
		if b.has("DisplayName") {
			ok = ok && anyFold(b.strs("DisplayName"), r.DisplayName)
		}
		if b.has("Group") {
			ok = ok && anyFold(b.strs("Group"), r.Group)
		}
		if b.has("Enabled") {
			ok = ok && strings.EqualFold(b.str("Enabled"), strconv.FormatBool(r.Enabled))
		}
		if b.has("Direction") {
			ok = ok && b.str("Direction") == r.Direction
		}
		if b.has("Action") {
			ok = ok && b.str("Action") == r.Action
		}
		if b.has("InputObject") {
			ok = false
			for _, o := range enumerate(b.vals["InputObject"]) {
				if po, isObj := o.(*psObject); isObj && po.native == r.Name {
					ok = true
				}
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		for _, f := range []string{"Name", "DisplayName", "Group", "Enabled", "Direction", "Action"} {
			if b.has(f) {
				in.cmdError(b.action, notFound(ruleClass, f, strings.Join(b.strs(f), ", "), cmd))
				return nil
			}
		}
	}
	return out
}

func anyFold(list []string, s string) bool {
	for _, x := range list {
		if like(s, x) {
			return true
		}
	}
	return false
}

func registerFirewall() {
	selectors := []param{strsp("Name", 0, "ID"), strsp("DisplayName", -1), strsp("Group", -1),
		enum("Enabled", "Enabled", false, "True", "False"), enum("Direction", "Direction", false, "Inbound", "Outbound"),
		enum("Action", "Action", false, "NotConfigured", "Allow", "Block")}
	register(
		&cmdlet{name: "New-NetFirewallRule", params: []param{
			strp("Name", -1, false, "id"), strp("DisplayName", -1, true), strp("Description", -1, false), strp("Group", -1, false),
			enum("Enabled", "Enabled", false, "True", "False"), enum("Direction", "Direction", false, "Inbound", "Outbound"),
			enum("Action", "Action", false, "NotConfigured", "Allow", "Block"),
			enum("Profile", "Profile", true, "Any", "Domain", "Private", "Public", "NotApplicable"),
			strp("Protocol", -1, false), strsp("LocalPort", -1), strsp("RemotePort", -1), strsp("IcmpType", -1),
			strsp("LocalAddress", -1), strsp("RemoteAddress", -1),
		}, run: func(in *interp, b *bound) []value {
			d := in.dev
			r := &Rule{Name: b.str("Name"), DisplayName: b.str("DisplayName"), Description: b.str("Description"), Group: b.str("Group"),
				Direction: b.str("Direction"), Action: b.str("Action"), Enabled: !b.has("Enabled") || b.str("Enabled") == "True",
				Profile: b.strs("Profile"), Protocol: b.str("Protocol"), LocalPort: b.strs("LocalPort"), RemotePort: b.strs("RemotePort"),
				IcmpType: b.strs("IcmpType"), LocalAddress: b.strs("LocalAddress"), RemoteAddress: b.strs("RemoteAddress")}
			if r.Name == "" {
				r.Name = fmt.Sprintf("{%08x-0000-4000-8000-%012x}", len(d.rules), d.clock.Now().UnixNano()&0xffffffffffff)
			}
			if err := checkRule(r); err != nil {
				in.cmdError(b.action, &psError{msg: err.Error(), category: "InvalidArgument", fqid: "HRESULT 0x80070057,New-NetFirewallRule", target: "MSFT_NetFirewallRule", exType: "CimException"})
				return nil
			}
			d.mu.Lock()
			defer d.mu.Unlock()
			if _, dup := d.rules[strings.ToLower(r.Name)]; dup {
				in.cmdError(b.action, &psError{msg: "Cannot create a file when that file already exists.", category: "NotSpecified", fqid: "Windows System Error 183,New-NetFirewallRule", target: "MSFT_NetFirewallRule:root/standardcimv2/MSFT_NetFirewallRule", exType: "CimException"})
				return nil
			}
			d.rules[strings.ToLower(r.Name)] = r
			d.changed()
			return []value{ruleObject(r)}
		}},
		&cmdlet{name: "Get-NetFirewallRule", params: append(append([]param(nil), selectors...), sw("All")), run: func(in *interp, b *bound) []value {
			in.dev.mu.Lock()
			defer in.dev.mu.Unlock()
			var out []value
			for _, r := range in.selectRules(b, "Get-NetFirewallRule") {
				out = append(out, ruleObject(r))
			}
			return out
		}},
		&cmdlet{name: "Remove-NetFirewallRule", shouldProcess: true,
			params: append(append([]param(nil), selectors...), pipeObj("InputObject", -1, false)),
			run: func(in *interp, b *bound) []value {
				d := in.dev
				d.mu.Lock()
				defer d.mu.Unlock()
				if b.flag("WhatIf") {
					return nil
				}
				for _, r := range in.selectRules(b, "Remove-NetFirewallRule") {
					delete(d.rules, strings.ToLower(r.Name))
					d.changed()
				}
				return nil
			}},
		&cmdlet{name: "Get-NetFirewallPortFilter", params: []param{pipeObj("AssociatedNetFirewallRule", -1, true)}, run: func(in *interp, b *bound) []value {
			r := in.associated(b, "Get-NetFirewallPortFilter")
			if r == nil {
				return nil
			}
			return []value{&psObject{typeName: "Microsoft.Management.Infrastructure.CimInstance#root/standardcimv2/MSFT_NetProtocolPortFilter",
				props: objProps("Protocol", r.Protocol, "LocalPort", strValues(r.LocalPort), "RemotePort", strValues(r.RemotePort),
					"IcmpType", strValues(r.IcmpType), "DynamicTarget", "Any")}}
		}},
		&cmdlet{name: "Get-NetFirewallAddressFilter", params: []param{pipeObj("AssociatedNetFirewallRule", -1, true)}, run: func(in *interp, b *bound) []value {
			r := in.associated(b, "Get-NetFirewallAddressFilter")
			if r == nil {
				return nil
			}
			return []value{&psObject{typeName: "Microsoft.Management.Infrastructure.CimInstance#root/standardcimv2/MSFT_NetAddressFilter",
				props: objProps("LocalAddress", strValues(r.LocalAddress), "RemoteAddress", strValues(r.RemoteAddress))}}
		}},
		&cmdlet{name: "Get-NetFirewallProfile", params: []param{strsp("Name", 0, "Profile")}, run: func(in *interp, b *bound) []value {
			in.dev.mu.Lock()
			defer in.dev.mu.Unlock()
			var out []value
			for _, p := range in.dev.profiles {
				if b.has("Name") && !anyFold(b.strs("Name"), p.Name) {
					continue
				}
				enabled := "False"
				if p.Enabled {
					enabled = "True"
				}
				out = append(out, &psObject{typeName: "Microsoft.Management.Infrastructure.CimInstance#root/standardcimv2/MSFT_NetFirewallProfile",
					props: objProps("Name", p.Name, "Enabled", enabled, "DefaultInboundAction", p.DefaultInboundAction, "DefaultOutboundAction", p.DefaultOutboundAction)})
			}
			if len(out) == 0 {
				in.cmdError(b.action, notFound("MSFT_NetFirewallProfile", "Name", strings.Join(b.strs("Name"), ", "), "Get-NetFirewallProfile"))
			}
			return out
		}},
	)
}

// associated is the rule a filter cmdlet was given.
func (in *interp) associated(b *bound, cmd string) *Rule {
	o, ok := b.vals["AssociatedNetFirewallRule"].(*psObject)
	if !ok || o.native == nil {
		in.fail(&psError{msg: fmt.Sprintf("Cannot bind parameter 'AssociatedNetFirewallRule'. Cannot convert the \"%s\" value of type \"%s\" to type \"Microsoft.Management.Infrastructure.CimInstance\".", toString(b.vals["AssociatedNetFirewallRule"]), typeName(b.vals["AssociatedNetFirewallRule"])),
			category: "InvalidArgument", fqid: "CannotConvertArgument," + cmd, cmd: cmd, exType: "ParameterBindingException"})
	}
	in.dev.mu.Lock()
	defer in.dev.mu.Unlock()
	r, ok := in.dev.rules[strings.ToLower(o.native.(string))]
	if !ok {
		in.cmdError(b.action, &psError{msg: "The specified object was not found.", category: "ObjectNotFound", fqid: "Windows System Error 2," + cmd, cmd: cmd})
		return nil
	}
	return r
}
