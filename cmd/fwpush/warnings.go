package main

import (
	"fmt"

	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// loadProject loads the project and prints its warnings (a misspelt data
// key, a service no flow uses) to stderr, one "warning: " line each, unless
// the command's JSON document carries them (warningsInJSON). When loading
// fails they go to stderr in every format: they often explain the error.
func (g *globals) loadProject() (*project.Project, error) {
	o, err := g.options()
	if err != nil {
		return nil, err
	}
	p, err := project.Load(o)
	if p != nil {
		g.scrub(p.Inv)
	}
	switch {
	case err != nil:
		g.printWarnings(yamlsrc.Warnings(err))
	case !g.warningsInJSON || g.format != "json":
		g.printWarnings(p.Warnings)
	}
	return p, err
}

func (g *globals) printWarnings(ws []string) {
	for _, w := range ws {
		fmt.Fprintf(g.errOut, "warning: %s\n", w)
	}
}
