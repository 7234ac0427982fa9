package testbed

import (
	"net/netip"
	"strings"
	"testing"
)

func pfx(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, x := range s {
		out = append(out, netip.MustParsePrefix(x))
	}
	return out
}

func TestValidateHosts(t *testing.T) {
	ok := HostSpec{Name: "a", Addrs: pfx("198.18.1.11/15", "2001:db8:1::11/32"), TCP: []uint16{80}, UDP: []uint16{53}}
	tests := map[string]struct {
		hosts   []HostSpec
		wantErr string // "" means valid
	}{
		"valid":             {hosts: []HostSpec{ok, {Name: "b-2.x_y", Addrs: pfx("198.19.0.5/15")}}},
		"no hosts":          {wantErr: "no hosts"},
		"bad name":          {hosts: []HostSpec{{Name: "a/b", Addrs: ok.Addrs}}, wantErr: "name must match"},
		"empty name":        {hosts: []HostSpec{{Addrs: ok.Addrs}}, wantErr: "name must match"},
		"reserved ctl":      {hosts: []HostSpec{{Name: Controller, Addrs: ok.Addrs}}, wantErr: "reserved"},
		"reserved sw":       {hosts: []HostSpec{{Name: "sw", Addrs: ok.Addrs}}, wantErr: "reserved"},
		"duplicate name":    {hosts: []HostSpec{ok, {Name: "a", Addrs: pfx("198.18.1.12/15")}}, wantErr: "defined twice"},
		"no addresses":      {hosts: []HostSpec{{Name: "a"}}, wantErr: "no addresses"},
		"outside lab v4":    {hosts: []HostSpec{{Name: "a", Addrs: pfx("10.0.0.1/8")}}, wantErr: "outside the lab"},
		"outside lab v6":    {hosts: []HostSpec{{Name: "a", Addrs: pfx("2001:db9::1/32")}}, wantErr: "outside the lab"},
		"wrong length":      {hosts: []HostSpec{{Name: "a", Addrs: pfx("198.18.1.11/24")}}, wantErr: "use 198.18.1.11/15"},
		"controller addr":   {hosts: []HostSpec{{Name: "a", Addrs: pfx("198.18.0.1/15")}}, wantErr: "belongs to the controller"},
		"controller addr6":  {hosts: []HostSpec{{Name: "a", Addrs: pfx("2001:db8::1/32")}}, wantErr: "belongs to the controller"},
		"network address":   {hosts: []HostSpec{{Name: "a", Addrs: pfx("198.18.0.0/15")}}, wantErr: "network or broadcast"},
		"broadcast address": {hosts: []HostSpec{{Name: "a", Addrs: pfx("198.19.255.255/15")}}, wantErr: "network or broadcast"},
		"shared address":    {hosts: []HostSpec{ok, {Name: "b", Addrs: pfx("2001:db8:1::11/32")}}, wantErr: `belongs to host "a"`},
		"port zero":         {hosts: []HostSpec{{Name: "a", Addrs: ok.Addrs, UDP: []uint16{0}}}, wantErr: "zero or listed twice"},
		"port twice":        {hosts: []HostSpec{{Name: "a", Addrs: ok.Addrs, TCP: []uint16{80, 80}}}, wantErr: "zero or listed twice"},
		"tcp 22":            {hosts: []HostSpec{{Name: "a", Addrs: ok.Addrs, TCP: []uint16{22}}}, wantErr: "sshd's"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := validateHosts(tc.hosts)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestLabPrefix(t *testing.T) {
	tests := map[string]struct {
		addr, want string // want "" means error
	}{
		"v4":        {addr: "198.19.3.4", want: "198.19.3.4/15"},
		"v6":        {addr: "2001:db8:ff::1", want: "2001:db8:ff::1/32"},
		"mapped v4": {addr: "::ffff:198.18.0.9", want: "198.18.0.9/15"},
		"v4 out":    {addr: "198.20.0.1"},
		"v6 out":    {addr: "fe80::1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := LabPrefix(netip.MustParseAddr(tc.addr))
			if tc.want == "" {
				if err == nil {
					t.Fatalf("got %s, want an error", got)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("got %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	tests := map[string]struct {
		opt     Option
		wantErr string
		check   func(config) bool
	}{
		"prefix":          {opt: WithPrefix("t123"), check: func(c config) bool { return c.prefix == "t123" }},
		"prefix dash":     {opt: WithPrefix("t-1"), wantErr: "must match"},
		"prefix long":     {opt: WithPrefix(strings.Repeat("a", 17)), wantErr: "must match"},
		"root link":       {opt: WithRootLink(""), check: func(c config) bool { return c.rootLink == DefaultRootLink }},
		"root link named": {opt: WithRootLink("fwplab"), check: func(c config) bool { return c.rootLink == "fwplab" }},
		"root link long":  {opt: WithRootLink("abcdefghijklmnop"), wantErr: "must match"},
		"sshd lines":      {opt: WithSSHDConfig("MaxStartups 3:50:6"), check: func(c config) bool { return len(c.sshdExtra) == 1 }},
		"sshd newline":    {opt: WithSSHDConfig("A b\nC d"), wantErr: "one line"},
		"sshd match":      {opt: WithSSHDConfig("Match User x"), wantErr: "Match"},
		"listener empty":  {opt: WithListener(), wantErr: "empty"},
		"parallel 0":      {opt: WithParallel(0), wantErr: "1..256"},
		"timeout 0":       {opt: WithReadyTimeout(0), wantErr: "want"},
		"dir empty":       {opt: WithDir(""), wantErr: "empty"},
		"dir relative":    {opt: WithDir("x"), check: func(c config) bool { return strings.HasPrefix(c.dir, "/") }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := defaultConfig()
			err := tc.opt(&c)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !tc.check(c) {
				t.Fatalf("err %v, config %+v", err, c)
			}
		})
	}
}
