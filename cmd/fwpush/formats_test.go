package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// fakeProbes answers every probe "open", as a host with no firewall would.
func fakeProbes(t *testing.T) {
	t.Helper()
	testProbes = func(_ context.Context, _, _ string, stdin []byte) (string, error) {
		var out strings.Builder
		sc := bufio.NewScanner(bytes.NewReader(stdin))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) > 0 {
				fmt.Fprintf(&out, "%s open\n", f[0])
			}
		}
		return out.String(), nil
	}
	t.Cleanup(func() { testProbes = nil })
}

// formatsOf reads the formats a command lists in its --format help.
func formatsOf(cmd *cobra.Command) []string {
	f := cmd.Flags().Lookup("format")
	if f == nil {
		return nil
	}
	_, list, ok := strings.Cut(f.Usage, "output format: ")
	if !ok {
		return nil
	}
	return strings.Split(list, "|")
}

// commands walks fwpush's command tree: "inventory list", "plan", ….
func commands(c *cobra.Command, prefix string, out map[string]*cobra.Command) {
	for _, sub := range c.Commands() {
		name := strings.TrimSpace(prefix + " " + sub.Name())
		if sub.Runnable() {
			out[name] = sub
		}
		commands(sub, name, out)
	}
}

// TestEveryFormatHonoured: every command honours each format its --format
// lists (stdout is that format and nothing else: a JSON document, a JUnit
// XML document, or text that is neither), and refuses any other, naming
// what it takes. plan --offline --format junit once printed text and
// exited 0; verify had no junit.
func TestEveryFormatHonoured(t *testing.T) {
	fakeFleet(t)
	fakeProbes(t)
	state := filepath.Join(t.TempDir(), "runs.db")
	code, out, errOut := fwpush(t, "apply", "-i", waInv, "-p", waPB, "--state", state, "--format", "json")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)

	// Each command's arguments for a run that needs no terminal.
	runs := map[string][][]string{
		"validate":       {{"-i", waInv, "-p", waPB}},
		"lint":           {{"-i", waInv, "-p", waPB}},
		"plan":           {{"-i", waInv, "-p", waPB}, {"--offline", "-i", waInv, "-p", waPB}},
		"apply":          {{"-i", waInv, "-p", waPB, "--state", state}},
		"verify":         {{"-i", waInv, "-p", waPB, "--limit", "web-1", "--negatives", "0"}},
		"render":         {{"-i", waInv, "-p", waPB, "web-1"}},
		"explain":        {{"-i", waInv, "-p", waPB, "--from", "any", "--to", "web", "--proto", "tcp", "--port", "443"}},
		"inventory list": {{"-i", waInv}},
		"history":        {{"--state", state}, {"web-1", "--state", state}},
		"rollback":       {{"web-1", "--state", state, "--yes"}},
		"check":          {{"-i", waInv, "-p", waPB}},
	}
	root := &cobra.Command{Use: "fwpush"}
	g := &globals{}
	root.AddCommand(subcommands(g)...)
	all := map[string]*cobra.Command{}
	commands(root, "", all)
	// CI wants JUnit from every command that checks devices.
	for _, name := range []string{"plan", "apply", "verify", "check"} {
		assert.Contains(t, formatsOf(all[name]), "junit", name)
	}
	tested := 0
	for name, cmd := range all {
		formats := formatsOf(cmd)
		if formats == nil {
			continue
		}
		tested++
		argSets, ok := runs[name]
		if !assert.True(t, ok, "command %q lists --format %v: add a run of it to this test", name, formats) {
			continue
		}
		for _, args := range argSets {
			for _, format := range formats {
				argv := append(append(strings.Fields(name), args...), "--format", format)
				code, out, errOut := fwpush(t, argv...)
				assert.Contains(t, []int{exitOK, exitChanges, exitDenied}, code, "%v\nstdout: %s\nstderr: %s", argv, out, errOut)
				checkFormat(t, format, out, argv)
			}
			argv := append(append(strings.Fields(name), args...), "--format", "yaml")
			code, _, errOut := fwpush(t, argv...)
			assert.Equal(t, exitError, code, "%v", argv)
			assert.Contains(t, errOut, fmt.Sprintf(`--format "yaml": want one of %s`, strings.Join(formats, ", ")), "%v", argv)
		}
	}
	assert.Equal(t, len(runs), tested, "every command of the table lists its formats")
}

