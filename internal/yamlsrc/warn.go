package yamlsrc

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Invalid is a load that failed: every error, plus the warnings found on
// the way, which often explain an error (a misspelt key is a warning; the
// host it leaves without an address is the error).
type Invalid struct {
	Errs     []error
	Warnings []string
}

func (e *Invalid) Error() string { return errors.Join(e.Errs...).Error() }

// Unwrap lets errors.Is/As and the CLI's error lists see each error.
func (e *Invalid) Unwrap() []error { return e.Errs }

// Fail returns nil when errs is empty, else an *Invalid carrying warnings.
func Fail(errs []error, warnings []string) error {
	if len(errs) == 0 {
		return nil
	}
	return &Invalid{Errs: errs, Warnings: warnings}
}

// Warnings returns the warnings of every *Invalid in err's tree, in order
// and without repeats.
func Warnings(err error) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(e error) {
		switch v := e.(type) {
		case nil:
			return
		case *Invalid:
			for _, w := range v.Warnings {
				if !seen[w] {
					seen[w] = true
					out = append(out, w)
				}
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// NodeError is an error at node n for a custom unmarshaler to return:
// Decode reports it with the file, line and column of the node.
func NodeError(n ast.Node, format string, args ...any) error {
	return &yaml.SyntaxError{Message: fmt.Sprintf(format, args...), Token: n.GetToken()}
}
