package linuxiptables

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/fault"
)

// Check validates a config statically, before anything reaches a host:
// each part is a *filter table declaring FWPUSH-* chains, every rule
// appends to a declared chain, uses only the matches Render generates with
// well-formed values of the part's family, and ends in exactly one -j to a
// builtin target or a declared chain. It exists because iptables-restore
// --test on the nf_tables backend accepts a jump to a missing chain, and
// because the IPv4 and IPv6 restores commit separately, so a bad second
// part must be caught before the first is applied.
func Check(c drivers.Config) error {
	var errs []error
	for _, p := range c.Parts {
		fam := 0
		switch p.Name {
		case PartIPv4:
			fam = 4
		case PartIPv6:
			fam = 6
		default:
			errs = append(errs, fmt.Errorf("part %q: not an iptables part: %w", p.Name, fault.ErrRejected))
			continue
		}
		if err := checkPart(p.Text, fam); err != nil {
			errs = append(errs, fmt.Errorf("part %s: %w: %w", p.Name, err, fault.ErrRejected))
		}
	}
	return errors.Join(errs...)
}

var chainDecl = regexp.MustCompile(`^:(FWPUSH-[A-Z0-9-]+) - \[0:0\]$`)

func checkPart(text string, fam int) error {
	if text == "" {
		return nil
	}
	if !strings.HasSuffix(text, "\n") {
		return errors.New("does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 2 || lines[0] != "*filter" || lines[len(lines)-1] != "COMMIT" {
		return errors.New("is not one *filter table ending in COMMIT")
	}
	chains := map[string]bool{}
	rules := false
	for i, line := range lines[1 : len(lines)-1] {
		var err error
		if m := chainDecl.FindStringSubmatch(line); m != nil {
			switch {
			case rules:
				err = errors.New("chain declared after the rules")
			case chains[m[1]]:
				err = fmt.Errorf("chain %s declared twice", m[1])
			}
			chains[m[1]] = true
		} else {
			rules = true
			err = checkRule(line, fam, chains)
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", i+2, err)
		}
	}
	return nil
}

// builtinTargets are the targets Render uses, plus RETURN.
var builtinTargets = map[string]bool{"ACCEPT": true, "DROP": true, "REJECT": true, "RETURN": true, "LOG": true}

// checkRule parses one "-A CHAIN ..." line against the grammar Render
// generates.
func checkRule(line string, fam int, chains map[string]bool) error {
	toks, err := tokenize(line)
	if err != nil {
		return err
	}
	if len(toks) < 4 || toks[0] != "-A" {
		return fmt.Errorf("not a rule: %q", line)
	}
	if !chains[toks[1]] {
		return fmt.Errorf("rule appends to undeclared chain %s", toks[1])
	}
	st := &ruleState{fam: fam, chains: chains, seen: map[string]bool{}}
	for i := 2; i < len(toks); {
		n, err := st.option(toks[i:])
		if err != nil {
			return fmt.Errorf("%w in %q", err, line)
		}
		i += n
	}
	if st.target == "" {
		return fmt.Errorf("no -j target in %q", line)
	}
	return nil
}

// tokenize splits a line as iptables-restore does: on spaces, with double
// quotes grouping and a backslash escaping the next character inside them.
func tokenize(line string) ([]string, error) {
	var toks []string
	var cur strings.Builder
	inTok, quoted := false, false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quoted && ch == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case ch == '"':
			quoted = !quoted
			inTok = true
		case ch == ' ' && !quoted:
			if inTok {
				toks = append(toks, cur.String())
				cur.Reset()
				inTok = false
			}
		default:
			cur.WriteByte(ch)
			inTok = true
		}
	}
	if quoted {
		return nil, errors.New("unterminated quote")
	}
	if inTok {
		toks = append(toks, cur.String())
	}
	return toks, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != s {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return n, nil
}

func parsePrefix(s string, fam int) error {
	p, err := netip.ParsePrefix(s)
	if err != nil || p != p.Masked() || p.Bits() == 0 || p.Addr().Is4() != (fam == 4) || p.String() != s {
		return fmt.Errorf("bad IPv%d prefix %q", fam, s)
	}
	return nil
}
