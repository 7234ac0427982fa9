package juniperjunos_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/juniperjunos"
	"github.com/fwpush/fwpush/drivers/netconfdev"
	"github.com/fwpush/fwpush/internal/transport/netconf"
)

var updateEdits = flag.Bool("update-edits", false, "rewrite testdata/edit/*.golden")

// TestTextRoundTrip: every golden render reads back into itself.
func TestTextRoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/render/*.golden")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		got, err := juniperjunos.ParseText(string(b))
		require.NoError(t, err, f)
		assert.Equal(t, string(b), got, f)
	}
	for name, bad := range map[string]string{
		"unknown hierarchy": "system {\n    host-name x;\n}\n",
		"unclosed block":    "firewall {\n    family inet {\n",
		"bad prefix":        "policy-options {\n    prefix-list FWPUSH-a {\n        198.18.0.0/33;\n    }\n}\n",
		"unknown from":      "firewall {\n    family inet {\n        filter FWPUSH-X {\n            term t {\n                from {\n                    dscp af11;\n                }\n                then accept;\n            }\n        }\n    }\n}\n",
	} {
		_, err := juniperjunos.ParseText(bad)
		assert.Error(t, err, name)
	}
}

// deviceXML is one owned configuration as a Junos device in each dialect
// returns it, with a foreign filter beside an owned binding, a foreign
// statement inside an owned term, and the trial marker.
func deviceXML(ns bool) string {
	x := func(name string) string {
		if !ns {
			return ""
		}
		return ` xmlns="http://yang.juniper.net/junos/conf/` + name + `"`
	}
	return `<configuration` + x("root") + ` junos:changed-seconds="1">
  <firewall` + x("firewall") + `>
    <apply-macro><name>FWPUSH-TRIAL</name>
      <data><name>run</name><value>r1</value></data>
      <data><name>controller</name><value>ctl</value></data>
      <data><name>user</name><value>ops</value></data>
      <data><name>since</name><value>2026-01-02T03:04:05Z</value></data>
      <data><name>deadline</name><value>2026-01-02T03:06:05Z</value></data>
    </apply-macro>
    <family><inet>
      <filter><name>FWPUSH-GE-0-0-1-0-OUT</name>
        <term><name>flow1-users</name>
          <from><destination-prefix-list><name>FWPUSH-web-inet</name></destination-prefix-list><protocol>tcp</protocol>
            <destination-port>80</destination-port><destination-port>443</destination-port><dscp>af11</dscp></from>
          <then><accept/></then></term>
        <term><name>protect</name><from><destination-prefix-list><name>FWPUSH-web-inet</name></destination-prefix-list></from>
          <then><syslog/><discard/></then></term>
      </filter>
      <filter><name>FWPUSH-OLD</name><term><name>t</name><then><accept/></then></term></filter>
      <filter><name>OTHER</name><term><name>t</name><then><accept/></then></term></filter>
    </inet></family>
  </firewall>
  <policy-options` + x("policy-options") + `>
    <prefix-list><name>FWPUSH-web-inet</name><prefix-list-item><name>198.18.9.12/32</name></prefix-list-item>
      <prefix-list-item><name>198.18.9.11/32</name></prefix-list-item></prefix-list>
    <prefix-list><name>OTHER-LIST</name><prefix-list-item><name>192.0.2.0/24</name></prefix-list-item></prefix-list>
  </policy-options>
  <interfaces` + x("interfaces") + `>
    <interface><name>ge-0/0/1</name><unit><name>0</name><family>
      <inet><filter><input><filter-name>OTHER</filter-name></input><output><filter-name>FWPUSH-GE-0-0-1-0-OUT</filter-name></output></filter></inet>
    </family></unit></interface>
    <interface><name>ge-0/0/9</name><unit><name>0</name><family>
      <inet><filter><input><filter-name>FWPUSH-OLD</filter-name></input></filter></inet>
      <inet6><filter><input-list>A</input-list><input-list>B</input-list></filter></inet6>
    </family></unit></interface>
  </interfaces>
</configuration>`
}

func TestReadBothDialects(t *testing.T) {
	yang, err := juniperjunos.Read(deviceXML(true))
	require.NoError(t, err)
	native, err := juniperjunos.Read(deviceXML(false))
	require.NoError(t, err)
	assert.Equal(t, yang.Config.String(), native.Config.String(), "the dialects read the same")
	assert.Equal(t, yang.Foreign, native.Foreign)
	text := yang.Config.String()
	t.Logf("read:\n%s", text)
	assert.Contains(t, text, "/* not fwpush's: from: <dscp>af11</dscp> */", "a foreign statement in an owned term shows in the diff")
	assert.Contains(t, text, "198.18.9.11/32;\n        198.18.9.12/32;", "prefixes sorted")
	assert.NotContains(t, text, "OTHER", "only fwpush's part")
	assert.NotContains(t, text, "FWPUSH-TRIAL", "the marker is the lock, not policy")
	require.NotNil(t, yang.Marker)
	assert.Equal(t, "r1", yang.Marker.Trial.Run)
	assert.Equal(t, time.Date(2026, 1, 2, 3, 6, 5, 0, time.UTC), yang.Marker.Deadline)
	assert.Equal(t, []string{
		"interfaces ge-0/0/1 unit 0 family inet: input filter OTHER is not fwpush's; it filters this interface too",
		"interfaces ge-0/0/9 unit 0 family inet6: input-list [ A B ] is not fwpush's; it filters this interface too",
	}, yang.Foreign)
}

