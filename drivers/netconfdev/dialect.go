package netconfdev

import (
	"context"
	"encoding/xml"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/fwpush/fwpush/internal/transport/netconf"
)

// Dialect is how a device takes the steps of a push: the RPCs differ
// between RFC 6241 and the native Junos XML API, the steps do not.
type Dialect interface {
	// Get returns running's content (the <data> or <configuration>
	// element's inside) restricted to what the schema reads.
	Get(ctx context.Context) (string, error)
	// Lock and Unlock take and release the candidate (the shared
	// configuration database) for this session.
	Lock(ctx context.Context) error
	Unlock(ctx context.Context) error
	// Load merges payload (the schema's edit) into the candidate.
	Load(ctx context.Context, payload string) error
	// Check validates the candidate holding payload, without committing
	// (commit check).
	Check(ctx context.Context, payload string) error
	// CommitConfirmed commits the candidate with a revert armed within,
	// named persist where the dialect can; it returns the delay armed
	// (within rounded up to the dialect's timer unit).
	CommitConfirmed(ctx context.Context, within time.Duration, persist string) (time.Duration, error)
	// Confirm commits the candidate, confirming the pending confirmed
	// commit persist names.
	Confirm(ctx context.Context, persist string) error
	// Commit commits the candidate when no confirmed commit is pending.
	Commit(ctx context.Context) error
	// Discard resets the candidate to running.
	Discard(ctx context.Context) error
	// Granularity is the unit the device's confirm timer counts in.
	Granularity() time.Duration
	// Origin is the address the device sees this session come from, or
	// the zero Addr when the dialect cannot ask.
	Origin(ctx context.Context) (netip.Addr, error)
}

// Standard is RFC 6241 over a :candidate datastore with
// :confirmed-commit:1.1: edit-config, validate (when the server offers
// :validate), commit with confirmed, confirm-timeout (seconds) and
// persist, and the confirming commit naming persist-id.
type Standard struct {
	S *Conn
	// Filter is the subtree filter of get-config.
	Filter string
}

// Get reads running's owned part.
func (d Standard) Get(ctx context.Context) (string, error) {
	return d.S.GetConfig(ctx, netconf.Running, d.Filter)
}

// Lock locks the candidate.
func (d Standard) Lock(ctx context.Context) error { return d.S.Lock(ctx, netconf.Candidate) }

// Unlock unlocks the candidate.
func (d Standard) Unlock(ctx context.Context) error { return d.S.Unlock(ctx, netconf.Candidate) }

// Load edits the candidate, merging by default: the payload says where
// to replace and delete.
func (d Standard) Load(ctx context.Context, payload string) error {
	return d.S.EditConfig(ctx, netconf.Candidate, payload, netconf.Merge)
}

// Check is commit check: with :validate:1.1 the loaded edit is tested
// again with test-option test-only (RFC 6241 §8.6.4), which checks it and
// changes nothing; with :validate:1.0 only, <validate> of the candidate.
// A server with neither validates each edit as it loads it, which is all
// the check there is. (netconfd 2.13's <validate> makes the next commit
// apply nothing, internal/transport/netconf/labquirks_test.go; its
// test-only does not.)
func (d Standard) Check(ctx context.Context, payload string) error {
	switch {
	case d.S.HasCapability(netconf.CapValidate11):
		return d.S.TestEdit(ctx, netconf.Candidate, payload, netconf.Merge)
	case d.S.HasCapability(netconf.CapValidate10):
		return d.S.Validate(ctx, netconf.Candidate)
	}
	return nil
}

// CommitConfirmed commits with confirm-timeout in whole seconds.
func (d Standard) CommitConfirmed(ctx context.Context, within time.Duration, persist string) (time.Duration, error) {
	within = roundUp(within, time.Second)
	return within, d.S.Commit(ctx, netconf.CommitOptions{Confirmed: true, ConfirmTimeout: within, Persist: persist})
}

// Confirm is the confirming commit naming persist-id.
func (d Standard) Confirm(ctx context.Context, persist string) error {
	return d.S.Commit(ctx, netconf.CommitOptions{PersistID: persist})
}

// Commit commits the candidate.
func (d Standard) Commit(ctx context.Context) error { return d.S.Commit(ctx, netconf.CommitOptions{}) }

// Discard is discard-changes.
func (d Standard) Discard(ctx context.Context) error { return d.S.DiscardChanges(ctx) }

// Granularity: RFC 6241's confirm-timeout counts seconds.
func (Standard) Granularity() time.Duration { return time.Second }

// Origin asks ietf-netconf-monitoring which source-host the server sees
// this session come from; a server without it leaves the address the
// connection left from (right unless NAT sits between).
func (d Standard) Origin(ctx context.Context) (netip.Addr, error) {
	body := `<get xmlns="` + netconf.NS + `"><filter type="subtree"><netconf-state xmlns="` + monitoringNS +
		`"><sessions><session><session-id>` + strconv.FormatUint(uint64(d.S.ID()), 10) + `</session-id><source-host/></session></sessions></netconf-state></filter></get>`
	reply, err := d.S.Call(ctx, "get netconf-state", body, false)
	var re *netconf.RPCError
	if errors.As(err, &re) {
		return d.S.local, nil
	}
	if err != nil {
		return netip.Addr{}, err
	}
	var v struct {
		Hosts []string `xml:"data>netconf-state>sessions>session>source-host"`
	}
	if err := xml.Unmarshal([]byte("<r>"+reply+"</r>"), &v); err != nil || len(v.Hosts) != 1 {
		return d.S.local, nil
	}
	a, err := netip.ParseAddr(strings.TrimSpace(v.Hosts[0]))
	if err != nil {
		return d.S.local, nil
	}
	return a.WithZone("").Unmap(), nil
}

const monitoringNS = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"

func roundUp(d, unit time.Duration) time.Duration {
	return (d + unit - 1) / unit * unit
}
