package netconf

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// readAll decodes every message of in until the stream ends or fails.
func readAll(in string, chunked bool, limit int, oneByte bool) ([]string, error) {
	var r io.Reader = strings.NewReader(in)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	d := newDecoder(r, limit)
	d.chunked = chunked
	var msgs []string
	for range 100 {
		m, err := d.read()
		if errors.Is(err, io.EOF) {
			return msgs, nil
		}
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, string(m))
	}
	return msgs, errors.New("too many messages")
}

func TestChunkedDecoder(t *testing.T) {
	tests := map[string]decoderCase{
		"one chunk":        {in: "\n#5\nhello\n##\n", want: []string{"hello"}},
		"multi-chunk":      {in: "\n#4\n<rpc\n#1\n>\n#7\n</rpc>\n\n##\n", want: []string{"<rpc></rpc>\n"}},
		"chunk holds ##":   {in: "\n#6\n\n##\nx\n\n##\n", want: []string{"\n##\nx\n"}},
		"two messages":     {in: "\n#1\na\n##\n\n#2\nbc\n##\n", want: []string{"a", "bc"}},
		"zero-padded size": {in: "\n#0000000001\nx\n##\n", wantErr: ErrFraming},
		"empty stream":     {in: "", want: nil},
		"leading zero":     {in: "\n#01\nx\n##\n", wantErr: ErrFraming},
		"zero size":        {in: "\n#0\n\n##\n", wantErr: ErrFraming},
		"no LF first":      {in: "#1\nx\n##\n", wantErr: ErrFraming},
		"no hash":          {in: "\n1\nx\n##\n", wantErr: ErrFraming},
		"letter in size":   {in: "\n#1a\nx\n##\n", wantErr: ErrFraming},
		"space in size":    {in: "\n# 1\nx\n##\n", wantErr: ErrFraming},
		"CRLF":             {in: "\n#1\r\nx\n##\n", wantErr: ErrFraming},
		"size over uint32": {in: "\n#4294967296\n", wantErr: ErrFraming},
		"end with no chunk": {
			in: "\n##\n", wantErr: ErrFraming,
		},
		"bad end marker":   {in: "\n#1\nx\n##x", wantErr: ErrFraming},
		"over the limit":   {in: "\n#600\n" + strings.Repeat("x", 600) + "\n##\n", limit: 512, wantErr: ErrFraming},
		"limit summed":     {in: "\n#300\n" + strings.Repeat("x", 300) + "\n#300\n" + strings.Repeat("x", 300) + "\n##\n", limit: 512, wantErr: ErrFraming},
		"short data":       {in: "\n#10\nabc", wantErr: io.ErrUnexpectedEOF},
		"no end-of-chunks": {in: "\n#3\nabc", wantErr: io.ErrUnexpectedEOF},
		"cut in header":    {in: "\n#1", wantErr: io.ErrUnexpectedEOF},
		"EOM on 1.1":       {in: "<rpc-reply/>]]>]]>", wantErr: ErrFraming},
	}
	runDecoderCases(t, tests, true)
}

func TestEOMDecoder(t *testing.T) {
	tests := map[string]decoderCase{
		"one":               {in: "<hello/>]]>]]>", want: []string{"<hello/>"}},
		"two with newlines": {in: "<a/>]]>]]>\n<b/>\n]]>]]>\n", want: []string{"<a/>", "\n<b/>\n"}},
		"partial markers":   {in: "a]]>b]]>]]c]]>]]>", want: []string{"a]]>b]]>]]c"}},
		"truncated":         {in: "<a/>]]>]]", wantErr: io.ErrUnexpectedEOF},
		"over the limit":    {in: strings.Repeat("y", 2000) + eom, limit: 1024, wantErr: ErrFraming},
		"trailing space":    {in: "<a/>]]>]]>\n  \n", want: []string{"<a/>"}},
	}
	runDecoderCases(t, tests, false)
}

// decoderCase is one framing input and what reading it must give.
type decoderCase struct {
	in      string
	limit   int
	want    []string
	wantErr error // matched with errors.Is; nil means success
}

// runDecoderCases reads each case whole and one byte at a time (every
// split point of the stream), with the chunked or end-of-message decoder.
func runDecoderCases(t *testing.T, tests map[string]decoderCase, chunked bool) {
	t.Helper()
	for name, tc := range tests {
		for _, oneByte := range []bool{false, true} {
			t.Run(name, func(t *testing.T) {
				limit := tc.limit
				if limit == 0 {
					limit = DefaultMaxMessageSize
				}
				got, err := readAll(tc.in, chunked, limit, oneByte)
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("err = %v, want %v", err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("messages (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// A message longer than bufio's buffer crosses many ReadSlice calls.
func TestEOMDecoderLargeMessage(t *testing.T) {
	big := strings.Repeat("<x>]]></x>", 30000)
	got, err := readAll(big+eom, false, DefaultMaxMessageSize, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != big {
		t.Fatalf("got %d messages, want one of %d bytes", len(got), len(big))
	}
}

func TestEncode(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		msg := []byte("<rpc message-id=\"1\"><get-config/></rpc>")
		framed, err := encode(msg, chunked)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(string(framed), chunked, DefaultMaxMessageSize, false)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{string(msg)}, got); diff != "" {
			t.Errorf("chunked=%v round trip (-want +got):\n%s", chunked, diff)
		}
	}
	if got, _ := encode([]byte("ab"), true); !bytes.Equal(got, []byte("\n#2\nab\n##\n")) {
		t.Errorf("chunked framing = %q", got)
	}
	if _, err := encode([]byte("<!-- ]]>]]> -->"), false); err == nil {
		t.Error("EOM framing accepted a message holding the marker")
	}
	if _, err := encode([]byte("<!-- ]]>]]> -->"), true); err != nil {
		t.Errorf("chunked framing refused the marker: %v", err)
	}
	if _, err := encode(nil, true); err == nil {
		t.Error("encoded an empty message")
	}
}
