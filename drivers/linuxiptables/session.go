package linuxiptables

import (
	"context"
	"fmt"
	"strings"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/linuxhost"
	"github.com/fwpush/fwpush/internal/shellquote"
)

// PersistDir holds the confirmed rules for boot: iptables.rules,
// ip6tables.rules and apply.sh (restore plus hooks). fwpush never edits
// /etc/iptables/rules.v4: it may hold rules fwpush does not own.
const PersistDir = "/etc/fwpush"

// v6Marker separates the two saves in one fetch; iptables-save treats
// '#' lines as comments, so Canonicalize ignores it too.
const v6Marker = "# fwpush: ip6tables-save follows"

type dialect struct{}

func (dialect) FetchScript() string {
	return "iptables-save -t filter 2>/dev/null; echo '" + v6Marker + "'; ip6tables-save -t filter 2>/dev/null; true"
}

func (dialect) Parse(out string) (drivers.Config, error) {
	v4, v6, ok := strings.Cut(out, v6Marker)
	if !ok {
		return drivers.Config{}, fmt.Errorf("fetch: iptables-save output incomplete")
	}
	return drivers.Config{Platform: ID, Parts: []drivers.Part{
		{Name: PartIPv4, Text: Canonicalize(v4)}, {Name: PartIPv6, Text: Canonicalize(v6)}}}, nil
}

// Stage validates our own output first: iptables-restore commits table by
// table and, on the nft backend, --test accepts jumps to missing chains.
func (dialect) Stage(c drivers.Config) (map[string][]byte, error) {
	if c.Part(PartIPv4) != "" || c.Part(PartIPv6) != "" {
		if err := Check(c); err != nil {
			return nil, err
		}
	}
	return map[string][]byte{
		"v4": []byte(RestoreInput(c.Part(PartIPv4))),
		"v6": []byte(RestoreInput(c.Part(PartIPv6))),
		"sh": []byte(hookScript(c)),
	}, nil
}

func (dialect) CheckScript(p string) string {
	return "iptables-restore --test --noflush < " + shellquote.Quote(p+".v4") +
		" && ip6tables-restore --test --noflush < " + shellquote.Quote(p+".v6")
}

func (dialect) ApplyScript(p string) string { return "sh " + shellquote.Join(p+".sh", p) }

func (dialect) PersistScript(p string) string {
	var b strings.Builder
	b.WriteString("set -e; mkdir -p " + shellquote.Quote(PersistDir) + "; ")
	for _, f := range [][2]string{{".v4", "iptables.rules"}, {".v6", "ip6tables.rules"}, {".sh", "apply.sh"}} {
		src, dst, tmp := shellquote.Quote(p+f[0]), shellquote.Quote(PersistDir+"/"+f[1]), shellquote.Quote(PersistDir+"/"+f[1]+".tmp")
		fmt.Fprintf(&b, "cp %s %s; mv -f %s %s; ", src, tmp, tmp, dst)
	}
	return b.String()
}

// hookScript restores both families, then makes every hook exist exactly
// once as rule 1 of its builtin chain, removes hooks to chains the config
// no longer has, and deletes our chains from a family the config leaves
// empty. It takes the staged prefix as $1. The common case
// (hooks already right) changes nothing.
func hookScript(c drivers.Config) string {
	var b strings.Builder
	b.WriteString(`set -e
p="$1"
iptables-restore --noflush < "$p.v4"
ip6tables-restore --noflush < "$p.v6"
ensure() {
	rule="-A $2 -j $3"
	n=$($1 -S "$2" | grep -c -x -- "$rule" || true)
	first=$($1 -S "$2" | grep -v '^-P ' | sed -n 1p)
	[ "$n" = 1 ] && [ "$first" = "$rule" ] && return 0
	$1 -I "$2" 1 -j "$3"
	for num in $($1 -S "$2" | grep -v '^-P ' | grep -n -x -- "$rule" | cut -d: -f1 | sort -rn); do
		[ "$num" -gt 1 ] && $1 -D "$2" "$num"
	done
	return 0
}
unhook() {
	i=0
	while $1 -D "$2" -j "$3" 2>/dev/null && [ $i -lt 100 ]; do i=$((i+1)); done
	return 0
}
`)
	hooked := map[string]bool{}
	for _, h := range HookRules(c) {
		hooked[h.Part+h.Chain] = true
	}
	for _, part := range []struct{ name, cmd string }{{PartIPv4, "iptables"}, {PartIPv6, "ip6tables"}} {
		for _, chain := range managed {
			builtin := strings.TrimPrefix(chain, ChainPrefix)
			if hooked[part.name+chain] {
				fmt.Fprintf(&b, "ensure %s\n", shellquote.Join(part.cmd, builtin, chain))
			} else {
				fmt.Fprintf(&b, "unhook %s\n", shellquote.Join(part.cmd, builtin, chain))
			}
		}
		// No policy at all for this family (a rollback to before fwpush):
		// leave no empty chains of ours behind either.
		if strings.TrimSpace(c.Part(part.name)) == "" {
			for _, chain := range managed {
				fmt.Fprintf(&b, "%s 2>/dev/null || true\n", shellquote.Join(part.cmd, "-X", chain))
			}
		}
	}
	return b.String()
}

func open(ctx context.Context, t drivers.Target) (drivers.Session, error) {
	c, err := linuxhost.Dial(ctx, t)
	if err != nil {
		return nil, err
	}
	return linuxhost.NewSession(c, dialect{}), nil
}
