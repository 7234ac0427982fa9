package inventory

import (
	"strings"
)

// KnownDataKeys are the data keys fwpush itself reads: addresses and acls
// here, the SSH settings in drivers/linuxhost. Any other data key is the
// user's own (Nornir data is free-form) and is kept as is.
var KnownDataKeys = []string{"addresses", "acls", "ssh_known_hosts", "ssh_identity_file", "proxy_jump", "netconf_dialect", "openconfig_defined_sets"}

// suggestDataKey returns the known data key k is probably a misspelling
// of, or "". A typo such as "adresses" would otherwise leave a host with
// no address, or an inventory's known_hosts unused, without a word.
func suggestDataKey(k string) string {
	for _, known := range KnownDataKeys {
		if k == known {
			return ""
		}
	}
	nk := squash(k)
	for _, known := range KnownDataKeys {
		nknown := squash(known)
		max := 2
		if len(nknown) <= 4 {
			max = 1
		}
		switch {
		case nk == nknown,
			editDistance(nk, nknown) <= max,
			len(nk) >= 8 && (strings.HasPrefix(nknown, nk) || strings.HasSuffix(nknown, nk)):
			return known
		}
	}
	return ""
}

// squash lowercases and drops separators: "SSH-Known-Hosts" → "sshknownhosts".
func squash(s string) string {
	return strings.Join(splitWords(s), "")
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours each cost one.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// warnDataKeys warns about data keys of hosts, groups and defaults that
// look like misspelt keys fwpush reads.
func (src source) warnDataKeys(rh, rg map[string]rawHost, rd rawHost) []string {
	var out []string
	check := func(doc locator, path []any, data map[string]any) {
		for _, k := range sortedKeys(data) {
			if known := suggestDataKey(k); known != "" {
				p := append(append([]any{}, path...), "data", k)
				out = append(out, doc.Errorf(p, "unknown data key %q is not read by fwpush: did you mean %q?", k, known).Error())
			}
		}
	}
	for _, name := range sortedKeys(rh) {
		check(src.hosts, []any{name}, rh[name].Data)
	}
	for _, name := range sortedKeys(rg) {
		if src.groups != nil {
			check(src.groups, []any{name}, rg[name].Data)
		}
	}
	if src.defaults != nil {
		check(src.defaults, nil, rd.Data)
	}
	return out
}
