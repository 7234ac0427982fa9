package openconfig_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/netconfdev"
	"github.com/fwpush/fwpush/drivers/openconfig"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// TestExpandCollapse: every golden, written out entry by entry for a
// device without defined-sets, reads back into itself; the expansion
// keeps the entries' order and references no set.
func TestExpandCollapse(t *testing.T) {
	files, err := filepath.Glob("testdata/render/*.golden")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		expanded, back, err := openconfig.ExpandCollapse(string(b))
		require.NoError(t, err, f)
		assert.Equal(t, string(b), back, "%s: collapse(expand(c)) == c", f)
		assert.NotContains(t, expanded, "prefix-set", f)
		assert.NotContains(t, expanded, "port-set", f)
		// Within each ACL set, the entries in sequence order come from the
		// original entries in their order.
		orig, exp := strings.Split(string(b), "<acl-set ")[1:], strings.Split(expanded, "<acl-set ")[1:]
		require.Len(t, exp, len(orig), f)
		for i := range orig {
			assert.Equal(t, descriptions(orig[i]), descriptions(exp[i]), "%s: entries keep their order", f)
		}
	}
}

const wire = `<acl xmlns="http://openconfig.net/yang/acl">
  <acl-sets>
    <acl-set><name>FWPUSH-TRIAL</name><type xmlns:x="http://openconfig.net/yang/acl">x:ACL_IPV4</type>
      <config><name>FWPUSH-TRIAL</name><type>ACL_IPV4</type>
        <description>fwpush trial run=r1; controller=ctl; user=ops; since=2026-01-02T03:04:05Z; deadline=2026-01-02T03:06:05Z</description></config></acl-set>
    <acl-set><name>FWPUSH-ETHERNET1-OUT</name><type xmlns:oc-acl="http://openconfig.net/yang/acl">oc-acl:ACL_IPV4</type>
      <config><name>FWPUSH-ETHERNET1-OUT</name><type>ACL_IPV4</type><description>fwpush: out on Ethernet1</description></config>
      <acl-entries>
        <acl-entry><sequence-id>10000</sequence-id><config><sequence-id>10000</sequence-id><description>pass</description></config>
          <actions><config><forwarding-action xmlns:oc-acl="http://openconfig.net/yang/acl">oc-acl:ACCEPT</forwarding-action></config></actions></acl-entry>
      </acl-entries></acl-set>
    <acl-set><name>OTHER</name><type>ACL_IPV4</type></acl-set>
  </acl-sets>
  <interfaces>
    <interface><id>Ethernet1</id><config><id>Ethernet1</id></config>
      <egress-acl-sets><egress-acl-set><set-name>FWPUSH-ETHERNET1-OUT</set-name><type>ACL_IPV4</type></egress-acl-set></egress-acl-sets>
      <ingress-acl-sets><ingress-acl-set><set-name>OTHER</set-name><type>ACL_IPV4</type></ingress-acl-set></ingress-acl-sets>
    </interface>
  </interfaces>
</acl>`

func TestRead(t *testing.T) {
	st, err := openconfig.Read(wire, false)
	require.NoError(t, err)
	require.NotNil(t, st.Marker)
	assert.Equal(t, "r1", st.Marker.Trial.Run)
	assert.Equal(t, time.Date(2026, 1, 2, 3, 6, 5, 0, time.UTC), st.Marker.Deadline)
	text := st.Config.String()
	assert.Contains(t, text, `<entry seq="10">`, "read back in Render's numbering")
	assert.Contains(t, text, "<forwarding-action>ACCEPT</forwarding-action>", "identities without their prefix")
	assert.NotContains(t, text, "OTHER")
	assert.NotContains(t, text, "FWPUSH-TRIAL")
	assert.Equal(t, []string{"interface Ethernet1: ingress ACL set OTHER (ACL_IPV4) is not fwpush's; it filters this interface too"}, st.Foreign)
}

