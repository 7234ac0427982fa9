package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/fwpush/fwpush/internal/termsafe"
	"github.com/fwpush/fwpush/inventory"
)

// secrets makes sure every credential of hosts written as ${ENV} has a
// value before anything connects, so no device is sent an empty
// password. On a terminal it asks for each unset variable once, without
// echo; elsewhere the error names every host, key and variable at once.
func (g *globals) secrets(ctx context.Context, hosts []*inventory.Host) error {
	unset := inventory.UnsetSecrets(hosts)
	if len(unset) == 0 {
		return nil
	}
	tty, ok := g.stdin.(*os.File)
	if !ok || !isTerminal(tty) {
		errs := make([]error, len(unset))
		for i, u := range unset {
			errs[i] = u
		}
		return errors.Join(errs...)
	}
	who := map[string][]string{}
	var vars []string
	for _, u := range unset {
		if _, seen := who[u.Var]; !seen {
			vars = append(vars, u.Var)
		}
		who[u.Var] = append(who[u.Var], u.Host+" "+u.Key)
	}
	sort.Strings(vars)
	for _, v := range vars {
		fmt.Fprintf(g.errOut, "%s is not set (%s); enter it: ", v, termsafe.Line(strings.Join(who[v], ", ")))
		value, err := readHidden(ctx, tty)
		fmt.Fprintln(g.errOut)
		if err != nil {
			return err
		}
		inventory.ProvideSecret(v, value)
		g.log.secrets.Add(value)
	}
	return nil
}

// readHidden reads a line from the terminal with echo off, restoring the
// terminal even when a signal stops the read.
func readHidden(ctx context.Context, tty *os.File) (string, error) {
	fd := int(tty.Fd())
	saved, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", fmt.Errorf("terminal: %w", err)
	}
	quiet := *saved
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return "", fmt.Errorf("terminal: %w", err)
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, saved) //nolint:errcheck // best effort on the way out
	line, err := interruptible(ctx, func() (string, error) { return bufio.NewReader(tty).ReadString('\n') })
	if iv := interruption(ctx); iv != nil {
		return "", iv
	}
	if err != nil && line == "" {
		return "", fmt.Errorf("reading a secret from the terminal: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
