package juniperjunos

import (
	"encoding/xml"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/drivers/netconfdev"
)

// The device's configuration as XML. Both dialects use the same element
// names (the YANG-compliant one adds namespaces), so one reading serves
// both: encoding/xml matches local names when the struct names none.

type xConfig struct {
	Firewall struct {
		Macros []xMacro `xml:"apply-macro"`
		Family struct {
			Inet  xFamily `xml:"inet"`
			Inet6 xFamily `xml:"inet6"`
		} `xml:"family"`
	} `xml:"firewall"`
	PolicyOptions struct {
		Lists []struct {
			Name  string `xml:"name"`
			Items []struct {
				Name string `xml:"name"`
			} `xml:"prefix-list-item"`
		} `xml:"prefix-list"`
	} `xml:"policy-options"`
	Interfaces struct {
		Interfaces []struct {
			Name  string `xml:"name"`
			Units []struct {
				Name   string `xml:"name"`
				Family struct {
					Inet  *xIfFamily `xml:"inet"`
					Inet6 *xIfFamily `xml:"inet6"`
				} `xml:"family"`
			} `xml:"unit"`
		} `xml:"interface"`
	} `xml:"interfaces"`
}

type xMacro struct {
	Name string `xml:"name"`
	Data []struct {
		Name  string `xml:"name"`
		Value string `xml:"value"`
	} `xml:"data"`
}

type xFamily struct {
	Filters []xFilter `xml:"filter"`
}

type xFilter struct {
	Name  string  `xml:"name"`
	Terms []xTerm `xml:"term"`
	Other []xAny  `xml:",any"`
}

type xTerm struct {
	Name  string `xml:"name"`
	From  *xFrom `xml:"from"`
	Then  *xThen `xml:"then"`
	Other []xAny `xml:",any"`
}

type xFrom struct {
	SrcLists       []xNamed  `xml:"source-prefix-list"`
	DstLists       []xNamed  `xml:"destination-prefix-list"`
	Protocol       []string  `xml:"protocol"`
	NextHeader     []string  `xml:"next-header"`
	SrcPorts       []string  `xml:"source-port"`
	DstPorts       []string  `xml:"destination-port"`
	ICMPTypes      []string  `xml:"icmp-type"`
	TCPEstablished *struct{} `xml:"tcp-established"`
	Other          []xAny    `xml:",any"`
}

type xThen struct {
	Accept  *struct{} `xml:"accept"`
	Discard *xAny     `xml:"discard"`
	Reject  *xAny     `xml:"reject"`
	Count   string    `xml:"count"`
	Syslog  *struct{} `xml:"syslog"`
	Other   []xAny    `xml:",any"`
}

type xNamed struct {
	Name   string    `xml:"name"`
	Except *struct{} `xml:"except"`
}

type xAny struct {
	XMLName xml.Name
	Inner   string `xml:",innerxml"`
}

func (a xAny) String() string {
	inner := strings.Join(strings.Fields(a.Inner), " ")
	return "<" + a.XMLName.Local + ">" + inner + "</" + a.XMLName.Local + ">"
}

type xIfFamily struct {
	Filter *struct {
		Input      *xFilterRef `xml:"input"`
		Output     *xFilterRef `xml:"output"`
		InputList  []string    `xml:"input-list"`
		OutputList []string    `xml:"output-list"`
	} `xml:"filter"`
}

type xFilterRef struct {
	Name string `xml:"filter-name"`
}

// markerName is the apply-macro under firewall that holds the trial
// marker: inside the owned hierarchy, named like everything fwpush owns.
const markerName = Prefix + "TRIAL"

// deviceState is what Read keeps for Edit: the owned part as a model, and
// which filter slots hold something that is not fwpush's.
type deviceState struct {
	cfg     Config
	foreign map[string]string // Binding.key() → what occupies it
	marker  bool
}

