package clisession

import (
	"fmt"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// Table is what one dialect adds to scrapligo's own platform definition:
// the engine reads it from the platform package's embedded YAML (its
// `cli:` section), so a dialect is data, not code.
type Table struct {
	// Scrapli names scrapligo's platform definition (prompts, privilege
	// levels, enable, terminal settings on open): cisco_iosxe, cisco_nxos,
	// arista_eos.
	Scrapli string `yaml:"scrapli-platform"`
	// Failed lists replies, beyond scrapligo's failed-when-contains for
	// the platform, that mean the device refused a line. scrapligo reports
	// a refusal in Response.Failed, never as a Go error, and its lists
	// miss some of the replies fwpush relies on (NX-OS "% Invalid ip
	// address", IOS "%No Rollback Confirmed Change pending").
	Failed []string `yaml:"failed-when-contains"`
	// Commands are the dialect's fixed commands by role; {name}
	// placeholders are filled by Command with values the caller has
	// checked (numbers, fwpush's own names).
	Commands map[string]string `yaml:"commands"`
}

// ParseTable reads a platform's table from the `cli:` section of its
// YAML file.
func ParseTable(doc []byte) (*Table, error) {
	var f struct {
		CLI *Table `yaml:"cli"`
	}
	if err := yaml.Unmarshal(doc, &f); err != nil {
		return nil, fmt.Errorf("cli table: %w", err)
	}
	t := f.CLI
	switch {
	case t == nil:
		return nil, fmt.Errorf("cli table: no cli section")
	case t.Scrapli == "":
		return nil, fmt.Errorf("cli table: scrapli-platform is empty")
	}
	return t, nil
}

// MustTable is ParseTable for a platform's embedded file: a broken table
// is a programming error the first test catches.
func MustTable(doc []byte) *Table {
	t, err := ParseTable(doc)
	if err != nil {
		panic(err)
	}
	return t
}

// Command returns the command of role name with its {placeholders}
// replaced by args, given as key, value pairs. An unknown role or a
// placeholder left unfilled is a programming error.
func (t *Table) Command(name string, args ...string) string {
	c, ok := t.Commands[name]
	if !ok {
		panic(fmt.Sprintf("clisession: %s table has no command %q (has %s)", t.Scrapli, name, strings.Join(t.names(), ", ")))
	}
	if len(args) > 0 {
		pairs := make([]string, 0, len(args))
		for i := 0; i+1 < len(args); i += 2 {
			pairs = append(pairs, "{"+args[i]+"}", args[i+1])
		}
		c = strings.NewReplacer(pairs...).Replace(c)
	}
	if strings.ContainsAny(c, "{}") {
		panic(fmt.Sprintf("clisession: %s command %q: placeholder left in %q", t.Scrapli, name, c))
	}
	return c
}

func (t *Table) names() []string {
	out := make([]string, 0, len(t.Commands))
	for n := range t.Commands {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
