package juniperjunos

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/netconfdev"
	"github.com/fwpush/fwpush/internal/transport/netconf"
	"github.com/fwpush/fwpush/inventory"
)

// DataDialect is the inventory data key that selects a host's XML
// dialect: native (the default: Junos out of the box) or yang (a device
// with `set system services netconf rfc-compliant` and `yang-compliant`).
const DataDialect = "netconf_dialect"

// dialectOf reads the host's dialect.
func dialectOf(h *inventory.Host) (string, error) {
	switch v := h.Data[DataDialect].(type) {
	case nil:
		return Native, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case Native, "junos":
			return Native, nil
		case YANG, "standard", "rfc":
			return YANG, nil
		}
	}
	return "", fmt.Errorf("data.%s is %v: want native (the Junos XML API) or yang (RFC 6241 with Junos' YANG namespaces)",
		DataDialect, h.Data[DataDialect])
}

func open(ctx context.Context, t drivers.Target) (drivers.Session, error) {
	if t.Host == nil {
		return nil, fmt.Errorf("open: no host in target")
	}
	dialect, err := dialectOf(t.Host)
	if err != nil {
		return nil, err
	}
	c, err := netconfdev.Dial(ctx, t)
	if err != nil {
		return nil, err
	}
	var d netconfdev.Dialect = netconfdev.Standard{S: c, Filter: fetchFilter}
	if dialect == Native {
		d = nativeRPCs{c}
	} else if !c.HasCapability(netconf.CapCandidate) || !c.HasCapability(netconf.CapConfirmedCommit11) {
		c.Close()
		return nil, errors.New("the device does not offer :candidate and :confirmed-commit:1.1, which the yang dialect needs (is it in rfc-compliant mode?)")
	}
	return netconfdev.NewSession(c, d, schema{dialect: dialect}), nil
}

// nativeRPCs is the native Junos XML API: no namespaces,
// lock-configuration, load-configuration action="replace" (elements
// marked replace="replace" replace, delete="delete" delete),
// commit-configuration with check, confirmed and a confirm-timeout in
// MINUTES; any later commit confirms a pending confirmed commit.
type nativeRPCs struct{ c *netconfdev.Conn }

// nativeFilter asks get-configuration for the three hierarchies Read
// needs, from the committed configuration (the default is the
// candidate).
const nativeFilter = `<get-configuration database="committed" format="xml"><configuration><firewall/><policy-options/><interfaces/></configuration></get-configuration>`

func (d nativeRPCs) call(ctx context.Context, what, body string, mutating bool) (string, error) {
	reply, err := d.c.Call(ctx, what, body, mutating)
	if err != nil {
		return "", err
	}
	// Junos nests rpc-errors in the operation's results
	// (load-configuration-results, commit-results).
	if err := nestedErrors(reply); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return reply, nil
}

// nestedErrors finds rpc-errors of error severity anywhere in a reply.
func nestedErrors(reply string) error {
	if !strings.Contains(reply, "rpc-error") {
		return nil
	}
	dec := xml.NewDecoder(strings.NewReader("<r>" + reply + "</r>"))
	var errs netconf.RPCErrors
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "rpc-error" {
			continue
		}
		var e netconf.RPCError
		if dec.DecodeElement(&e, &se) == nil && strings.TrimSpace(e.Severity) != "warning" {
			e.Tag, e.Message, e.AppTag = strings.TrimSpace(e.Tag), strings.TrimSpace(e.Message), strings.TrimSpace(e.AppTag)
			e.Path, e.Type, e.Severity = strings.TrimSpace(e.Path), strings.TrimSpace(e.Type), strings.TrimSpace(e.Severity)
			errs = append(errs, &e)
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errs
}

func (d nativeRPCs) Get(ctx context.Context) (string, error) {
	return d.call(ctx, "get-configuration", nativeFilter, false)
}

func (d nativeRPCs) Lock(ctx context.Context) error {
	_, err := d.call(ctx, "lock-configuration", `<lock-configuration/>`, true)
	return err
}

func (d nativeRPCs) Unlock(ctx context.Context) error {
	_, err := d.call(ctx, "unlock-configuration", `<unlock-configuration/>`, true)
	return err
}

func (d nativeRPCs) Load(ctx context.Context, payload string) error {
	_, err := d.call(ctx, "load-configuration", `<load-configuration action="replace" format="xml">`+payload+`</load-configuration>`, true)
	return err
}

func (d nativeRPCs) Check(ctx context.Context, _ string) error {
	_, err := d.call(ctx, "commit check", `<commit-configuration><check/></commit-configuration>`, false)
	return err
}

// CommitConfirmed arms the device's timer in whole minutes, rounded up.
func (d nativeRPCs) CommitConfirmed(ctx context.Context, within time.Duration, persist string) (time.Duration, error) {
	minutes := int((within + time.Minute - 1) / time.Minute)
	body := `<commit-configuration><confirmed/><confirm-timeout>` + strconv.Itoa(minutes) + `</confirm-timeout>` +
		`<log>` + escape("fwpush trial "+persist) + `</log></commit-configuration>`
	_, err := d.call(ctx, "commit confirmed", body, true)
	return time.Duration(minutes) * time.Minute, err
}

// Confirm: on Junos any commit confirms the pending one; the marker
// proved it is this run's.
func (d nativeRPCs) Confirm(ctx context.Context, persist string) error {
	_, err := d.call(ctx, "commit", `<commit-configuration><log>`+escape("fwpush confirms "+persist)+`</log></commit-configuration>`, true)
	return err
}

func (d nativeRPCs) Commit(ctx context.Context) error {
	_, err := d.call(ctx, "commit", `<commit-configuration/>`, true)
	return err
}

func (d nativeRPCs) Discard(ctx context.Context) error { return d.c.DiscardChanges(ctx) }

func (nativeRPCs) Granularity() time.Duration { return time.Minute }

// Origin: the native API has no session table to ask; the address the
// connection left from stands for it (right unless NAT sits between).
func (d nativeRPCs) Origin(context.Context) (netip.Addr, error) { return d.c.Local(), nil }

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
