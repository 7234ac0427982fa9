package winsim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Auth schemes a Server accepts.
type Auth struct {
	Basic     bool
	Negotiate bool // NTLM, under "Negotiate" and "NTLM"
}

// Server is the device's WinRM listener: WS-Management over HTTP(S),
// answering the WinRS shell actions as Windows does (see the captured
// exchanges this package's tests replay).
type Server struct {
	dev  *Device
	auth Auth
	srv  *http.Server

	mu     sync.Mutex
	shells map[string]*shell
}

type shell struct {
	id, owner, client string
	cmds              map[string]*Process
	sent              map[string]int // bytes already returned per command
}

// NewServer serves dev.
func NewServer(dev *Device, auth Auth) *Server {
	s := &Server{dev: dev, auth: auth, shells: map[string]*shell{}}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.handle), ReadHeaderTimeout: 30 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connState{remote: c.RemoteAddr()})
		}}
	return s
}

type connKey struct{}

// connState is one TCP connection's authentication: NTLM authenticates a
// connection, not a request.
type connState struct {
	remote    net.Addr
	user      string
	challenge *[8]byte
}

// Serve answers on ln (plain HTTP; wrap ln with tls.NewListener for HTTPS).
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

// Close stops the server and every command still running.
func (s *Server) Close() error {
	err := s.srv.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sh := range s.shells {
		for _, p := range sh.cmds {
			p.Signal()
		}
	}
	return err
}

const (
	nsSoap  = "http://www.w3.org/2003/05/soap-envelope"
	nsAddr  = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsWsman = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsShell = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	cmdURI  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"

	actCreate  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actDelete  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actCommand = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	actSend    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
	actReceive = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	actSignal  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
)

// envelope is what the server reads of a request.
type envelope struct {
	Header struct {
		Action           string `xml:"Action"`
		MessageID        string `xml:"MessageID"`
		ResourceURI      string `xml:"ResourceURI"`
		OperationTimeout string `xml:"OperationTimeout"`
		MaxEnvelopeSize  int    `xml:"MaxEnvelopeSize"`
		Selectors        []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		} `xml:"SelectorSet>Selector"`
	} `xml:"Header"`
	Body struct {
		Shell *struct {
			InputStreams  string `xml:"InputStreams"`
			OutputStreams string `xml:"OutputStreams"`
		} `xml:"Shell"`
		CommandLine *struct {
			Command   string   `xml:"Command"`
			Arguments []string `xml:"Arguments"`
		} `xml:"CommandLine"`
		Send *struct {
			Streams []struct {
				Name      string `xml:"Name,attr"`
				CommandID string `xml:"CommandId,attr"`
				End       string `xml:"End,attr"`
				Data      string `xml:",chardata"`
			} `xml:"Stream"`
		} `xml:"Send"`
		Receive *struct {
			DesiredStream struct {
				CommandID string `xml:"CommandId,attr"`
			} `xml:"DesiredStream"`
		} `xml:"Receive"`
		Signal *struct {
			CommandID string `xml:"CommandId,attr"`
			Code      string `xml:"Code"`
		} `xml:"Signal"`
	} `xml:"Body"`
}

func (e *envelope) selector(name string) string {
	for _, s := range e.Header.Selectors {
		if s.Name == name {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/wsman" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	cs, _ := r.Context().Value(connKey{}).(*connState)
	user, ok := s.authenticate(w, r, cs)
	if !ok {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/soap+xml") {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil || env.Header.Action == "" {
		s.fault(w, "", "s:Sender", "w:SchemaValidationError", 2150858817,
			"The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry.")
		return
	}
	if env.Header.ResourceURI != cmdURI {
		s.fault(w, env.Header.MessageID, "s:Sender", "w:DestinationUnreachable", 2150858770,
			"The WS-Management service cannot process the request because the resource URI is not supported by this simulator (fwpush lab simulator (winsim): only the cmd shell is modelled).")
		return
	}
	client := remoteIP(cs)
	switch env.Header.Action {
	case actCreate:
		s.create(w, &env, user, client)
	case actCommand:
		s.command(w, &env, user)
	case actSend:
		s.send(w, &env)
	case actReceive:
		s.receive(w, r.Context(), &env)
	case actSignal:
		s.signal(w, &env)
	case actDelete:
		s.delete(w, &env)
	default:
		s.fault(w, env.Header.MessageID, "s:Sender", "a:ActionNotSupported", 2150858754,
			"The WS-Management service cannot process the request because the action is not supported.")
	}
}

func remoteIP(cs *connState) string {
	if cs == nil {
		return ""
	}
	if a, err := netip.ParseAddrPort(cs.remote.String()); err == nil {
		return a.Addr().Unmap().String()
	}
	return ""
}

// authenticate checks the request's credentials; on failure it has
// answered 401 with the schemes the server offers.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, cs *connState) (string, bool) {
	if cs != nil && cs.user != "" {
		return cs.user, true
	}
	deny := func() (string, bool) {
		if s.auth.Negotiate {
			w.Header().Add("WWW-Authenticate", "Negotiate")
		}
		if s.auth.Basic {
			w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
		}
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusUnauthorized)
		return "", false
	}
	h := r.Header.Get("Authorization")
	scheme, data, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(scheme, "Basic") && s.auth.Basic:
		u, p, ok := r.BasicAuth()
		if !ok {
			return deny()
		}
		for _, usr := range s.dev.users {
			if strings.EqualFold(usr.Name, u) && usr.Password == p {
				return usr.Name, true
			}
		}
		return deny()
	case (strings.EqualFold(scheme, "Negotiate") || strings.EqualFold(scheme, "NTLM")) && s.auth.Negotiate && cs != nil:
		msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
		if err != nil {
			return deny()
		}
		switch ntlmMessageType(msg) {
		case 1:
			ft := uint64(s.dev.clock.Now().UnixNano()/100) + 116444736000000000
			ch, challenge := ntlmChallenge(strings.ToUpper(s.dev.hostname), ft)
			cs.challenge = &challenge
			w.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(ch))
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusUnauthorized)
			return "", false
		case 3:
			if cs.challenge == nil {
				return deny()
			}
			user, err := ntlmVerify(msg, *cs.challenge, s.dev.users)
			cs.challenge = nil
			if err != nil {
				return deny()
			}
			cs.user = user
			return user, true
		}
	}
	return deny()
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// reply writes a SOAP response with the given action and body.
func (s *Server) reply(w http.ResponseWriter, relatesTo, action, ns, body string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	fmt.Fprintf(w, `<s:Envelope xml:lang="en-US" xmlns:s="%s" xmlns:a="%s" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="%s" xmlns:rsp="%s" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"%s><s:Header><a:Action>%s</a:Action><a:MessageID>uuid:%s</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>%s</a:RelatesTo></s:Header><s:Body>%s</s:Body></s:Envelope>`,
		nsSoap, nsAddr, nsWsman, nsShell, ns, action, newUUID(), xmlText(relatesTo), body)
}

