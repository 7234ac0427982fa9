package winsim

import (
	"bytes"
	"encoding/base64"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sharedFile returns a file of the shared vendor fixtures, or skips (fails
// under CI) naming what is missing.
func sharedFile(t *testing.T, rel string) []byte {
	t.Helper()
	dir := os.Getenv("FWPUSH_SHARED_DIR")
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if dir == "" || err != nil {
		msg := "FWPUSH_SHARED_DIR/" + rel + " is missing (set FWPUSH_SHARED_DIR)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return b
}

// TestCapturedExchanges replays the requests of WinRS sessions captured
// from a real Windows host (pypsrp's recordings) against the simulator,
// with the simulator's own shell and command ids put in, and checks each
// answer carries what the real one did: the response action, the ids, the
// streams and the exit code of `cmd.exe /c echo hi` (exit 0) and of a
// command writing to stderr and exiting 1.
func TestCapturedExchanges(t *testing.T) {
	for _, name := range []string{"test_winrs_standard.yml", "test_winrs_stderr_rc.yml"} {
		t.Run(name, func(t *testing.T) {
			var rec struct {
				Messages []struct{ Request, Response string } `yaml:"messages"`
			}
			require.NoError(t, yaml.Unmarshal(sharedFile(t, "vendor-fixtures/windows/"+name), &rec))
			require.Len(t, rec.Messages, 5)
			dev, err := New(Options{Users: []User{{Name: "vagrant", Password: "vagrant"}}})
			require.NoError(t, err)
			// The captured command is cmd.exe's: the simulator runs the one
			// a PowerShell program would, so each real answer's shape is
			// compared, not its bytes.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			srv := NewServer(dev, Auth{Basic: true})
			go srv.Serve(ln)
			defer srv.Close()
			url := "http://" + ln.Addr().String() + "/wsman"
			action := regexp.MustCompile(`<a:Action>([^<]+)</a:Action>`)
			var shellID, cmdID string
			realShell := regexp.MustCompile(`Name="ShellId">([0-9A-F-]+)<`).FindStringSubmatch(rec.Messages[0].Response)[1]
			realCmd := regexp.MustCompile(`<rsp:CommandId>([0-9A-F-]+)<`).FindStringSubmatch(rec.Messages[1].Response)[1]
			for i, m := range rec.Messages {
				req := m.Request
				if shellID != "" {
					req = strings.ReplaceAll(req, realShell, shellID)
				}
				if cmdID != "" {
					req = strings.ReplaceAll(req, realCmd, cmdID)
				}
				if i == 1 {
					// Run what the driver runs: a PowerShell program that
					// writes what the captured command wrote.
					want := "hi"
					code := "0"
					if strings.Contains(name, "stderr") {
						want, code = "out", "1"
					}
					prog := "Write-Output '" + want + "'\r\nexit " + code
					req = regexp.MustCompile(`<rsp:CommandLine>.*</rsp:CommandLine>`).ReplaceAllString(req,
						"<rsp:CommandLine><rsp:Command>"+powershell(prog)+"</rsp:Command></rsp:CommandLine>")
				}
				hreq, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(req))
				hreq.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
				hreq.SetBasicAuth("vagrant", "vagrant")
				resp, err := http.DefaultClient.Do(hreq)
				require.NoError(t, err)
				var body bytes.Buffer
				body.ReadFrom(resp.Body)
				resp.Body.Close()
				require.Equal(t, 200, resp.StatusCode, "message %d: %s", i, body.String())
				got := body.String()
				assert.Equal(t, action.FindStringSubmatch(m.Response)[1], action.FindStringSubmatch(got)[1], "message %d: response action", i)
				switch i {
				case 0:
					shellID = regexp.MustCompile(`Name="ShellId">([0-9A-F-]+)<`).FindStringSubmatch(got)[1]
					assert.Contains(t, got, "<rsp:ClientIP>127.0.0.1</rsp:ClientIP>")
					assert.Contains(t, got, "<rsp:Owner>vagrant</rsp:Owner>")
				case 1:
					cmdID = regexp.MustCompile(`<rsp:CommandId>([0-9A-F-]+)<`).FindStringSubmatch(got)[1]
				case 2:
					realCode := regexp.MustCompile(`<rsp:ExitCode>(\d+)<`).FindStringSubmatch(m.Response)[1]
					gotCode := regexp.MustCompile(`<rsp:ExitCode>(\d+)<`).FindStringSubmatch(got)[1]
					assert.Equal(t, realCode, gotCode, "exit code as the real command's")
					assert.Contains(t, got, `CommandState/Done`)
					assert.Contains(t, got, `Name="stdout" CommandId="`+cmdID+`" End="true"`)
					assert.Contains(t, got, `Name="stderr" CommandId="`+cmdID+`" End="true"`)
					out := regexp.MustCompile(`Name="stdout" CommandId="[^"]+">([^<]+)<`).FindStringSubmatch(got)
					require.NotNil(t, out, got)
					b, _ := base64.StdEncoding.DecodeString(out[1])
					realOut := regexp.MustCompile(`Name="stdout" CommandId="[^"]+">([^<]+)<`).FindStringSubmatch(m.Response)[1]
					rb, _ := base64.StdEncoding.DecodeString(realOut)
					assert.Equal(t, strings.TrimSpace(string(rb)), strings.TrimSpace(string(b)), "the same text, CRLF-terminated")
					assert.True(t, strings.HasSuffix(string(b), "\r\n"))
				}
			}
		})
	}
}

// TestCapturedFault: an unknown shell gets a SOAP fault of the captured
// fault's shape (s:Sender, a subcode, a reason, a WSManFault with a code).
func TestCapturedFault(t *testing.T) {
	real := string(sharedFile(t, "vendor-fixtures/windows/soap_fault_v2.xml"))
	dev, _ := New(Options{Users: []User{{Name: "u", Password: "p"}}})
	srv := NewServer(dev, Auth{Basic: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	defer srv.Close()
	req := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header><wsa:Action>` + actReceive +
		`</wsa:Action><wsa:MessageID>uuid:1</wsa:MessageID><wsman:ResourceURI>` + cmdURI + `</wsman:ResourceURI><wsman:SelectorSet><wsman:Selector Name="ShellId">NOPE</wsman:Selector></wsman:SelectorSet></s:Header><s:Body/></s:Envelope>`
	hreq, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/wsman", strings.NewReader(req))
	hreq.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	hreq.SetBasicAuth("u", "p")
	resp, err := http.DefaultClient.Do(hreq)
	require.NoError(t, err)
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 500, resp.StatusCode)
	for _, part := range []string{"<s:Fault>", "<s:Value>s:Sender</s:Value>", "<s:Subcode>", "<s:Reason>", `<s:Text xml:lang="en-US">`, "f:WSManFault", `Code="`} {
		assert.Contains(t, real, part, "the captured fault has %s", part)
		assert.Contains(t, body.String(), part)
	}
	assert.Contains(t, body.String(), "w:InvalidSelectors")
}

func powershell(prog string) string {
	u := []byte{}
	for _, r := range prog {
		u = append(u, byte(r), byte(r>>8))
	}
	return "powershell.exe -NoProfile -NonInteractive -EncodedCommand " + base64.StdEncoding.EncodeToString(u)
}
