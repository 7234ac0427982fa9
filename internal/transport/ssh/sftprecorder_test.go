package ssh

import (
	"encoding/binary"

	"golang.org/x/crypto/ssh"
)

// sftpRecorder logs the file operations of the SFTP requests it reads, so
// tests can see how a file was written, not just the result.
type sftpRecorder struct {
	ssh.Channel
	s   *testServer
	buf []byte
}

func (r *sftpRecorder) Read(p []byte) (int, error) {
	n, err := r.Channel.Read(p)
	r.buf = append(r.buf, p[:n]...)
	for len(r.buf) >= 4 {
		size := int(binary.BigEndian.Uint32(r.buf))
		if len(r.buf) < 4+size {
			break
		}
		if op := decodeSFTPOp(r.buf[4 : 4+size]); op != "" {
			r.s.mu.Lock()
			r.s.sftpOps = append(r.s.sftpOps, op)
			r.s.mu.Unlock()
		}
		r.buf = r.buf[4+size:]
	}
	return n, err
}

// decodeSFTPOp names the path-changing requests of draft-ietf-secsh-filexfer-02.
func decodeSFTPOp(pkt []byte) string {
	if len(pkt) < 5 {
		return ""
	}
	typ, rest := pkt[0], pkt[5:] // type, request id
	str := func() string {
		if len(rest) < 4 {
			return ""
		}
		n := int(binary.BigEndian.Uint32(rest))
		if len(rest) < 4+n {
			return ""
		}
		v := string(rest[4 : 4+n])
		rest = rest[4+n:]
		return v
	}
	switch typ {
	case 3: // SSH_FXP_OPEN
		return "open " + str()
	case 13: // SSH_FXP_REMOVE
		return "remove " + str()
	case 18: // SSH_FXP_RENAME
		return "rename " + str() + " " + str()
	case 200: // SSH_FXP_EXTENDED
		if name := str(); name == "posix-rename@openssh.com" {
			return "posix-rename " + str() + " " + str()
		}
	}
	return ""
}
