package intent

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAggregate(t *testing.T) {
	pp := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	cases := []struct{ in, want []netip.Prefix }{
		{pp("198.18.1.1/32", "198.18.1.5/32"), pp("198.18.1.1/32", "198.18.1.5/32")},
		{pp("198.18.1.0/32", "198.18.1.1/32"), pp("198.18.1.0/31")},                      // siblings merge
		{pp("198.18.1.5/32", "198.18.1.1/32"), pp("198.18.1.1/32", "198.18.1.5/32")},     // unsorted
		{pp("198.18.0.0/16", "198.18.1.0/24"), pp("198.18.0.0/16")},                      // overlap
		{pp("198.18.1.0/25", "198.18.1.128/26", "198.18.1.192/26"), pp("198.18.1.0/24")}, // chain merge
		{pp("198.18.1.1/24"), pp("198.18.1.0/24")},                                       // unmasked
		{pp("2001:db8::1/128", "2001:db8::3/128"), pp("2001:db8::1/128", "2001:db8::3/128")},
		{nil, nil},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Aggregate(c.in), "%v", c.in)
	}
}
