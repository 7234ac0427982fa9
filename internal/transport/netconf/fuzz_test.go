package netconf

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzChunkedDecoder feeds arbitrary bytes to the base:1.1 decoder. It must
// never panic or return more than its limit, and what it accepts must
// survive a round trip through the encoder.
func FuzzChunkedDecoder(f *testing.F) {
	for _, seed := range []string{
		"\n#5\nhello\n##\n",
		"\n#4\n<rpc\n#1\n>\n#7\n</rpc>\n\n##\n",
		"\n#1\na\n##\n\n#2\nbc\n##\n",
		"\n#6\n\n##\nx\n\n##\n",
		"\n#4294967295\nx",
		"\n#4294967296\n",
		"\n#01\nx\n##\n",
		"\n##\n",
		"\n#3\nab",
		"<rpc-reply/>]]>]]>",
		"",
	} {
		f.Add([]byte(seed))
	}
	const limit = 1 << 16
	f.Fuzz(func(t *testing.T, in []byte) {
		d := newDecoder(bytes.NewReader(in), limit)
		d.chunked = true
		for range 1000 {
			msg, err := d.read()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrFraming) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if len(msg) == 0 || len(msg) > limit {
				t.Fatalf("accepted a message of %d bytes", len(msg))
			}
			framed, err := encode(msg, true)
			if err != nil {
				t.Fatal(err)
			}
			d2 := newDecoder(bytes.NewReader(framed), limit)
			d2.chunked = true
			again, err := d2.read()
			if err != nil || !bytes.Equal(again, msg) {
				t.Fatalf("round trip: %q, %v; want %q", again, err, msg)
			}
		}
	})
}