// read parses a <configuration> (with or without namespaces) into the
// owned part, the marker and the foreign filters beside fwpush's.
func read(data string) (netconfdev.State, error) {
	data = strings.TrimSpace(data)
	st := &deviceState{foreign: map[string]string{}}
	out := netconfdev.State{Private: st}
	if data == "" {
		out.Config = st.cfg.config()
		return out, nil
	}
	var x xConfig
	if err := xml.Unmarshal([]byte(data), &x); err != nil {
		return netconfdev.State{}, fmt.Errorf("configuration: %w", err)
	}
	for _, m := range x.Firewall.Macros {
		if m.Name == markerName {
			f := map[string]string{}
			for _, d := range m.Data {
				f[d.Name] = d.Value
			}
			out.Marker, st.marker = netconfdev.ParseMarker(f), true
		}
	}
	for _, l := range x.PolicyOptions.Lists {
		if !strings.HasPrefix(l.Name, Prefix) {
			continue
		}
		pl := PrefixList{Name: l.Name}
		for _, it := range l.Items {
			p, err := netip.ParsePrefix(strings.TrimSpace(it.Name))
			if err != nil {
				return netconfdev.State{}, fmt.Errorf("prefix-list %s: %w", l.Name, err)
			}
			pl.Prefixes = append(pl.Prefixes, p)
		}
		st.cfg.PrefixLists = append(st.cfg.PrefixLists, pl)
	}
	for _, fam := range []struct {
		name string
		x    xFamily
	}{{"inet", x.Firewall.Family.Inet}, {"inet6", x.Firewall.Family.Inet6}} {
		for _, xf := range fam.x.Filters {
			if !strings.HasPrefix(xf.Name, Prefix) {
				continue
			}
			f := Filter{Family: fam.name, Name: xf.Name}
			for _, xt := range xf.Terms {
				f.Terms = append(f.Terms, readTermXML(xt))
			}
			if len(xf.Other) > 0 && len(f.Terms) > 0 {
				for _, o := range xf.Other {
					f.Terms[0].Foreign = append(f.Terms[0].Foreign, "filter: "+o.String())
				}
			}
			st.cfg.Filters = append(st.cfg.Filters, f)
		}
	}
	owned := map[string]bool{}
	for _, in := range x.Interfaces.Interfaces {
		for _, u := range in.Units {
			for _, fam := range []struct {
				name string
				f    *xIfFamily
			}{{"inet", u.Family.Inet}, {"inet6", u.Family.Inet6}} {
				if fam.f == nil || fam.f.Filter == nil {
					continue
				}
				fl := fam.f.Filter
				for _, dir := range []struct {
					name string
					ref  *xFilterRef
					list []string
				}{{"input", fl.Input, fl.InputList}, {"output", fl.Output, fl.OutputList}} {
					b := Binding{Interface: in.Name, Unit: u.Name, Family: fam.name, Direction: dir.name}
					switch {
					case dir.ref != nil && strings.HasPrefix(dir.ref.Name, Prefix):
						b.Filter = dir.ref.Name
						st.cfg.Bindings = append(st.cfg.Bindings, b)
						owned[in.Name+"\x00"+u.Name] = true
					case dir.ref != nil:
						st.foreign[b.key()] = fmt.Sprintf("%s filter %s", dir.name, dir.ref.Name)
					case len(dir.list) > 0:
						st.foreign[b.key()] = fmt.Sprintf("%s-list [ %s ]", dir.name, strings.Join(dir.list, " "))
					}
				}
			}
		}
	}
	st.cfg.normalize()
	out.Config = st.cfg.config()
	for _, key := range sortedKeys(st.foreign) {
		f := strings.Split(key, "\x00")
		if owned[f[0]+"\x00"+f[1]] {
			out.Foreign = append(out.Foreign, fmt.Sprintf("interfaces %s unit %s family %s: %s is not fwpush's; it filters this interface too",
				f[0], f[1], f[2], st.foreign[key]))
		}
	}
	return out, nil
}

func readTermXML(xt xTerm) Term {
	t := Term{Name: xt.Name}
	for _, o := range xt.Other {
		t.Foreign = append(t.Foreign, o.String())
	}
	if f := xt.From; f != nil {
		for _, l := range f.SrcLists {
			t.SrcLists = append(t.SrcLists, l.Name)
			if l.Except != nil {
				t.Foreign = append(t.Foreign, "source-prefix-list "+l.Name+" except")
			}
		}
		for _, l := range f.DstLists {
			t.DstLists = append(t.DstLists, l.Name)
			if l.Except != nil {
				t.Foreign = append(t.Foreign, "destination-prefix-list "+l.Name+" except")
			}
		}
		protos := append(append([]string(nil), f.Protocol...), f.NextHeader...)
		if len(protos) > 0 {
			t.Protocol = strings.Join(protos, " ")
		}
		t.SrcPorts, t.DstPorts, t.ICMPTypes = trimAll(f.SrcPorts), trimAll(f.DstPorts), trimAll(f.ICMPTypes)
		t.TCPEstablished = f.TCPEstablished != nil
		for _, o := range f.Other {
			t.Foreign = append(t.Foreign, "from: "+o.String())
		}
	}
	if th := xt.Then; th != nil {
		switch {
		case th.Accept != nil:
			t.Action = "accept"
		case th.Discard != nil:
			t.Action = "discard"
		case th.Reject != nil:
			t.Action = "reject"
		}
		t.Count, t.Syslog = strings.TrimSpace(th.Count), th.Syslog != nil
		for _, o := range th.Other {
			t.Foreign = append(t.Foreign, "then: "+o.String())
		}
	}
	if t.Action == "" {
		// Junos accepts what a term without an action matches; fwpush
		// always writes one.
		t.Action = "accept"
		t.Foreign = append(t.Foreign, "no then action (Junos accepts)")
	}
	return t
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func trimAll(ss []string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}