// TestEdit: the marker and the bindings use prefixed identities; the old
// set is removed, the foreign one never named.
func TestEdit(t *testing.T) {
	st, err := openconfig.Read(wire, false)
	require.NoError(t, err)
	in := &intent.Intent{Host: "sw", Sets: []*intent.AddrSet{{Name: "web", Prefixes: []netipPrefix{mustPrefix("198.18.1.0/24")}}},
		Filters: []*intent.Filter{{Name: "FWPUSH-ETHERNET2-IN", Binding: intent.Binding{Kind: intent.Interface, Interface: "Ethernet2", Direction: "in"},
			Rules: []*intent.Rule{{ID: "flow-1", Kind: intent.FlowRule, Src: "web", Proto: policy.TCP,
				Ports: []policy.PortRange{{Lo: 80, Hi: 80}, {Lo: 443, Hi: 443}}}}}}}
	desired, err := openconfig.New().Render(in)
	require.NoError(t, err)
	m := &netconfdev.Marker{Trial: drivers.Trial{Run: "r2"}, Deadline: time.Date(2026, 1, 2, 3, 6, 5, 0, time.UTC)}
	for _, sets := range []bool{false, true} {
		got, err := openconfig.Edit(sets, st, desired, m)
		require.NoError(t, err)
		assert.Contains(t, got, `<acl-set nc:operation="remove"><name>FWPUSH-ETHERNET1-OUT</name>`)
		assert.Contains(t, got, `<egress-acl-set nc:operation="remove"><set-name>FWPUSH-ETHERNET1-OUT</set-name><type>oc-acl:ACL_IPV4</type>`)
		assert.Contains(t, got, `<ingress-acl-set nc:operation="replace"><set-name>FWPUSH-ETHERNET2-IN</set-name><type>oc-acl:ACL_IPV4</type>`)
		assert.Contains(t, got, `run=r2`)
		assert.NotContains(t, got, "OTHER")
		if sets {
			assert.Contains(t, got, "<source-address-prefix-set>FWPUSH-web</source-address-prefix-set>")
			assert.Contains(t, got, "<destination-port-set>FWPUSH-PORTS-80-443</destination-port-set>")
		} else {
			assert.Contains(t, got, "<source-address>198.18.1.0/24</source-address>")
			assert.Equal(t, 1, strings.Count(got, "<destination-port>443</destination-port>"), "one entry per port")
			assert.NotContains(t, got, "defined-sets")
		}
	}
}

// TestRenderRefuses what openconfig cannot say.
func TestRenderRefuses(t *testing.T) {
	for name, r := range map[string]*intent.Rule{
		"ICMP type without identity": {ID: "f", Kind: intent.FlowRule, Proto: policy.ICMP, Family: 4, ICMP: []int{4}},
		"loopback":                   {ID: "l", Kind: intent.Loopback, AnyProto: true},
		"stateful established":       {ID: "e", Kind: intent.Established, AnyProto: true},
	} {
		in := &intent.Intent{Host: "sw", Filters: []*intent.Filter{{Name: "FWPUSH-E1-IN",
			Binding: intent.Binding{Kind: intent.Interface, Interface: "Ethernet1", Direction: "in"}, Rules: []*intent.Rule{r}}}}
		_, err := openconfig.New().Render(in)
		assert.ErrorIs(t, err, fault.ErrUnsupported, name)
	}
}

type netipPrefix = netip.Prefix

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// descriptions lists the entries' descriptions in the order the device
// evaluates them (by sequence number), runs of one folded.
func descriptions(set string) []string {
	type entry struct {
		seq  int
		desc string
	}
	var es []entry
	for _, m := range regexp.MustCompile(`<entry seq="(\d+)">\s*<description>([^<]*?)(?: \[fwpush[^\]]*\])?</description>`).FindAllStringSubmatch(set, -1) {
		n, _ := strconv.Atoi(m[1])
		es = append(es, entry{n, m[2]})
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].seq < es[j].seq })
	var out []string
	for _, e := range es {
		if len(out) == 0 || out[len(out)-1] != e.desc {
			out = append(out, e.desc)
		}
	}
	return out
}
