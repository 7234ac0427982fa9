package inventory

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Ansible's host identifiers: a host name, IPv4 or IPv6 address, any of
// them with [x:y] ranges, and an optional port ("host:2222", "[::1]:2222").
// The expressions follow Ansible's address grammar (ranges allowed in
// place of any label or address component).
var (
	numericRange = `\[[0-9]+:[0-9]+(?::[0-9]+)?\]`
	hexRange     = `\[[0-9a-f]+:[0-9a-f]+(?::[0-9]+)?\]`
	alnumRange   = `\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`
	ipv4Part     = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|` + numericRange + `)`
	ipv6Part     = `(?:[0-9a-f]{1,4}|` + hexRange + `)`
	labelRE      = `(?:[\p{L}\p{N}_]|` + alnumRange + `)(?:[\p{L}\p{N}_-]|` + alnumRange + `)*`

	bracketedHostPort = regexp.MustCompile(`^\[(.+)\]:([0-9]+)$`)
	hostPort          = regexp.MustCompile(`^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`)
	ipv4Addr          = regexp.MustCompile(`(?i)^(?:` + ipv4Part + `\.){3}` + ipv4Part + `$`)
	// Every way to write 0..ffff eight times, P standing for one part.
	ipv6Addr = regexp.MustCompile(`(?i)^(?:` + strings.ReplaceAll(strings.Join([]string{
		`(?:P:){7}P`, `(?:P:){1,6}:`, `(?:P:)(?::P){1,6}`, `(?:P:){2}(?::P){1,5}`, `(?:P:){3}(?::P){1,4}`,
		`(?:P:){4}(?::P){1,3}`, `(?:P:){5}(?::P){1,2}`, `(?:P:){6}(?::P)`, `:(?::P){1,6}`, `P?::`,
		`(?:0:){6}(?:P\.){3}P`, `::(?:ffff:)?(?:P\.){3}P`, `(?:0:){5}ffff:(?:P\.){3}P`,
	}, "|"), "P", ipv6Part) + `)$`)
	hostnameAddr = regexp.MustCompile(`(?i)^` + labelRE + `(?:\.` + labelRE + `)*$`)
)

// parseAddress splits an Ansible host identifier into host and port (0:
// none), or fails when it is none.
func parseAddress(s string) (host string, port int, ok bool) {
	host = s
	for _, re := range []*regexp.Regexp{bracketedHostPort, hostPort} {
		if m := re.FindStringSubmatch(host); m != nil {
			p, err := strconv.Atoi(m[2])
			if err != nil {
				return "", 0, false
			}
			host, port = m[1], p
		}
	}
	switch {
	case ipv4Addr.MatchString(host), ipv6Addr.MatchString(host):
		return host, port, true
	case hostnameAddr.MatchString(host):
		// No label may end in '_' or '-' (Ansible's look-behind).
		for _, l := range strings.Split(host, ".") {
			if strings.HasSuffix(l, "-") || strings.HasSuffix(l, "_") {
				return "", 0, false
			}
		}
		return host, port, true
	}
	return "", 0, false
}

// isAddress reports whether a whole host pattern reads as one host
// identifier, so its colons are not separators.
func isAddress(s string) bool {
	_, _, ok := parseAddress(s)
	return ok
}

// maxExpanded bounds what one host range may expand to: web[1:1000000000]
// is one short line.
const maxExpanded = 100_000

// expandHostPattern expands an inventory host entry ("web[01:20]",
// "db-[a:c].example:2222") into host names and the port they share (0:
// none), as Ansible does.
func expandHostPattern(entry string) ([]string, int, error) {
	pattern, port, ok := parseAddress(entry)
	if !ok {
		pattern, port = entry, 0
	}
	if !strings.Contains(pattern, "[") {
		return []string{pattern}, port, nil
	}
	var out []string
	if err := expandRange(pattern, &out); err != nil {
		return nil, 0, fmt.Errorf("host range %q: %w", entry, err)
	}
	return out, port, nil
}

// expandRange expands the first [begin:end(:step)] of line, then the rest
// of each result: numeric ranges keep a leading zero's width ([01:10]),
// alphabetic ones run over a-z then A-Z.
func expandRange(line string, out *[]string) error {
	open := strings.IndexByte(line, '[')
	if open < 0 {
		*out = append(*out, line)
		return nil
	}
	closing := strings.IndexByte(line[open:], ']')
	if closing < 0 {
		return fmt.Errorf("'[' without ']'")
	}
	head, spec, tail := line[:open], line[open+1:open+closing], line[open+closing+1:]
	bounds := strings.Split(spec, ":")
	if len(bounds) != 2 && len(bounds) != 3 {
		return fmt.Errorf("a range is [begin:end] or [begin:end:step], not [%s]", spec)
	}
	beg, end, step := bounds[0], bounds[1], 1
	if len(bounds) == 3 {
		var err error
		if step, err = strconv.Atoi(bounds[2]); err != nil || step < 1 {
			return fmt.Errorf("range step %q: want a whole number above 0", bounds[2])
		}
	}
	if beg == "" {
		beg = "0"
	}
	if end == "" {
		return fmt.Errorf("a range needs an end value")
	}
	var seq []string
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	ib, ie := strings.Index(letters, beg), strings.Index(letters, end)
	if len(beg) == 1 && len(end) == 1 && ib >= 0 && ie >= 0 {
		if ib > ie {
			return fmt.Errorf("range [%s]: begin after end", spec)
		}
		for i := ib; i <= ie; i += step {
			seq = append(seq, letters[i:i+1])
		}
	} else {
		b, err1 := strconv.Atoi(beg)
		e, err2 := strconv.Atoi(end)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("range [%s]: want numbers or single letters", spec)
		}
		width := 0
		if len(beg) > 1 && beg[0] == '0' {
			if len(beg) != len(end) {
				return fmt.Errorf("range [%s]: a zero-padded begin needs an end of the same width", spec)
			}
			width = len(beg)
		}
		if e >= b && (e-b)/step+1 > maxExpanded {
			return fmt.Errorf("range [%s] expands to more than %d hosts", spec, maxExpanded)
		}
		for i := b; i <= e; i += step {
			seq = append(seq, fmt.Sprintf("%0*d", width, i))
		}
	}
	for _, s := range seq {
		if err := expandRange(head+s+tail, out); err != nil {
			return err
		}
		if len(*out) > maxExpanded {
			return fmt.Errorf("expands to more than %d hosts", maxExpanded)
		}
	}
	return nil
}
