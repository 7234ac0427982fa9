// Package shellquote is the one way fwpush puts a value into a POSIX shell
// command line: every remote script that must name a value quotes it here,
// or receives it as data on stdin.
package shellquote
