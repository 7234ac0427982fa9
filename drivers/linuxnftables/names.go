package linuxnftables

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fwpush/fwpush/internal/freetext"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// maxComment is nft's limit on a rule comment, in bytes (longer ones are
// rejected with "comment too long, 128 characters maximum allowed").
const maxComment = 128

// maxIdent keeps set names well under the kernel's 255-byte limit with room
// for the _v4/_v6 suffix.
const maxIdent = 200

// identifiers maps Intent set names to nft identifiers. nft's scanner takes
// [A-Za-z_.][A-Za-z0-9/_.-]* as a name, so a role starting with a digit
// ("5g-core") gets a leading '_' (the only Intent names starting with one
// are compile's own sets, "_mgmt", and a letter follows, so no clash);
// anything else odd becomes '_'. Names that still collide, or are
// too long, get a hash of the original so the mapping stays one to one and
// independent of set order.
func identifiers(names []string) map[string]string {
	out := make(map[string]string, len(names))
	byIdent := map[string][]string{}
	for _, n := range names {
		id := sanitize(n)
		if len(id) > maxIdent {
			id = withHash(id[:maxIdent-9], n)
		}
		out[n] = id
		byIdent[id] = append(byIdent[id], n)
	}
	for _, ns := range byIdent {
		if len(ns) < 2 {
			continue
		}
		for _, n := range ns {
			out[n] = withHash(out[n], n)
		}
	}
	return out
}

func sanitize(name string) string {
	var b strings.Builder
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' ||
			i > 0 && (r >= '0' && r <= '9' || r == '-')
		switch {
		case ok:
			b.WriteRune(r)
		case i == 0 && r >= '0' && r <= '9':
			b.WriteByte('_')
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

func withHash(id, original string) string {
	h := fnv.New32a()
	h.Write([]byte(original))
	return fmt.Sprintf("%s_%08x", id, h.Sum32())
}

// comment is a rule's reasons, each after its flow's number, as an nft
// comment: one readable line cut on word boundaries to nft's limit, never
// losing a flow number (see freetext.Reasons). nft strings have no escapes
// at all, so a double quote becomes a single one; everything else,
// backslashes, ';' and braces included, is literal inside the quotes.
func comment(rule *intent.Rule) string {
	return strings.ReplaceAll(freetext.Reasons(rule.Flows, rule.Why, maxComment), `"`, "'")
}

// logPrefix makes a prefix fwpush generates (chain and rule ID) safe for
// an nft log prefix, cut to max bytes on a rune boundary: its trailing
// space matters, so it is not trimmed.
func logPrefix(text string, max int) string {
	text = strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, strings.ToValidUTF8(text, "?"))
	for len(text) > max {
		_, size := utf8.DecodeLastRuneInString(text)
		text = text[:len(text)-size]
	}
	return text
}

// nft's own ICMP type names (its icmp_type and icmpv6_type symbol tables);
// types without a name print as numbers.
var icmpNames = map[int]string{
	0: "echo-reply", 3: "destination-unreachable", 4: "source-quench", 5: "redirect",
	8: "echo-request", 9: "router-advertisement", 10: "router-solicitation", 11: "time-exceeded",
	12: "parameter-problem", 13: "timestamp-request", 14: "timestamp-reply", 15: "info-request",
	16: "info-reply", 17: "address-mask-request", 18: "address-mask-reply",
}

var icmpv6Names = map[int]string{
	1: "destination-unreachable", 2: "packet-too-big", 3: "time-exceeded", 4: "parameter-problem",
	128: "echo-request", 129: "echo-reply", 130: "mld-listener-query", 131: "mld-listener-report",
	132: "mld-listener-done", 133: "nd-router-solicit", 134: "nd-router-advert",
	135: "nd-neighbor-solicit", 136: "nd-neighbor-advert", 137: "nd-redirect",
	138: "router-renumbering", 141: "ind-neighbor-solicit", 142: "ind-neighbor-advert",
	143: "mld2-listener-report",
}

// icmpTypes prints sorted, de-duplicated types as nft does: one bare value,
// or an anonymous set in ascending order.
func icmpTypes(p policy.Proto, types []int) (string, error) {
	names := icmpNames
	if p == policy.ICMPv6 {
		names = icmpv6Names
	}
	ts := append([]int(nil), types...)
	sort.Ints(ts)
	var out []string
	for i, t := range ts {
		if t < 0 || t > 255 {
			return "", fmt.Errorf("%s type %d is outside 0-255", p, t)
		}
		if i > 0 && t == ts[i-1] {
			continue
		}
		if n, ok := names[t]; ok {
			out = append(out, n)
		} else {
			out = append(out, strconv.Itoa(t))
		}
	}
	return braces(out), nil
}

// braces prints one value bare and several as an anonymous set; nft lists a
// one-element anonymous set as the bare value, so we never write one.
func braces(vals []string) string {
	if len(vals) == 1 {
		return vals[0]
	}
	return "{ " + strings.Join(vals, ", ") + " }"
}
