package inventory

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/hostiletest"
)

// hostileInventory is a valid inventory with one field replaced by v (a
// YAML scalar); the field is always on line 4 of its file.
func hostileInventory(field, v string) map[string]string {
	hosts := "# hostile\nweb-1:\n  platform: linux\n  hostname: 198.18.1.1\n  groups: [web]\n  data:\n    addresses: [198.18.1.1]\n"
	groups := "# hostile\n\n\nweb: {}\n"
	networks := "# hostile\nmanagement:\n  - 198.18.0.0/24\n  - 2001:db8::/64\nnetworks:\n  clients:\n    prefixes: [198.19.0.0/16]\n"
	switch field {
	case "host name":
		hosts = "# hostile\nweb-1:\n  platform: linux\n" + v + ":\n  platform: linux\n  hostname: 198.18.1.2\n"
	case "hostname":
		hosts = strings.Replace(hosts, "hostname: 198.18.1.1", "hostname: "+v, 1)
	case "data.addresses":
		hosts = "# hostile\nweb-1:\n  platform: linux\n  data: {addresses: [198.18.1.1, " + v + "]}\n"
	case "host groups":
		hosts = "# hostile\nweb-1:\n  platform: linux\n  groups: [" + v + "]\n"
	case "group name":
		groups = "# hostile\n\n\n" + v + ": {}\nweb: {}\n"
	case "group hostname":
		groups = "# hostile\nweb:\n  platform: linux\n  hostname: " + v + "\n"
	case "management":
		networks = "# hostile\nmanagement:\n  - 198.18.0.0/24\n  - " + v + "\n"
	case "network name":
		networks = "# hostile\nmanagement: [198.18.0.0/24]\nnetworks:\n  " + v + ":\n    prefixes: [198.19.0.0/16]\n"
	case "network prefix":
		networks = "# hostile\nmanagement: [198.18.0.0/24]\nnetworks:\n  clients: {prefixes: [" + v + "]}\n"
	case "network role":
		networks = "# hostile\nmanagement: [198.18.0.0/24]\nnetworks:\n  clients: {roles: [" + v + "], prefixes: [198.19.0.0/16]}\n"
	case "network description", "data value", "username":
		// free text: checked by the caller
	default:
		panic(field)
	}
	return map[string]string{"hosts.yaml": hosts, "groups.yaml": groups, "networks.yaml": networks}
}

// fileOf says which file holds each field of hostileInventory.
var fileOf = map[string]string{
	"host name": "hosts.yaml", "hostname": "hosts.yaml", "data.addresses": "hosts.yaml", "host groups": "hosts.yaml",
	"group name": "groups.yaml", "group hostname": "groups.yaml",
	"management": "networks.yaml", "network name": "networks.yaml", "network prefix": "networks.yaml", "network role": "networks.yaml",
}

// TestHostileInventory feeds every hostile string to every inventory field.
// A field with a grammar (names, hostnames, addresses, prefixes) rejects
// it with file:line, and the message shows it escaped and cut, never raw;
// a free-text field keeps it byte for byte.
func TestHostileInventory(t *testing.T) {
	c := hostiletest.NewCanaries(t)
	for _, p := range c.Corpus() {
		v := hostiletest.YAML(p.Text)
		for field, file := range fileOf {
			t.Run(p.Name+"/"+field, func(t *testing.T) {
				_, err := LoadFS(mapFS(hostileInventory(field, v)), "inv")
				require.Error(t, err, "accepted")
				assert.Regexp(t, regexp.MustCompile(`(^|\n)inv/`+regexp.QuoteMeta(file)+`:4:\d+: `), err.Error())
				msg := err.Error()
				assert.Less(t, len(msg), 4096, "the message quotes a cut value")
				assert.NotRegexp(t, "[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f\u202e\u2028]", msg, "control characters are escaped")
			})
		}
		t.Run(p.Name+"/free text", func(t *testing.T) {
			files := hostileInventory("network description", v)
			files["networks.yaml"] += "    description: " + v + "\n"
			files["hosts.yaml"] = strings.Replace(files["hosts.yaml"], "  data:\n", "  username: "+v+"\n  data:\n    note: "+v+"\n", 1)
			inv, err := LoadFS(mapFS(files), "inv")
			require.NoError(t, err)
			assert.Equal(t, p.Text, inv.Networks["clients"].Description)
			assert.Equal(t, p.Text, inv.Hosts["web-1"].Data["note"])
			assert.Equal(t, p.Text, inv.Hosts["web-1"].Username)
		})
	}
	assert.Empty(t, c.Fired())
}

// TestAddressForms: the address forms a firewall cannot express.
func TestAddressForms(t *testing.T) {
	cases := map[string]struct {
		hostAddr, prefix string // "" when accepted
	}{
		"198.18.1.1":                {},
		"2001:db8::1":               {},
		"fe80::1":                   {},
		"127.0.0.1":                 {},
		"198.18.1.5/24":             {prefix: "host bits set"},
		"fe80::1%eth0":              {hostAddr: "IPv6 zone", prefix: "IPv6 zone"},
		"::ffff:198.18.1.1":         {hostAddr: "write 198.18.1.1", prefix: "write 198.18.1.1"},
		"::ffff:198.18.0.0/112":     {hostAddr: "IPv4-mapped", prefix: "IPv4-mapped"},
		"0.0.0.0":                   {hostAddr: "unspecified"},
		"::":                        {hostAddr: "unspecified"},
		"224.0.0.251":               {hostAddr: "multicast"},
		"ff02::fb":                  {hostAddr: "multicast"},
		"0.0.0.0/0":                 {hostAddr: "unspecified"},
		"[2001:db8::1]":             {hostAddr: "bad address", prefix: "bad address"},
		"198.18.1.1%`touch x`":      {hostAddr: "bad address", prefix: "bad address"},
		"2001:db8::1%$(touch x)":    {hostAddr: "IPv6 zone", prefix: "IPv6 zone"},
		"2001:db8::1%x/64":          {hostAddr: "IPv6 zone", prefix: "bad CIDR"},
		"2001:db8::1/64%$(x)":       {hostAddr: "bad address", prefix: "bad CIDR"},
		"198.18.1.1 ; touch x":      {hostAddr: "bad address", prefix: "bad address"},
		"198.18.1.1\n198.18.1.2":    {hostAddr: "bad address", prefix: "bad address"},
		"2001:db8::ffff:198.18.1.1": {},
	}
	for in, want := range cases {
		_, err := parseHostAddr(in)
		check(t, "host address "+in, want.hostAddr, err)
		_, err = ParsePrefix(in)
		check(t, "prefix "+in, want.prefix, err)
	}
	for in, want := range map[string]string{
		"sprout-1": "", "core-rtr01.example.com": "", "SW_01": "", "198.18.1.1": "", "2001:db8::1": "",
		"fe80::1%eth0": "IPv6 zone", "-oProxyCommand=x": "want an IP address", "a b": "want an IP address",
		"[2001:db8::1]": "want an IP address", "host:22": "want an IP address", "ff02::1": "multicast",
	} {
		_, _, err := checkHostname(in)
		check(t, "hostname "+in, want, err)
	}
}

func check(t *testing.T, what, want string, err error) {
	t.Helper()
	if want == "" {
		assert.NoError(t, err, what)
		return
	}
	if assert.Error(t, err, what) {
		assert.Contains(t, err.Error(), want, fmt.Sprintf("%s: %v", what, err))
	}
}
