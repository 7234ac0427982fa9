package netconf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// ErrFraming means the peer broke RFC 6242 framing. The stream cannot be
// resynchronised after it, so the session ends.
var ErrFraming = errors.New("netconf framing error")

// eom ends every message under base:1.0, and the hellos under both versions.
const eom = "]]>]]>"

// DefaultMaxMessageSize bounds one incoming message: a running config is
// rarely more than a few MiB, and a peer that never ends a message must not
// exhaust memory.
const DefaultMaxMessageSize = 64 << 20

// maxChunkSize is RFC 6242's largest chunk-size (4294967295).
const maxChunkSize = math.MaxUint32

// decoder reads whole messages in the framing the hello exchange chose.
type decoder struct {
	r       *bufio.Reader
	chunked bool
	max     int
}

func newDecoder(r io.Reader, limit int) *decoder {
	return &decoder{r: bufio.NewReaderSize(r, 64<<10), max: limit}
}

// read returns the next message. io.EOF means the stream ended cleanly
// between messages; an end inside one is io.ErrUnexpectedEOF.
func (d *decoder) read() ([]byte, error) {
	if d.chunked {
		return d.readChunked()
	}
	return d.readEOM()
}

func (d *decoder) readEOM() ([]byte, error) {
	var msg []byte
	for {
		frag, err := d.r.ReadSlice('>')
		msg = append(msg, frag...)
		if len(msg) > d.max+len(eom) {
			return nil, fmt.Errorf("%w: message longer than %d bytes", ErrFraming, d.max)
		}
		switch {
		case err == nil:
			if bytes.HasSuffix(msg, []byte(eom)) {
				return msg[:len(msg)-len(eom)], nil
			}
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			// Servers often send a newline after the marker; trailing
			// whitespace before a clean close is not a truncated message.
			if len(bytes.TrimSpace(msg)) == 0 {
				return nil, io.EOF
			}
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// readChunked reads one chunked message (RFC 6242 §4.2):
//
//	1*(LF "#" chunk-size LF chunk-data) LF "#" "#" LF
func (d *decoder) readChunked() ([]byte, error) {
	var msg []byte
	for n := 0; ; n++ {
		size, err := d.chunkHeader(n == 0)
		if err != nil {
			return nil, err
		}
		if size == 0 {
			if n == 0 {
				return nil, fmt.Errorf("%w: end-of-chunks before any chunk", ErrFraming)
			}
			return msg, nil
		}
		if uint64(len(msg))+size > uint64(d.max) {
			return nil, fmt.Errorf("%w: message longer than %d bytes", ErrFraming, d.max)
		}
		start := len(msg)
		msg = append(msg, make([]byte, size)...)
		if _, err := io.ReadFull(d.r, msg[start:]); err != nil {
			return nil, unexpected(err)
		}
	}
}

// chunkHeader reads "\n#SIZE\n" and returns SIZE, or reads "\n##\n" and
// returns 0. Only before a message's first chunk is EOF a clean end.
func (d *decoder) chunkHeader(first bool) (uint64, error) {
	b, err := d.r.ReadByte()
	if err != nil {
		if first && errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		return 0, unexpected(err)
	}
	if b != '\n' {
		return 0, badHeader("want LF", b)
	}
	if b, err = d.r.ReadByte(); err != nil {
		return 0, unexpected(err)
	}
	if b != '#' {
		return 0, badHeader("want '#'", b)
	}
	if b, err = d.r.ReadByte(); err != nil {
		return 0, unexpected(err)
	}
	if b == '#' {
		if b, err = d.r.ReadByte(); err != nil {
			return 0, unexpected(err)
		}
		if b != '\n' {
			return 0, badHeader("want LF after ##", b)
		}
		return 0, nil
	}
	// chunk-size = DIGIT1 *DIGIT: no leading zero, no sign, no space.
	if b < '1' || b > '9' {
		return 0, badHeader("want chunk-size", b)
	}
	size := uint64(b - '0')
	for {
		if b, err = d.r.ReadByte(); err != nil {
			return 0, unexpected(err)
		}
		if b == '\n' {
			return size, nil
		}
		if b < '0' || b > '9' {
			return 0, badHeader("want digit or LF in chunk-size", b)
		}
		if size = size*10 + uint64(b-'0'); size > maxChunkSize {
			return 0, fmt.Errorf("%w: chunk-size over %d", ErrFraming, uint64(maxChunkSize))
		}
	}
}

func badHeader(want string, got byte) error {
	return fmt.Errorf("%w: bad chunk header: %s, got %s", ErrFraming, want, strconv.QuoteRune(rune(got)))
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// encode frames msg for the wire. One buffer, so one Write puts a whole
// message on the channel.
func encode(msg []byte, chunked bool) ([]byte, error) {
	if len(msg) == 0 {
		return nil, errors.New("empty message")
	}
	if !chunked {
		// Legal XML can still hold the marker (in a comment); under
		// base:1.0 it would end the message early and desynchronise the
		// stream.
		if bytes.Contains(msg, []byte(eom)) {
			return nil, fmt.Errorf("message contains %q, which base:1.0 framing cannot carry", eom)
		}
		return append(append(make([]byte, 0, len(msg)+len(eom)), msg...), eom...), nil
	}
	if uint64(len(msg)) > maxChunkSize {
		return nil, fmt.Errorf("message of %d bytes exceeds one chunk", len(msg))
	}
	hdr := "\n#" + strconv.Itoa(len(msg)) + "\n"
	out := make([]byte, 0, len(hdr)+len(msg)+4)
	out = append(append(append(out, hdr...), msg...), "\n##\n"...)
	return out, nil
}
