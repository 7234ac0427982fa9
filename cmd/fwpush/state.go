package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/runstore"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/internal/termsafe"
	"github.com/fwpush/fwpush/inventory"
)

// testOpener, set only by tests, replaces the drivers' connections with
// in-memory devices.
var testOpener func(inv *inventory.Inventory) plan.Opener

// runStore opens the run store for writing (creating it): --state, else
// $FWPUSH_STATE, else the default under the user's state directory. A
// postgres:// URL is a store shared with other controllers.
func (g *globals) runStore() (store.Backend, error) {
	return g.openStore(runstore.Open)
}

// readStore opens the run store for reading only: it creates nothing and
// never opens the file for writing, so a read-only store can be listed.
func (g *globals) readStore() (store.Backend, error) {
	return g.openStore(runstore.OpenReadOnly)
}

func (g *globals) openStore(open func(string) (store.Backend, error)) (store.Backend, error) {
	loc, err := runstore.Location(g.state)
	if err != nil {
		return nil, err
	}
	st, err := open(loc)
	if err == nil {
		g.st = st
	}
	return st, err
}

// opener connects through each host's driver. It never connects to a
// host with an unset ${ENV} credential (commands check them all first,
// with g.secrets; this keeps any other from sending an empty password).
func (g *globals) opener(reg *drivers.Registry, inv *inventory.Inventory, t drivers.TransportOptions) plan.Opener {
	open := plan.DriverOpener(reg, inv, t, nil)
	if testOpener != nil {
		open = testOpener(inv)
	}
	return func(ctx context.Context, host string) (drivers.Session, error) {
		if h := inv.Hosts[host]; h != nil {
			if unset := inventory.UnsetSecrets([]*inventory.Host{h}); len(unset) > 0 {
				return nil, unset[0]
			}
		}
		return open(ctx, host)
	}
}

// command is the command line as recorded with a run.
func (g *globals) command() string {
	parts := []string{"fwpush"}
	for _, a := range g.args {
		a = runstore.RedactArg(a) // --state postgres://user:password@…
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$") {
			a = strconv.Quote(a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// printJournal prints what the run found on devices earlier runs left
// unfinished, and the journal's warnings.
func printJournal(w io.Writer, res *journal.Result) {
	for _, r := range res.Reconciled {
		fmt.Fprintf(w, "reconciled %s: run %s stopped at %s: %s (%s)\n", termsafe.Line(r.Host), r.Run, r.Phase, r.Result, termsafe.Line(r.Detail))
	}
	for _, m := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", termsafe.Line(m))
	}
}

// printRecorded names the run the push is recorded as, and only when the
// whole run is: after a failed journal write the error says what is
// missing, and no line may read as success.
func printRecorded(w io.Writer, res *journal.Result) {
	if len(res.Unrecorded) == 0 {
		fmt.Fprintf(w, "recorded as run %s\n", res.Run)
	}
}
