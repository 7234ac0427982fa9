package linuxnftables

import (
	"regexp"
	"strings"

	"github.com/fwpush/fwpush/drivers"
)

var (
	setStart   = regexp.MustCompile(`^\s*set (\S+) \{`)
	chainStart = regexp.MustCompile(`^\s*chain (\S+) \{`)
	elemStart  = regexp.MustCompile(`elements = \{(.*)$`)
)

// Parse reads a listed fwpush table back into its rules (per chain) and
// its sets' elements, for the semantic summary of a diff. It accepts any
// table text, a hand-edited one included: a line it cannot classify is
// kept with no action.
func (*Driver) Parse(c drivers.Config) (drivers.Ruleset, error) {
	rs := drivers.Ruleset{Sets: map[string][]string{}}
	var set, chain string
	inElems := false
	for _, line := range strings.Split(c.Part(PartName), "\n") {
		t := strings.TrimSpace(line)
		if m := chainStart.FindStringSubmatch(line); m != nil {
			chain = m[1]
			continue
		}
		if m := setStart.FindStringSubmatch(line); m != nil {
			set, inElems = m[1], false
			rs.Sets[set] = []string{}
			continue
		}
		if set != "" {
			if m := elemStart.FindStringSubmatch(t); m != nil {
				inElems, t = true, m[1]
			}
			if inElems {
				for _, e := range strings.Split(strings.TrimSuffix(strings.TrimSpace(t), "}"), ",") {
					if e = strings.TrimSpace(e); e != "" {
						rs.Sets[set] = append(rs.Sets[set], e)
					}
				}
				if strings.HasSuffix(t, "}") {
					inElems = false
				}
			}
			if t == "}" {
				set = ""
			}
			continue
		}
		if chain == "" || t == "" || t == "}" || strings.HasPrefix(t, "type ") {
			continue
		}
		key := t
		if i := strings.Index(t, ` comment "`); i >= 0 {
			key = t[:i] // a comment holds no '"': see comment()
		}
		rs.Rules = append(rs.Rules, drivers.RuleLine{Filter: chain, Text: chain + ": " + t, Action: verdict(t), Key: chain + ": " + key})
	}
	return rs, nil
}

// verdict classifies an nft rule by its statement: the comment comes
// after it, so the verdict is the last word before " comment ".
func verdict(t string) drivers.Action {
	if i := strings.Index(t, ` comment "`); i >= 0 {
		t = t[:i]
	}
	switch {
	case strings.HasSuffix(t, " accept") || t == "accept":
		return drivers.PermitAction
	case strings.HasSuffix(t, " drop") || t == "drop" || strings.Contains(t, " reject"):
		return drivers.DenyAction
	}
	return ""
}
