package linuxnftables

import (
	"context"
	"path"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/linuxhost"
	"github.com/fwpush/fwpush/internal/shellquote"
)

// PersistPath is where a confirmed table is kept for boot. Debian's
// nftables.service loads /etc/nftables.conf; add
// `include "/etc/fwpush/fwpush.nft"` there (fwpush never edits that file:
// it may hold rules fwpush does not own).
const PersistPath = "/etc/fwpush/fwpush.nft"

// dialect is how nftables hosts are fetched, checked, applied, persisted.
type dialect struct{}

func (dialect) FetchScript() string {
	// A missing table is an empty owned part, not an error.
	return "nft list table " + Table + " 2>/dev/null || true" // Table is two fixed words
}

func (dialect) Parse(out string) (drivers.Config, error) {
	return drivers.Config{Platform: ID, Parts: []drivers.Part{{Name: PartName, Text: out}}}, nil
}

func (dialect) Stage(c drivers.Config) (map[string][]byte, error) {
	return map[string][]byte{"nft": []byte(ApplyScript(c))}, nil
}

func (dialect) CheckScript(p string) string { return "nft -c -f " + shellquote.Quote(p+".nft") }

func (dialect) ApplyScript(p string) string { return "nft -f " + shellquote.Quote(p+".nft") }

func (dialect) PersistScript(p string) string {
	tmp := shellquote.Quote(PersistPath + ".tmp")
	return "set -e; mkdir -p " + shellquote.Quote(path.Dir(PersistPath)) + "; cp " + shellquote.Quote(p+".nft") + " " + tmp +
		"; mv -f " + tmp + " " + shellquote.Quote(PersistPath)
}

func open(ctx context.Context, t drivers.Target) (drivers.Session, error) {
	c, err := linuxhost.Dial(ctx, t)
	if err != nil {
		return nil, err
	}
	return linuxhost.NewSession(c, dialect{}), nil
}
