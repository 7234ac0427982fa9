package winsim

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"unicode/utf16"

	//lint:ignore SA1019 NTLM is defined on MD4; this checks a lab login, it protects nothing
	"golang.org/x/crypto/md4"
)

// NTLM (MS-NLMP) server side, NTLMv2 only: the CHALLENGE message and the
// check of the AUTHENTICATE message's NTProofStr against the user's
// password. No session security (signing, sealing): fwpush's WinRM runs
// over HTTPS.

const (
	flagUnicode     = 1 << 0
	flagRequestTgt  = 1 << 2
	flagNTLM        = 1 << 9
	flagAlwaysSign  = 1 << 15
	flagTargetTypeD = 1 << 16
	flagExtSecurity = 1 << 19
	flagTargetInfo  = 1 << 23
	flag128         = 1 << 29
)

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return b
}

func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// ntlmChallenge builds a CHALLENGE message for domain.
func ntlmChallenge(domain string, now uint64) (msg []byte, challenge [8]byte) {
	rand.Read(challenge[:])
	target := utf16le(domain)
	var info bytes.Buffer
	av := func(id uint16, v []byte) {
		binary.Write(&info, binary.LittleEndian, id)
		binary.Write(&info, binary.LittleEndian, uint16(len(v)))
		info.Write(v)
	}
	av(2, target) // MsvAvNbDomainName
	av(1, target) // MsvAvNbComputerName
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, now)
	av(7, ts) // MsvAvTimestamp
	av(0, nil)
	const header = 48
	var b bytes.Buffer
	b.WriteString("NTLMSSP\x00")
	binary.Write(&b, binary.LittleEndian, uint32(2))
	binary.Write(&b, binary.LittleEndian, uint16(len(target)))
	binary.Write(&b, binary.LittleEndian, uint16(len(target)))
	binary.Write(&b, binary.LittleEndian, uint32(header))
	binary.Write(&b, binary.LittleEndian, uint32(flagUnicode|flagRequestTgt|flagNTLM|flagAlwaysSign|flagTargetTypeD|flagExtSecurity|flagTargetInfo|flag128))
	b.Write(challenge[:])
	b.Write(make([]byte, 8))
	binary.Write(&b, binary.LittleEndian, uint16(info.Len()))
	binary.Write(&b, binary.LittleEndian, uint16(info.Len()))
	binary.Write(&b, binary.LittleEndian, uint32(header+len(target)))
	b.Write(target)
	b.Write(info.Bytes())
	return b.Bytes(), challenge
}

// ntlmMessageType returns the type of an NTLMSSP message (0 if none).
func ntlmMessageType(m []byte) uint32 {
	if len(m) < 12 || string(m[:8]) != "NTLMSSP\x00" {
		return 0
	}
	return binary.LittleEndian.Uint32(m[8:12])
}

func field(m []byte, off int) ([]byte, error) {
	if len(m) < off+8 {
		return nil, errors.New("short message")
	}
	l := int(binary.LittleEndian.Uint16(m[off:]))
	p := int(binary.LittleEndian.Uint32(m[off+4:]))
	if p+l > len(m) {
		return nil, errors.New("field beyond message")
	}
	return m[p : p+l], nil
}

// ntlmVerify checks an AUTHENTICATE message against the challenge and the
// users' passwords; it returns the user logged on.
func ntlmVerify(m []byte, challenge [8]byte, users []User) (string, error) {
	if ntlmMessageType(m) != 3 {
		return "", errors.New("not an AUTHENTICATE message")
	}
	nt, err1 := field(m, 20)
	dom, err2 := field(m, 28)
	usr, err3 := field(m, 36)
	if err := errors.Join(err1, err2, err3); err != nil {
		return "", err
	}
	if len(nt) < 24 {
		return "", errors.New("NTLMv1 response: refused")
	}
	user, domain := fromUTF16le(usr), fromUTF16le(dom)
	for _, u := range users {
		name := u.Name
		if i := strings.LastIndex(name, `\`); i >= 0 {
			name = name[i+1:]
		}
		if !strings.EqualFold(name, user) {
			continue
		}
		h := md4.New()
		h.Write(utf16le(u.Password))
		v2 := hmacMD5(h.Sum(nil), utf16le(strings.ToUpper(user)+domain))
		proof := hmacMD5(v2, challenge[:], nt[16:])
		if hmac.Equal(proof, nt[:16]) {
			return u.Name, nil
		}
	}
	return "", errors.New("logon failure: unknown user name or bad password")
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}