// TestEdit pins the load payload of each dialect: the stale filter and
// its binding deleted, the changed filter and prefix list replaced, the
// new binding added under one entry per interface and unit, the marker
// set; nothing foreign named.
func TestEdit(t *testing.T) {
	want := `policy-options {
    prefix-list FWPUSH-web-inet {
        198.18.9.11/32;
    }
}
firewall {
    family inet {
        filter FWPUSH-GE-0-0-1-0-OUT {
            term flow1-users {
                from {
                    destination-prefix-list {
                        FWPUSH-web-inet;
                    }
                    protocol tcp;
                    destination-port 80;
                }
                then accept;
            }
        }
    }
    family inet6 {
        filter FWPUSH-GE-0-0-1-0-OUT {
            term flow1-users {
                then accept;
            }
        }
    }
}
interfaces {
    ge-0/0/1 {
        unit 0 {
            family inet {
                filter {
                    output FWPUSH-GE-0-0-1-0-OUT;
                }
            }
            family inet6 {
                filter {
                    output FWPUSH-GE-0-0-1-0-OUT;
                }
            }
        }
    }
}
`
	desired := drivers.Config{Platform: juniperjunos.ID, Parts: []drivers.Part{{Name: juniperjunos.PartName, Text: want}}}
	m := &netconfdev.Marker{Trial: drivers.Trial{Run: "r2", Controller: "ctl", User: "ops", Since: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		Deadline: time.Date(2026, 1, 2, 3, 6, 5, 0, time.UTC)}
	for _, dialect := range []string{juniperjunos.YANG, juniperjunos.Native} {
		t.Run(dialect, func(t *testing.T) {
			st, err := juniperjunos.Read(deviceXML(dialect == juniperjunos.YANG))
			require.NoError(t, err)
			got, err := juniperjunos.Edit(dialect, st, desired, m)
			require.NoError(t, err)
			assert.Equal(t, 1, strings.Count(got, "<name>ge-0/0/1</name>"), "one entry per interface")
			assert.NotContains(t, got, "OTHER")
			golden(t, filepath.Join("testdata", "edit", dialect+".golden"), strings.ReplaceAll(got, "><", ">\n<"))

			// Unchanged: only the marker goes.
			same, err := juniperjunos.Read(deviceXML(dialect == juniperjunos.YANG))
			require.NoError(t, err)
			got, err = juniperjunos.Edit(dialect, same, same.Config, nil)
			require.NoError(t, err)
			assert.NotContains(t, got, "<filter", "nothing but the marker changes")
			assert.Contains(t, got, "FWPUSH-TRIAL")
		})
	}
}

// TestEditRefusesForeignSlot: fwpush never replaces a filter it does not
// own, nor an input-list.
func TestEditRefusesForeignSlot(t *testing.T) {
	st, err := juniperjunos.Read(deviceXML(true))
	require.NoError(t, err)
	for _, slot := range []string{"ge-0/0/1 {\n        unit 0 {\n            family inet {\n                filter {\n                    input FWPUSH-X;",
		"ge-0/0/9 {\n        unit 0 {\n            family inet6 {\n                filter {\n                    input FWPUSH-X;"} {
		text := "interfaces {\n    " + slot + "\n                }\n            }\n        }\n    }\n}\n"
		_, err := juniperjunos.Edit(juniperjunos.YANG, st, drivers.Config{Platform: juniperjunos.ID,
			Parts: []drivers.Part{{Name: juniperjunos.PartName, Text: text}}}, nil)
		require.Error(t, err, slot)
		assert.Contains(t, err.Error(), "which fwpush does not own")
	}
}

func TestNestedErrors(t *testing.T) {
	err := juniperjunos.NestedErrors(`<load-configuration-results><rpc-error><error-severity>warning</error-severity><error-message>statement not found</error-message></rpc-error><ok/></load-configuration-results>`)
	assert.NoError(t, err, "warnings are not failures")
	err = juniperjunos.NestedErrors(`<load-configuration-results><rpc-error><error-type>protocol</error-type><error-tag>operation-failed</error-tag>
<error-severity>error</error-severity><error-message>
syntax error, expecting &lt;data&gt;</error-message></rpc-error></load-configuration-results>`)
	var re *netconf.RPCError
	require.True(t, errors.As(err, &re))
	assert.Equal(t, "operation-failed", re.Tag)
	assert.Equal(t, "syntax error, expecting <data>", re.Message)
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *updateEdits {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update-edits to create %s", path)
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}
