package netsim

import (
	"fmt"
	"regexp"
	"strings"
)

// Output filters after `|`. section, include, exclude and begin are what
// all three dialects share.
func checkFilter(c *cmdCtx, filter string, fcol int) error {
	if len(c.toks) == 0 || strings.ToLower(c.toks[0].text) == "" ||
		!strings.HasPrefix("show", strings.ToLower(c.toks[0].text)) {
		return &cliError{kind: errInvalid, col: fcol - 1}
	}
	f := tokenize(filter)
	if len(f) == 0 {
		return &cliError{kind: errIncomplete, col: fcol}
	}
	if _, err := matchKeyword(token{f[0].text, fcol + f[0].col}, "section", "include", "exclude", "begin"); err != nil {
		return err
	}
	if len(f) < 2 {
		return &cliError{kind: errIncomplete, col: fcol + len(filter) + 1}
	}
	if _, err := regexp.Compile(strings.TrimSpace(filter[f[1].col:])); err != nil {
		return invalidAt(token{f[1].text, fcol + f[1].col})
	}
	return nil
}

func applyFilter(out, filter string) string {
	f := tokenize(filter)
	kw, _ := matchKeyword(f[0], "section", "include", "exclude", "begin")
	re := regexp.MustCompile(strings.TrimSpace(filter[f[1].col:]))
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var b strings.Builder
	switch kw {
	case "include", "exclude":
		for _, l := range lines {
			if re.MatchString(l) == (kw == "include") {
				fmt.Fprintln(&b, l)
			}
		}
	case "begin":
		on := false
		for _, l := range lines {
			if !on && re.MatchString(l) {
				on = true
			}
			if on {
				fmt.Fprintln(&b, l)
			}
		}
	case "section":
		// A section is a top-level line and the indented lines under it;
		// it is printed whole when any of its lines matches.
		var block []string
		flush := func() {
			for _, l := range block {
				if re.MatchString(l) {
					for _, x := range block {
						fmt.Fprintln(&b, x)
					}
					break
				}
			}
			block = nil
		}
		for _, l := range lines {
			if l != "" && l[0] != ' ' {
				flush()
			}
			if l == "" || l == "!" {
				flush()
				continue
			}
			block = append(block, l)
		}
		flush()
	}
	return b.String()
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
