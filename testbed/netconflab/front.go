package netconflab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fwpush/fwpush/internal/transport/netconf"
	"github.com/fwpush/fwpush/testbed"
)

// Front is the lab's translating front for the native Junos XML API
// (LABELLED LAB CODE, not a Junos emulation). netconfd speaks only the
// standard dialect: it rejects namespace-less <configuration> and the
// Junos RPCs. The front is an SSH server with a netconf subsystem, in the
// device's namespace (so fwpush's sessions cross the device's filters),
// that answers the native RPCs fwpush sends by translating each into
// standard operations on netconfd, so Juniper's YANG still validates every
// request:
//
//   - get-configuration → get-config of running (database="committed") or
//     candidate, with the Junos namespaces added to the filter and stripped
//     from the reply;
//   - lock-configuration / unlock-configuration → lock / unlock candidate;
//   - load-configuration (format xml, action merge or replace) →
//     edit-config of the candidate with the namespaces added and
//     replace="replace" / delete="delete" turned into nc:operation replace
//     and remove (Junos only warns when what it deletes is absent); errors
//     come back inside <load-configuration-results>, as Junos puts them;
//   - commit-configuration: <check/> tests the session's last load again
//     with test-option test-only (netconfd's <validate> would make the
//     next commit apply nothing, see Start); <confirmed/> with <confirm-timeout> in MINUTES →
//     commit confirmed, the timeout times 60 seconds, with a persist token
//     of the front's, because on Junos a pending confirmed commit outlives
//     its session and any later commit confirms it; a plain commit
//     confirms the pending one with that token;
//   - discard-changes, close-session → the same.
//
// Anything else is refused with operation-not-supported.
type Front struct {
	lab     *testbed.Lab
	host    string
	backend string
	ln      net.Listener
	cfg     *ssh.ServerConfig
	pub     ssh.PublicKey
	addr    netip.AddrPort

	mu      sync.Mutex
	pending string // the persist token of the pending confirmed commit
	nextID  int
	conns   map[net.Conn]bool
	closed  bool
	wg      sync.WaitGroup
}

// StartFront serves the native dialect on listen (inside host's namespace),
// translating to netconfd at backend (an address of host, port 22).
func StartFront(ctx context.Context, lab *testbed.Lab, host string, listen netip.AddrPort, backend string) (*Front, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	client, err := clientKey(lab)
	if err != nil {
		return nil, err
	}
	f := &Front{lab: lab, host: host, backend: backend, pub: signer.PublicKey(), addr: listen, conns: map[net.Conn]bool{}}
	f.cfg = &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(k.Marshal(), client.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	f.cfg.AddHostKey(signer)
	f.ln, err = lab.Listen(ctx, host, "tcp", listen.String())
	if err != nil {
		return nil, fmt.Errorf("netconf front: %w", err)
	}
	f.wg.Add(1)
	go f.accept()
	return f, nil
}

func clientKey(lab *testbed.Lab) (ssh.PublicKey, error) {
	b, err := os.ReadFile(lab.ClientKeyPath())
	if err != nil {
		return nil, err
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		return nil, err
	}
	return s.PublicKey(), nil
}

// KnownHostsLine is the front's host key as a known_hosts line for its
// address and port.
func (f *Front) KnownHostsLine() []byte {
	return []byte(fmt.Sprintf("[%s]:%d %s", f.addr.Addr(), f.addr.Port(), ssh.MarshalAuthorizedKey(f.pub)))
}

// Close stops the front and ends its sessions (netconfd reverts nothing
// persisted).
func (f *Front) Close() {
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.ln.Close()
	f.wg.Wait()
}

func (f *Front) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			c.Close()
			return
		}
		f.conns[c] = true
		f.mu.Unlock()
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.serveConn(c)
			f.mu.Lock()
			delete(f.conns, c)
			f.mu.Unlock()
			c.Close()
		}()
	}
}

