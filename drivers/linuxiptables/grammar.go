package linuxiptables

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/drivers/linuxhost"
	"github.com/fwpush/fwpush/internal/policy"
)

// protoNames are the -p values iptables-save prints: a netbase name or a
// number. 0 is absent on purpose: "-p 0" means every protocol.
var protoNames = func() map[string]bool {
	m := map[string]bool{}
	for p := 1; p < 256; p++ {
		m[linuxhost.ProtocolName(policy.Proto(p))] = true
	}
	return m
}()

var limitRE = regexp.MustCompile(`^[1-9][0-9]*/(sec|min|hour|day)$`)

// ruleState tracks one rule being checked.
type ruleState struct {
	fam    int
	chains map[string]bool
	seen   map[string]bool
	proto  string
	target string
}

// option checks the option at t[0] and returns how many tokens it took.
func (st *ruleState) option(t []string) (int, error) {
	if st.target != "" && !(st.target == "LOG" && t[0] == "--log-prefix") && !(st.target == "REJECT" && t[0] == "--reject-with") {
		return 0, fmt.Errorf("%s after the target", t[0])
	}
	if st.seen[t[0]] && t[0] != "-m" {
		return 0, fmt.Errorf("%s given twice", t[0])
	}
	st.seen[t[0]] = true
	if len(t) < 2 {
		return 0, fmt.Errorf("%s without a value", t[0])
	}
	v := t[1]
	switch t[0] {
	case "-s", "-d":
		return 2, parsePrefix(v, st.fam)
	case "-i", "-o":
		if v != "lo" {
			return 0, fmt.Errorf("interface %q: only lo is used", v)
		}
		return 2, nil
	case "-p":
		if !protoNames[v] {
			return 0, fmt.Errorf("unknown protocol %q", v)
		}
		st.proto = v
		return 2, nil
	case "-m":
		return st.match(t)
	case "-j":
		if !builtinTargets[v] && !st.chains[v] {
			return 0, fmt.Errorf("jump to %s, which is neither a builtin target nor a declared chain", v)
		}
		st.target = v
		return 2, nil
	case "--reject-with":
		want := map[int]string{4: "icmp-port-unreachable", 6: "icmp6-port-unreachable"}[st.fam]
		if st.target != "REJECT" || v != want {
			return 0, fmt.Errorf("--reject-with %q: Render writes -j REJECT --reject-with %s only", v, want)
		}
		return 2, nil
	case "--log-prefix":
		if st.target != "LOG" {
			return 0, errors.New("--log-prefix without -j LOG")
		}
		if len(v) > maxLogPrefix {
			return 0, fmt.Errorf("log prefix %q longer than %d bytes", v, maxLogPrefix)
		}
		return 2, nil
	}
	return 0, fmt.Errorf("unexpected %q", t[0])
}

// match checks "-m MODULE --option value", each module at most once.
func (st *ruleState) match(t []string) (int, error) {
	mod := t[1]
	if st.seen["-m "+mod] {
		return 0, fmt.Errorf("match %s given twice", mod)
	}
	st.seen["-m "+mod] = true
	if len(t) < 4 {
		return 0, fmt.Errorf("match %s without its option", mod)
	}
	opt, v := t[2], t[3]
	want := map[string]string{"conntrack": "--ctstate", "tcp": "--dport", "udp": "--dport", "sctp": "--dport",
		"multiport": "--dports", "icmp": "--icmp-type", "icmp6": "--icmpv6-type", "comment": "--comment", "limit": "--limit"}[mod]
	if want == "" {
		return 0, fmt.Errorf("unexpected match %q", mod)
	}
	if opt != want {
		return 0, fmt.Errorf("match %s: %s instead of %s", mod, opt, want)
	}
	var err error
	switch mod {
	case "conntrack":
		if v != "RELATED,ESTABLISHED" {
			err = fmt.Errorf("conntrack state %q", v)
		}
	case "tcp", "udp", "sctp":
		if st.proto != mod {
			err = fmt.Errorf("match %s without -p %s", mod, mod)
		} else {
			_, err = portRange(v)
		}
	case "multiport":
		err = st.multiport(v)
	case "icmp", "icmp6":
		p, f := "icmp", 4
		if mod == "icmp6" {
			p, f = "ipv6-icmp", 6
		}
		n, aerr := strconv.Atoi(v)
		if st.proto != p || st.fam != f || aerr != nil || n < 0 || n > 255 || strconv.Itoa(n) != v {
			err = fmt.Errorf("match %s %s in an IPv%d rule for protocol %q", mod, v, st.fam, st.proto)
		}
	case "comment":
		if len(v) > maxComment {
			err = fmt.Errorf("comment longer than %d bytes", maxComment)
		}
	case "limit":
		if !limitRE.MatchString(v) {
			err = fmt.Errorf("limit %q", v)
		}
	}
	return 4, err
}

func (st *ruleState) multiport(v string) error {
	if st.proto != "tcp" && st.proto != "udp" && st.proto != "sctp" {
		return fmt.Errorf("multiport for protocol %q", st.proto)
	}
	slots := 0
	for _, p := range strings.Split(v, ",") {
		w, err := portRange(p)
		if err != nil {
			return err
		}
		slots += w
	}
	if slots > maxMultiport {
		return fmt.Errorf("multiport %s: more than %d ports", v, maxMultiport)
	}
	return nil
}

// portRange checks "port" or "lo:hi" and says how many multiport slots it
// takes.
func portRange(s string) (int, error) {
	lo, hi, isRange := strings.Cut(s, ":")
	a, err := parsePort(lo)
	if err != nil || !isRange {
		return 1, err
	}
	b, err := parsePort(hi)
	if err != nil {
		return 2, err
	}
	if b <= a {
		return 2, errors.New("port range " + s + " is empty or reversed")
	}
	return 2, nil
}