// checkFormat asserts stdout is one document of format, and only that.
func checkFormat(t *testing.T, format, out string, argv []string) {
	t.Helper()
	switch format {
	case "json":
		dec := json.NewDecoder(strings.NewReader(out))
		var v any
		assert.NoError(t, dec.Decode(&v), "%v: not JSON:\n%s", argv, out)
		_, err := dec.Token()
		assert.ErrorIs(t, err, io.EOF, "%v: more than one JSON document:\n%s", argv, out)
	case "junit":
		var doc struct {
			XMLName xml.Name `xml:"testsuites"`
			Suites  []struct {
				Tests int `xml:"tests,attr"`
				Cases []struct {
					Name string `xml:"name,attr"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		require.NoError(t, xml.Unmarshal([]byte(out), &doc), "%v: not JUnit XML:\n%s", argv, out)
		require.Len(t, doc.Suites, 1, "%v", argv)
		assert.NotZero(t, doc.Suites[0].Tests, "%v", argv)
		assert.Len(t, doc.Suites[0].Cases, doc.Suites[0].Tests, "%v", argv)
		assert.True(t, strings.HasPrefix(out, "<?xml"), "%v: something before the XML:\n%s", argv, out)
	case "html":
		assert.True(t, strings.HasPrefix(out, "<!DOCTYPE html>"), "%v: not an HTML page:\n%.200s", argv, out)
		assert.True(t, strings.HasSuffix(strings.TrimSpace(out), "</html>"), "%v: something after the page", argv)
	case "markdown":
		assert.True(t, strings.HasPrefix(out, "#"), "%v: not Markdown:\n%.200s", argv, out)
		assert.False(t, json.Valid([]byte(out)), "%v: markdown output is JSON", argv)
	case "text":
		assert.NotEmpty(t, strings.TrimSpace(out), "%v", argv)
		assert.False(t, json.Valid([]byte(out)), "%v: text output is JSON", argv)
		assert.NotContains(t, out, "<?xml", "%v", argv)
	default:
		t.Errorf("%v: no check for format %q", argv, format)
	}
}

// openPTY opens a pseudo-terminal: what a program sees as its terminal
// (tty) and the side a person's keyboard and screen are (ptm).
func openPTY(t *testing.T) (ptm, tty *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	require.NoError(t, unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	require.NoError(t, unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 100}))
	t.Cleanup(func() { tty.Close(); ptm.Close() })
	return ptm, tty
}

// TestMachineFormatFromTerminal: `apply --format json > out.json` (and
// junit) typed at a terminal shows the plan and asks on the terminal's
// stderr, shows progress there too, and writes only the document to
// stdout; the answer comes from the terminal.
func TestMachineFormatFromTerminal(t *testing.T) {
	for _, format := range []string{"json", "junit"} {
		t.Run(format, func(t *testing.T) {
			fakeFleet(t)
			ptm, tty := openPTY(t)
			errPTM, errTTY := openPTY(t) // stderr is a terminal too: the progress bar draws
			outFile, err := os.Create(filepath.Join(t.TempDir(), "out."+format))
			require.NoError(t, err)
			defer outFile.Close()
			_, err = ptm.WriteString("y\n")
			require.NoError(t, err)
			shown := readAll(errPTM)
			code := run(context.Background(), []string{"apply", "-i", waInv, "-p", waPB, "--state", filepath.Join(t.TempDir(), "runs.db"),
				"--format", format}, tty, outFile, errTTY)
			errTTY.Close()
			screen := shown()
			assert.Contains(t, screen, "push these changes? [y/N]")
			assert.Contains(t, screen, "HOST")
			assert.Contains(t, screen, "apply ", "the progress bar")
			require.Equal(t, 0, code)
			out, err := os.ReadFile(outFile.Name())
			require.NoError(t, err)
			checkFormat(t, format, string(out), []string{"apply", "--format", format})
			assert.NotContains(t, string(out), "[y/N]")
			assert.NotContains(t, string(out), "HOST")

			// Again, with nothing left to change: nothing is asked, and
			// stdout still carries the document.
			_, tty = openPTY(t)
			errPTM, errTTY = openPTY(t)
			var again bytes.Buffer
			shown = readAll(errPTM)
			code = run(context.Background(), []string{"apply", "-i", waInv, "-p", waPB, "--state", filepath.Join(t.TempDir(), "runs.db"),
				"--format", format}, tty, &again, errTTY)
			errTTY.Close()
			require.Equal(t, 0, code)
			screen = shown()
			assert.Contains(t, screen, "no changes")
			assert.NotContains(t, screen, "[y/N]")
			checkFormat(t, format, again.String(), []string{"apply", "--format", format, "(no changes)"})
		})
	}
}

// readAll reads f in the background; the function returned waits (at
// most 10s) for f to end and returns what was read.
func readAll(f *os.File) func() string {
	var mu sync.Mutex
	var b bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			mu.Lock()
			b.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return func() string {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		mu.Lock()
		defer mu.Unlock()
		return b.String()
	}
}
