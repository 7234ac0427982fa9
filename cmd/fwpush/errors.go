package main

import (
	"strings"
)

// splitErrors flattens joined errors into one message each, for JSON.
func splitErrors(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		out = append(out, strings.TrimSpace(e.Error()))
	}
	if err != nil {
		walk(err)
	}
	return out
}
