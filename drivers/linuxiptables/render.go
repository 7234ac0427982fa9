package linuxiptables

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
)

// maxComment is what the comment match keeps (XT_MAX_COMMENT_LEN less the
// NUL); iptables silently cuts longer comments, mid-rune if need be.
const maxComment = 255

// maxLogPrefix is what the LOG target keeps; longer prefixes are silently
// cut too.
const maxLogPrefix = 29

// chainOf maps host-firewall bindings to our chains, in iptables-save's
// order (user chains sorted by name), with the loopback interface flag.
var chainOf = []struct {
	kind   intent.BindingKind
	chain  string
	ifFlag string
}{{intent.Input, InputChain, "-i"}, {intent.Output, OutputChain, "-o"}}

type renderer struct {
	in   *intent.Intent
	fam  int
	sets map[string][]netip.Prefix // this family's prefixes of each set
}

// render returns one family's part: a *filter table with our chains only.
func render(in *intent.Intent, fam int) (string, error) {
	r := &renderer{in: in, fam: fam, sets: map[string][]netip.Prefix{}}
	for _, s := range in.Sets {
		if _, dup := r.sets[s.Name]; dup {
			return "", fmt.Errorf("address set %q defined twice", s.Name)
		}
		r.sets[s.Name] = intent.Aggregate(s.Family(fam))
	}
	filters := map[intent.BindingKind]*intent.Filter{}
	for _, f := range in.Filters {
		switch f.Binding.Kind {
		case intent.Input, intent.Output:
		default:
			return "", fmt.Errorf("filter %s: binding %q: iptables renders host firewalls only: %w", f.Name, f.Binding.Kind, fault.ErrUnsupported)
		}
		if filters[f.Binding.Kind] != nil {
			return "", fmt.Errorf("filter %s: a second %s filter", f.Name, f.Binding.Kind)
		}
		filters[f.Binding.Kind] = f
	}
	var decls, rules []string
	for _, c := range chainOf {
		f := filters[c.kind]
		if f == nil {
			continue
		}
		decls = append(decls, ":"+c.chain+" - [0:0]")
		for _, rule := range f.Rules {
			lines, err := r.rule(c.chain, c.ifFlag, rule)
			if err != nil {
				return "", fmt.Errorf("filter %s: rule %s: %w", f.Name, rule.ID, err)
			}
			rules = append(rules, lines...)
		}
		if f.LogDrops {
			// 10/min with the default burst of 5, which iptables-save omits.
			rules = append(rules, "-A "+c.chain+" -m limit --limit 10/min -j LOG --log-prefix"+quote(logPrefix(c.chain, "drop")))
		}
		rules = append(rules, "-A "+c.chain+" -j DROP")
	}
	if len(decls) == 0 {
		return "", fmt.Errorf("no input or output filter")
	}
	return "*filter\n" + strings.Join(decls, "\n") + "\n" + strings.Join(rules, "\n") + "\nCOMMIT\n", nil
}

// logPrefix is "fwpush input flow-3: ", cut to what LOG keeps.
func logPrefix(chain, what string) string {
	p := "fwpush " + strings.ToLower(strings.TrimPrefix(chain, ChainPrefix)) + " " + what + ": "
	return cut(clean(p), maxLogPrefix)
}

// quote prints a value as iptables-save does (xtables_save_string): bare
// when it is only [A-Za-z0-9_-], else in double quotes with every double
// quote, single quote and backslash escaped by a backslash.
// iptables-restore reads both forms back.
func quote(s string) string {
	bare := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			bare = false
			break
		}
	}
	if bare {
		return " " + s
	}
	var b strings.Builder
	b.WriteString(` "`)
	for _, r := range s {
		if r == '"' || r == '\\' || r == '\'' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// clean makes text safe for one line of iptables-restore input: control
// characters become spaces and invalid UTF-8 becomes '?'.
func clean(text string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(text, "?"))
}

// cut shortens text to max bytes on a rune boundary, before iptables cuts
// it blindly.
func cut(text string, max int) string {
	for len(text) > max {
		_, size := utf8.DecodeLastRuneInString(text)
		text = text[:len(text)-size]
	}
	return text
}
