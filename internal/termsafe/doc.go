// Package termsafe makes strings from inventories, playbooks, devices and
// the run store safe to print on a terminal.
package termsafe