func (f *Front) serveConn(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(c, f.cfg)
	if err != nil {
		return
	}
	_ = c.SetDeadline(time.Time{})
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for r := range creqs {
				ok := r.Type == "subsystem" && len(r.Payload) >= 4 && string(r.Payload[4:]) == "netconf"
				_ = r.Reply(ok, nil)
				if ok {
					go func() {
						f.serve(ch)
						ch.Close()
					}()
				}
			}
		}()
	}
}

// eom ends a base:1.0 message.
const eom = "]]>]]>"

func readMsg(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		s, err := r.ReadString('>')
		b.WriteString(s)
		if strings.HasSuffix(b.String(), eom) {
			return strings.TrimSuffix(b.String(), eom), nil
		}
		if err != nil {
			return "", err
		}
		if b.Len() > 64<<20 {
			return "", errors.New("message too large")
		}
	}
}

// serve speaks NETCONF base:1.0 (end-of-message framing) on ch, as Junos'
// native API does by default, with a backend session of its own.
func (f *Front) serve(ch io.ReadWriter) {
	f.mu.Lock()
	f.nextID++
	id := f.nextID
	f.mu.Unlock()
	hello := `<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>` +
		`<capability>urn:ietf:params:netconf:base:1.0</capability>` +
		`<capability>urn:ietf:params:netconf:capability:candidate:1.0</capability>` +
		`<capability>urn:ietf:params:netconf:capability:confirmed-commit:1.0</capability>` +
		`<capability>urn:ietf:params:netconf:capability:validate:1.0</capability>` +
		`<capability>http://xml.juniper.net/netconf/junos/1.0</capability>` +
		`<capability>http://xml.juniper.net/dmi/system/1.0</capability>` +
		`</capabilities><session-id>` + strconv.Itoa(id) + `</session-id></hello>` + eom
	if _, err := io.WriteString(ch, hello); err != nil {
		return
	}
	r := bufio.NewReader(ch)
	if _, err := readMsg(r); err != nil { // the client's hello
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dctx, dcancel := context.WithTimeout(ctx, 20*time.Second)
	be, err := Dial(dctx, f.lab, f.host, f.backend)
	dcancel()
	if err != nil {
		return
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = be.CloseSession(cctx)
		ccancel()
	}()
	var last string // the session's last load, for commit check
	for {
		msg, err := readMsg(r)
		if err != nil {
			return
		}
		reply, stop := f.handle(ctx, be, msg, &last)
		if _, err := io.WriteString(ch, reply+eom); err != nil || stop {
			return
		}
	}
}

// rpc is an incoming request: its message-id and its operation.
type rpc struct {
	MessageID string `xml:"message-id,attr"`
	Op        struct {
		XMLName xml.Name
		Attrs   []xml.Attr `xml:",any,attr"`
		Inner   string     `xml:",innerxml"`
	} `xml:",any"`
}

func (o rpc) attr(name string) string {
	for _, a := range o.Op.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (f *Front) handle(ctx context.Context, be *netconf.Session, msg string, last *string) (string, bool) {
	var req rpc
	if err := xml.Unmarshal([]byte(msg), &req); err != nil {
		return reply("", rpcError("rpc", "malformed-message", err.Error())), false
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	id := req.MessageID
	switch req.Op.XMLName.Local {
	case "get-configuration":
		ds := netconf.Candidate
		if req.attr("database") == "committed" {
			ds = netconf.Running
		}
		filter, err := addNamespaces("<configuration>" + innerOf(req.Op.Inner, "configuration") + "</configuration>")
		if err != nil {
			return reply(id, rpcError("rpc", "malformed-message", err.Error())), false
		}
		data, err := be.GetConfig(ctx, ds, filter)
		if err != nil {
			return reply(id, asRPCError(err)), false
		}
		data = stripNamespaces(data)
		if strings.TrimSpace(data) == "" {
			data = "<configuration/>"
		}
		return reply(id, data), false
	case "lock-configuration":
		return okOr(id, be.Lock(ctx, netconf.Candidate)), false
	case "unlock-configuration":
		return okOr(id, be.Unlock(ctx, netconf.Candidate)), false
	case "discard-changes":
		*last = ""
		return okOr(id, be.DiscardChanges(ctx)), false
	case "close-session":
		return reply(id, "<ok/>"), true
	case "load-configuration":
		if a := req.attr("action"); a != "replace" && a != "merge" {
			return reply(id, rpcError("protocol", "bad-attribute", "the lab front takes action replace or merge, not "+a)), false
		}
		payload, err := addNamespaces(strings.TrimSpace(req.Op.Inner))
		if err == nil {
			err = be.EditConfig(ctx, netconf.Candidate, payload, netconf.Merge)
		}
		if err == nil {
			*last = payload
		}
		if err != nil {
			return reply(id, "<load-configuration-results>"+asRPCError(err)+"</load-configuration-results>"), false
		}
		return reply(id, "<load-configuration-results><ok/></load-configuration-results>"), false
	case "commit-configuration":
		return reply(id, f.commit(ctx, be, req.Op.Inner, last)), false
	}
	return reply(id, rpcError("protocol", "operation-not-supported", "the lab's native Junos front does not translate <"+req.Op.XMLName.Local+">")), false
}

// commit translates commit-configuration.
func (f *Front) commit(ctx context.Context, be *netconf.Session, inner string, last *string) string {
	var c struct {
		Check     *struct{} `xml:"check"`
		Confirmed *struct{} `xml:"confirmed"`
		Timeout   string    `xml:"confirm-timeout"`
	}
	if err := xml.Unmarshal([]byte("<c>"+inner+"</c>"), &c); err != nil {
		return rpcError("rpc", "malformed-message", err.Error())
	}
	loaded := *last
	*last = ""
	const success = `<commit-results><routing-engine><name>re0</name><commit-success/></routing-engine></commit-results>`
	switch {
	case c.Check != nil:
		*last = loaded
		if loaded != "" {
			if err := be.TestEdit(ctx, netconf.Candidate, loaded, netconf.Merge); err != nil {
				return asRPCError(err)
			}
		}
		return `<commit-results><routing-engine><name>re0</name><commit-check-success/></routing-engine></commit-results>`
	case c.Confirmed != nil:
		minutes := 10 // Junos' default
		if c.Timeout != "" {
			n, err := strconv.Atoi(strings.TrimSpace(c.Timeout))
			if err != nil || n < 1 || n > 65535 {
				return rpcError("application", "invalid-value", "confirm-timeout: minutes 1-65535")
			}
			minutes = n
		}
		token := "front-" + randHex()
		if err := be.Commit(ctx, netconf.CommitOptions{Confirmed: true, ConfirmTimeout: time.Duration(minutes) * time.Minute, Persist: token}); err != nil {
			return asRPCError(err)
		}
		f.mu.Lock()
		f.pending = token
		f.mu.Unlock()
		return success
	}
	f.mu.Lock()
	token := f.pending
	f.mu.Unlock()
	if token != "" {
		err := be.Commit(ctx, netconf.CommitOptions{PersistID: token})
		var re *netconf.RPCError
		if err == nil || !errors.As(err, &re) || !strings.Contains(re.Message, "not active") {
			f.mu.Lock()
			if f.pending == token {
				f.pending = ""
			}
			f.mu.Unlock()
			if err != nil {
				return asRPCError(err)
			}
			return success
		}
		// The pending commit was reverted by its timer: this commit is
		// an ordinary one.
	}
	if err := be.Commit(ctx, netconf.CommitOptions{}); err != nil {
		return asRPCError(err)
	}
	return success
}

func randHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func reply(id, body string) string {
	attr := ""
	if id != "" {
		attr = ` message-id="` + xmlEscape(id) + `"`
	}
	return `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/24.4R1/junos"` + attr + `>` + body + `</rpc-reply>`
}

func okOr(id string, err error) string {
	if err != nil {
		return reply(id, asRPCError(err))
	}
	return reply(id, "<ok/>")
}

func rpcError(typ, tag, msg string) string {
	return `<rpc-error><error-type>` + typ + `</error-type><error-tag>` + tag + `</error-tag><error-severity>error</error-severity><error-message>` +
		xmlEscape(msg) + `</error-message></rpc-error>`
}

// asRPCError passes netconfd's rpc-error on as it came, or wraps another
// failure in one.
func asRPCError(err error) string {
	var re *netconf.RPCError
	if !errors.As(err, &re) {
		return rpcError("application", "operation-failed", err.Error())
	}
	var b strings.Builder
	b.WriteString("<rpc-error>")
	for _, f := range [][2]string{{"error-type", re.Type}, {"error-tag", re.Tag}, {"error-severity", re.Severity},
		{"error-app-tag", re.AppTag}, {"error-path", re.Path}, {"error-message", re.Message}} {
		if f[1] != "" {
			b.WriteString("<" + f[0] + ">" + xmlEscape(f[1]) + "</" + f[0] + ">")
		}
	}
	if re.Info.SessionID != "" {
		b.WriteString("<error-info><session-id>" + xmlEscape(re.Info.SessionID) + "</session-id></error-info>")
	}
	b.WriteString("</rpc-error>")
	return b.String()
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// innerOf returns the inside of the first elem element of s.
func innerOf(s, elem string) string {
	var v struct {
		Inner string `xml:",innerxml"`
	}
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == elem {
			if d.DecodeElement(&v, &se) == nil {
				return v.Inner
			}
			return ""
		}
	}
}

// The YANG namespaces of the Junos hierarchies fwpush writes.
var junosNS = map[string]string{
	"configuration":  "http://yang.juniper.net/junos/conf/root",
	"firewall":       "http://yang.juniper.net/junos/conf/firewall",
	"interfaces":     "http://yang.juniper.net/junos/conf/interfaces",
	"policy-options": "http://yang.juniper.net/junos/conf/policy-options",
}

// addNamespaces rewrites a native <configuration> into the YANG view:
// namespaces on the root and its known hierarchies, Junos' replace and
// delete attributes as NETCONF operations. Other attributes are kept, for
// netconfd to refuse.
func addNamespaces(s string) (string, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	var b strings.Builder
	depth := 0
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			b.WriteString("<" + t.Name.Local)
			if ns, ok := junosNS[t.Name.Local]; ok && depth <= 1 {
				b.WriteString(` xmlns="` + ns + `"`)
				if depth == 0 {
					b.WriteString(` xmlns:nc="` + netconf.NS + `"`)
				}
			}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns" || a.Name.Local == "xmlns":
				case a.Name.Local == "replace" && a.Value == "replace":
					b.WriteString(` nc:operation="replace"`)
				case a.Name.Local == "delete" && a.Value == "delete":
					// Junos warns, not fails, when what it deletes is
					// absent: NETCONF's remove.
					b.WriteString(` nc:operation="remove"`)
				default:
					b.WriteString(" " + a.Name.Local + `="` + xmlEscape(a.Value) + `"`)
				}
			}
			b.WriteString(">")
			depth++
		case xml.EndElement:
			depth--
			b.WriteString("</" + t.Name.Local + ">")
		case xml.CharData:
			b.WriteString(xmlEscape(string(t)))
		}
	}
	return b.String(), nil
}

// stripNamespaces drops every namespace declaration and prefix: the
// native dialect's view of netconfd's reply.
func stripNamespaces(s string) string {
	d := xml.NewDecoder(strings.NewReader(s))
	var b strings.Builder
	for {
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			b.WriteString("<" + t.Name.Local)
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				b.WriteString(" " + a.Name.Local + `="` + xmlEscape(a.Value) + `"`)
			}
			b.WriteString(">")
		case xml.EndElement:
			b.WriteString("</" + t.Name.Local + ">")
		case xml.CharData:
			b.WriteString(xmlEscape(string(t)))
		}
	}
	return b.String()
}
