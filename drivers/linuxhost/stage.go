package linuxhost

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/shellquote"
)

// bundle is files to stage in one round trip. Their content travels as
// data on the command's stdin, never in the command line: a config is as
// large as its policy (a set of 10,000 addresses is hundreds of KiB, past
// the kernel's 128 KiB limit on one argument), and what it holds is never
// shell syntax. The script that unpacks them is ours and its size depends
// only on how many files there are.
type bundle struct {
	names []string // StateDir-relative file names, in stdin order
	data  []byte
	sizes []int
}

// fileName is what a staged file may be called: <prefix>.<suffix>, both
// chosen by fwpush's code (prefixes here, suffixes by the dialect).
var fileName = regexp.MustCompile(`^[a-z][a-z0-9]*\.[a-z0-9]+$`)

// add appends c's files as <prefix>.<suffix>, in suffix order.
func (b *bundle) add(d Dialect, prefix string, c drivers.Config) error {
	files, err := d.Stage(c)
	if err != nil {
		return err
	}
	suffixes := make([]string, 0, len(files))
	for n := range files {
		suffixes = append(suffixes, n)
	}
	sort.Strings(suffixes)
	for _, suffix := range suffixes {
		name := prefix + "." + suffix
		if !fileName.MatchString(name) {
			return fmt.Errorf("staged file name %q", name)
		}
		data := files[suffix]
		if !bytes.HasSuffix(data, []byte("\n")) {
			data = append(append([]byte(nil), data...), '\n')
		}
		b.names = append(b.names, name)
		b.sizes = append(b.sizes, len(data))
		b.data = append(b.data, data...)
	}
	return nil
}

// script returns the command that writes every file of the bundle from
// stdin into dir (StateDir on a device), each by temp file + rename, and the stdin to feed
// it. The whole stream is saved first and its length checked, so a cut
// connection cannot stage a truncated file; each file is then cut out of
// it with tail and head, which read what they need from a regular file
// and are in coreutils and busybox alike (head -c on a shared pipe may
// read ahead past its own bytes).
func (b *bundle) script(dir string) (string, []byte) {
	tmp := ".stage-" + randHex() + ".tmp"
	var s strings.Builder
	fmt.Fprintf(&s, "set -e\numask 077\nmkdir -p %[1]s\ncd %[1]s\nt=%[2]s\ntrap 'rm -f \"$t\"' EXIT\ncat > \"$t\"\n",
		shellquote.Quote(dir), shellquote.Quote(tmp))
	fmt.Fprintf(&s, "n=$(wc -c < \"$t\")\n[ $n -eq %[1]d ] || { echo \"stage: received $n of %[1]d bytes\" >&2; exit 1; }\n", len(b.data))
	off := 1 // tail -c +N starts at byte N, counting from 1
	for i, name := range b.names {
		part := shellquote.Quote(name + ".tmp")
		fmt.Fprintf(&s, "tail -c +%d \"$t\" | head -c %d > %s\nmv -f %s %s\n", off, b.sizes[i], part, part, shellquote.Quote(name))
		off += b.sizes[i]
	}
	s.WriteString("rm -f \"$t\"\ntrap - EXIT\n")
	return s.String(), b.data
}

func randHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