// fault writes a SOAP fault as WinRM does (HTTP 500).
func (s *Server) fault(w http.ResponseWriter, relatesTo, code, subcode string, wsmanCode uint32, reason string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	action := "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
	if strings.HasPrefix(subcode, "a:") {
		action = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
	}
	fmt.Fprintf(w, `<s:Envelope xml:lang="en-US" xmlns:s="%s" xmlns:a="%s" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="%s" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>%s</a:Action><a:MessageID>uuid:%s</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>%s</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code><s:Value>%s</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="%d" Machine="%s"><f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`,
		nsSoap, nsAddr, nsWsman, action, newUUID(), xmlText(relatesTo), code, subcode, xmlText(reason), wsmanCode, xmlText(s.dev.hostname), xmlText(reason))
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (s *Server) create(w http.ResponseWriter, env *envelope, user, client string) {
	if env.Body.Shell == nil {
		s.fault(w, env.Header.MessageID, "s:Sender", "w:SchemaValidationError", 2150858817,
			"The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry.")
		return
	}
	sh := &shell{id: newUUID(), owner: user, client: client, cmds: map[string]*Process{}, sent: map[string]int{}}
	s.mu.Lock()
	s.shells[sh.id] = sh
	s.mu.Unlock()
	s.reply(w, env.Header.MessageID, "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", "", fmt.Sprintf(
		`<x:ResourceCreated><a:Address>http://%s:5985/wsman</a:Address><a:ReferenceParameters><w:ResourceURI>%s</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated><rsp:Shell xmlns:rsp="%s"><rsp:ShellId>%s</rsp:ShellId><rsp:ResourceUri>%s</rsp:ResourceUri><rsp:Owner>%s</rsp:Owner><rsp:ClientIP>%s</rsp:ClientIP><rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>`,
		xmlText(s.dev.hostname), cmdURI, sh.id, nsShell, sh.id, cmdURI, xmlText(user), xmlText(client)))
}

// lookup finds the shell a request names, answering the fault Windows
// gives for an unknown one.
func (s *Server) lookup(w http.ResponseWriter, env *envelope) *shell {
	s.mu.Lock()
	sh := s.shells[env.selector("ShellId")]
	s.mu.Unlock()
	if sh == nil {
		s.fault(w, env.Header.MessageID, "s:Sender", "w:InvalidSelectors", 2150858843,
			"The WS-Management service cannot process the request because the request contained invalid selectors for the resource. ")
	}
	return sh
}

func (s *Server) command(w http.ResponseWriter, env *envelope, user string) {
	sh := s.lookup(w, env)
	if sh == nil {
		return
	}
	if env.Body.CommandLine == nil {
		s.fault(w, env.Header.MessageID, "s:Sender", "w:SchemaValidationError", 2150858817,
			"The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry.")
		return
	}
	line := strings.TrimSpace(env.Body.CommandLine.Command)
	for _, a := range env.Body.CommandLine.Arguments {
		line += " " + a
	}
	id := newUUID()
	p := s.dev.Start(line, user)
	s.mu.Lock()
	sh.cmds[id] = p
	s.mu.Unlock()
	s.reply(w, env.Header.MessageID, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse", "",
		`<rsp:CommandResponse><rsp:CommandId>`+id+`</rsp:CommandId></rsp:CommandResponse>`)
}

func (s *Server) process(w http.ResponseWriter, env *envelope, sh *shell, id string) *Process {
	s.mu.Lock()
	p := sh.cmds[id]
	s.mu.Unlock()
	if p == nil {
		s.fault(w, env.Header.MessageID, "s:Sender", "w:InvalidParameter", 2150859115,
			"The parameter is incorrect. (fwpush lab simulator (winsim): no such command in this shell)")
	}
	return p
}

func (s *Server) send(w http.ResponseWriter, env *envelope) {
	sh := s.lookup(w, env)
	if sh == nil || env.Body.Send == nil {
		if sh != nil {
			s.fault(w, env.Header.MessageID, "s:Sender", "w:SchemaValidationError", 2150858817, "The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry.")
		}
		return
	}
	for _, st := range env.Body.Send.Streams {
		p := s.process(w, env, sh, st.CommandID)
		if p == nil {
			return
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil {
			s.fault(w, env.Header.MessageID, "s:Sender", "w:SchemaValidationError", 2150858817, "The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry.")
			return
		}
		if len(data) > 0 {
			p.Write(data)
		}
		if st.End == "true" || st.End == "True" {
			p.CloseInput()
		}
	}
	s.reply(w, env.Header.MessageID, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse", "", `<rsp:SendResponse/>`)
}

// receive returns a command's output once it has exited, in pieces that
// fit the client's MaxEnvelopeSize, or, after OperationTimeout without an
// exit, the TimedOut fault WinRM clients poll through.
func (s *Server) receive(w http.ResponseWriter, ctx context.Context, env *envelope) {
	sh := s.lookup(w, env)
	if sh == nil || env.Body.Receive == nil {
		return
	}
	id := env.Body.Receive.DesiredStream.CommandID
	p := s.process(w, env, sh, id)
	if p == nil {
		return
	}
	wait := parseDuration(env.Header.OperationTimeout, 60*time.Second)
	select {
	case <-p.Done():
	case <-ctx.Done():
		return
	case <-time.After(wait):
		s.fault(w, env.Header.MessageID, "s:Receiver", "w:TimedOut", 2150858793,
			"The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  ")
		return
	}
	res := p.Result()
	all := append([]byte(res.Stdout), res.Stderr...)
	limit := env.Header.MaxEnvelopeSize
	if limit <= 0 {
		limit = 153600
	}
	chunk := (limit - 4096) * 3 / 4 // base64 of a chunk plus the envelope fits
	s.mu.Lock()
	from := sh.sent[id]
	to := min(len(all), from+chunk)
	sh.sent[id] = to
	s.mu.Unlock()
	var b strings.Builder
	stream := func(name string, data []byte, end bool) {
		attr := ""
		if end {
			attr = ` End="true"`
		}
		fmt.Fprintf(&b, `<rsp:Stream Name="%s" CommandId="%s"%s>%s</rsp:Stream>`, name, id, attr, base64.StdEncoding.EncodeToString(data))
	}
	nout := len(res.Stdout)
	if from < nout {
		stream("stdout", all[from:min(to, nout)], false)
	}
	if to > nout {
		stream("stderr", all[max(from, nout):to], false)
	}
	if to == len(all) {
		stream("stdout", nil, true)
		stream("stderr", nil, true)
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState>`, id, res.ExitCode)
	} else {
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"></rsp:CommandState>`, id)
	}
	s.reply(w, env.Header.MessageID, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse", "",
		"<rsp:ReceiveResponse>"+b.String()+"</rsp:ReceiveResponse>")
}

// parseDuration reads an xs:duration of seconds ("PT60S", "PT20.000S").
func parseDuration(s string, def time.Duration) time.Duration {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "PT") || !strings.HasSuffix(s, "S") {
		return def
	}
	d, err := time.ParseDuration(strings.ToLower(strings.TrimPrefix(s, "PT")))
	if err != nil || d <= 0 {
		return def
	}
	return d
}

func (s *Server) signal(w http.ResponseWriter, env *envelope) {
	sh := s.lookup(w, env)
	if sh == nil || env.Body.Signal == nil {
		return
	}
	p := s.process(w, env, sh, env.Body.Signal.CommandID)
	if p == nil {
		return
	}
	if !strings.HasSuffix(env.Body.Signal.Code, "/signal/terminate") {
		// ctrl_c and ctrl_break interrupt the command as terminate does.
		p.Signal()
	}
	p.Signal()
	s.mu.Lock()
	delete(sh.cmds, env.Body.Signal.CommandID)
	s.mu.Unlock()
	s.reply(w, env.Header.MessageID, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse", "", `<rsp:SignalResponse/>`)
}

func (s *Server) delete(w http.ResponseWriter, env *envelope) {
	sh := s.lookup(w, env)
	if sh == nil {
		return
	}
	s.mu.Lock()
	delete(s.shells, sh.id)
	for _, p := range sh.cmds {
		p.Signal()
	}
	s.mu.Unlock()
	s.reply(w, env.Header.MessageID, "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", "", "")
}
