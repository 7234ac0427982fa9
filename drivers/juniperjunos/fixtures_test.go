package juniperjunos_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers/juniperjunos"
	"github.com/fwpush/fwpush/internal/transport/netconf"
)

// fixture reads a published Junos output from FWPUSH_SHARED_DIR
// (vendor-fixtures/junos); missing, the test fails under CI and is
// skipped otherwise, naming the file.
func fixture(t *testing.T, name string) string {
	t.Helper()
	root := os.Getenv("FWPUSH_SHARED_DIR")
	rel := filepath.Join("vendor-fixtures", "junos", name)
	b, err := os.ReadFile(filepath.Join(root, rel))
	if root == "" || err != nil {
		msg := "FWPUSH_SHARED_DIR/" + rel + " is missing (FWPUSH_SHARED_DIR=" + root + ")"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return strings.TrimPrefix(string(b), "\ufeff")
}

// rpcReplyContent is what Session.Call returns: the inside of <rpc-reply>.
func rpcReplyContent(s string) string {
	s = s[strings.Index(s, "<rpc-reply"):]
	s = s[strings.IndexByte(s, '>')+1:]
	return s[:strings.LastIndex(s, "</rpc-reply>")]
}

// TestRealLoadErrors: a real Junos load-configuration failure nests its
// rpc-errors in load-configuration-results; each is a typed error.
func TestRealLoadErrors(t *testing.T) {
	err := juniperjunos.NestedErrors(rpcReplyContent(fixture(t, "load-configuration-error.xml")))
	var es netconf.RPCErrors
	require.True(t, errors.As(err, &es), "%v", err)
	require.Len(t, es, 2)
	assert.Equal(t, "syntax error", es[0].Message)
	assert.Contains(t, es[0].Info.Raw, "<bad-element>system1</bad-element>")
}

// TestRealConfigurations: real get-configuration replies (native, with
// junos: attributes) read; a device's own filters are not fwpush's, and a
// filter fwpush owned with statements it never writes shows them.
func TestRealConfigurations(t *testing.T) {
	st, err := juniperjunos.Read(rpcReplyContent(fixture(t, "get-configuration.xml")))
	require.NoError(t, err)
	assert.Empty(t, st.Config.String(), "nothing of fwpush's on a fresh vSRX")

	acls := rpcReplyContent(fixture(t, "ansible_junos_acls_parsed.cfg"))
	st, err = juniperjunos.Read(acls)
	require.NoError(t, err)
	assert.Empty(t, st.Config.String(), "another tool's filter is not fwpush's")

	st, err = juniperjunos.Read(strings.ReplaceAll(acls, "<name>from-cisco</name>", "<name>FWPUSH-FROM-CISCO</name>"))
	require.NoError(t, err)
	text := st.Config.String()
	t.Logf("read as fwpush's:\n%s", text)
	again, err := juniperjunos.ParseText(text)
	require.NoError(t, err, "what Fetch returns reads back (the diff's summary parses it)")
	assert.Equal(t, text, again)
	for _, want := range []string{"filter FWPUSH-FROM-CISCO", "protocol udp vrrp;", "destination-port [ who radius ];",
		"not fwpush's: from: <source-address>", "not fwpush's: from: <ttl>100</ttl>", "count icmp_deny;", "reject;",
		"not fwpush's: no then action (Junos accepts)"} {
		assert.Contains(t, text, want)
	}
}
