package journal

import (
	"fmt"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/inventory"
)

// Target is a host to restore and the snapshot to restore it to: the
// config it had before a run.
type Target struct {
	Host string `json:"host"`
	// Run is the run whose before-snapshot is restored.
	Run    string         `json:"run"`
	When   time.Time      `json:"when"`
	Who    string         `json:"who"`
	Config drivers.Config `json:"-"`
}

// Targets finds the snapshot to restore for each host: the one taken
// before run to, or, when to is empty, before the latest run that changed
// the host (a rollback is such a run too, so a second rollback undoes the
// first).
func Targets(st store.Backend, hosts []string, to string) ([]Target, error) {
	if len(hosts) == 0 {
		return nil, fmt.Errorf("rollback: name the hosts to roll back")
	}
	var runID string
	if to != "" {
		r, _, err := st.Run(to)
		if err != nil {
			return nil, err
		}
		runID = r.ID
	}
	var out []Target
	seen := map[string]bool{}
	for _, h := range hosts {
		if seen[h] {
			continue
		}
		seen[h] = true
		es, err := st.HostEntries(h)
		if err != nil {
			return nil, err
		}
		var pick *store.Entry
		for i := len(es) - 1; i >= 0 && pick == nil; i-- {
			e := es[i]
			switch {
			case runID != "" && e.Run == runID:
				if e.Before == nil {
					return nil, fmt.Errorf("%s: run %s never read its config (stopped at %s): no snapshot to restore", h, runID, e.Phase)
				}
				pick = &e
			case runID == "" && e.Before != nil && changed(e):
				pick = &e
			}
		}
		if pick == nil {
			if runID != "" {
				return nil, fmt.Errorf("%s: run %s did not touch this host", h, runID)
			}
			return nil, fmt.Errorf("%s: no recorded run changed this host", h)
		}
		r, _, err := st.Run(pick.Run)
		if err != nil {
			return nil, err
		}
		out = append(out, Target{Host: h, Run: pick.Run, When: r.Started, Who: r.Who, Config: *pick.Before})
	}
	return out, nil
}

// changed reports whether a run left its change on the device.
func changed(e store.Entry) bool {
	switch {
	case e.Outcome == string(apply.Confirmed) || e.Outcome == string(apply.Applied):
		return true
	case e.Reconciled != nil:
		return e.Reconciled.Result == store.Applied
	}
	return false
}

// CheckTargets refuses targets whose host is missing from inv or whose
// snapshot is for another platform than the host's.
func CheckTargets(inv *inventory.Inventory, targets []Target) error {
	for _, t := range targets {
		h := inv.Hosts[t.Host]
		if h == nil {
			return fmt.Errorf("%s: not in inventory %s", t.Host, inv.Dir)
		}
		if t.Config.Platform != "" && t.Config.Platform != h.Platform {
			return fmt.Errorf("%s: the snapshot from before run %s is for %s, the host is now %s", t.Host, t.Run, t.Config.Platform, h.Platform)
		}
	}
	return nil
}
