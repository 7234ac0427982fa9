package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// Goals the issue sets for fwpush.
const (
	// GoalPlanVsFloor: fwpush plan within this factor of the ssh floor.
	GoalPlanVsFloor = 1.3
	// GoalVsAnsible: fwpush at least this many times faster than Ansible.
	GoalVsAnsible = 20.0
)

// Result is a benchmark run: every sample, medians and the ratios. A run
// that failed part way returns the operations measured until then.
type Result struct {
	Hosts       int    `json:"hosts"`
	Forks       int    `json:"forks"`
	Runs        int    `json:"runs"`
	AnsibleRuns int    `json:"ansible_runs"`
	CPUs        int    `json:"cpus"`
	Fwpush      string `json:"fwpush_version"`
	Ansible     string `json:"ansible_version"`
	Ops         []Op   `json:"operations"`
	// Wall compares median wall times, CPU median client+lab CPU times.
	Wall Ratios `json:"wall_ratios"`
	CPU  Ratios `json:"cpu_ratios"`
}

// Op is one operation's samples and their median.
type Op struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Runs        []Sample `json:"runs"`
	Median      Sample   `json:"median"`
	// VsFloor is the median wall time over the ssh floor's.
	VsFloor float64 `json:"vs_floor"`
}

// Ratios compare two operations; 0 when either was not measured.
type Ratios struct {
	// PlanVsFloor, PlanNoopVsFloor: fwpush plan over the ssh floor;
	// PlanVsFloorX25519 over the floor with fwpush's key exchange.
	PlanVsFloor       float64 `json:"plan_vs_floor"`
	PlanNoopVsFloor   float64 `json:"plan_noop_vs_floor"`
	PlanVsFloorX25519 float64 `json:"plan_vs_floor_x25519"`
	// AnsibleOverApply, AnsibleOverPlan: how many times faster fwpush
	// apply and plan are than the Ansible play; AnsibleCheckOverPlan:
	// Ansible's dry run over fwpush plan with nothing to do.
	AnsibleOverApply float64 `json:"ansible_over_apply"`
	// AnsibleOverApplyUnsafe: the play over fwpush apply --no-confirm,
	// the same job done the same (unguarded) way.
	AnsibleOverApplyUnsafe float64 `json:"ansible_over_apply_noconfirm"`
	AnsibleOverPlan        float64 `json:"ansible_over_plan"`
	AnsibleCheckOverPlan   float64 `json:"ansible_check_over_plan"`
}

func (r *Result) op(name string) Op {
	for _, o := range r.Ops {
		if o.Name == name {
			return o
		}
	}
	return Op{}
}

func ratio(a, b float64) float64 {
	if a == 0 || b == 0 {
		return 0
	}
	return a / b
}

func (r *Result) fillRatios() {
	floor := r.op(OpFloor).Median.Wall
	for i := range r.Ops {
		r.Ops[i].VsFloor = ratio(r.Ops[i].Median.Wall, floor)
	}
	r.Wall = r.ratios(func(s Sample) float64 { return s.Wall })
	r.CPU = r.ratios(Sample.TotalCPU)
}

func (r *Result) ratios(get func(Sample) float64) Ratios {
	v := func(name string) float64 { return get(r.op(name).Median) }
	return Ratios{
		PlanVsFloor:            ratio(v(OpPlan), v(OpFloor)),
		PlanNoopVsFloor:        ratio(v(OpPlanNoop), v(OpFloor)),
		PlanVsFloorX25519:      ratio(v(OpPlan), v(OpFloorX25519)),
		AnsibleOverApply:       ratio(v(OpAnsible), v(OpApply)),
		AnsibleOverApplyUnsafe: ratio(v(OpAnsible), v(OpApplyUnsafe)),
		AnsibleOverPlan:        ratio(v(OpAnsible), v(OpPlan)),
		AnsibleCheckOverPlan:   ratio(v(OpAnsibleCheck), v(OpPlanNoop)),
	}
}

// WriteTable prints the medians, the ratios and whether the goals are met.
func (r *Result) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "push benchmark: %d hosts, forks %d, %d CPUs; median of %d runs (Ansible: %d)\n",
		r.Hosts, r.Forks, r.CPUs, r.Runs, r.AnsibleRuns)
	fmt.Fprintf(w, "  %s; %s\n", r.Fwpush, r.Ansible)
	fmt.Fprintf(w, "  CPU: client = the command and its children; lab = every sshd and what it ran; other = the rest of the machine meanwhile\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\twall\t× floor\tCPU client\tCPU lab\tCPU other\t\t")
	for _, o := range r.Ops {
		m := o.Median
		fmt.Fprintf(tw, "%s\t%.2fs\t%.2f\t%.2fs\t%.2fs\t%.2fs\t\t%s\n", o.Name, m.Wall, o.VsFloor,
			m.ClientCPU, m.ServerCPU, m.OtherCPU(), o.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, q := range []struct {
		name string
		r    Ratios
	}{{"wall", r.Wall}, {"CPU (client+lab)", r.CPU}} {
		fmt.Fprintf(w, "by %s: plan %.2f× floor (no-op %.2f×, %.2f× the x25519 floor); "+
			"Ansible/fwpush: apply %.1f× (--no-confirm %.1f×), plan %.1f×", q.name, q.r.PlanVsFloor, q.r.PlanNoopVsFloor,
			q.r.PlanVsFloorX25519, q.r.AnsibleOverApply, q.r.AnsibleOverApplyUnsafe, q.r.AnsibleOverPlan)
		if q.r.AnsibleCheckOverPlan > 0 {
			fmt.Fprintf(w, ", --check/no-op plan %.1f×", q.r.AnsibleCheckOverPlan)
		}
		fmt.Fprintln(w)
	}
	q := r.Wall
	fmt.Fprintf(w, "goal plan ≤ %.1f× floor (wall):       %s\n", GoalPlanVsFloor,
		verdict(q.PlanVsFloor > 0 && max(q.PlanVsFloor, q.PlanNoopVsFloor) <= GoalPlanVsFloor))
	_, err := fmt.Fprintf(w, "goal ≥ %.0f× faster than Ansible (wall): apply %s, apply --no-confirm %s, plan %s\n", GoalVsAnsible,
		verdict(q.AnsibleOverApply >= GoalVsAnsible), verdict(q.AnsibleOverApplyUnsafe >= GoalVsAnsible), verdict(q.AnsibleOverPlan >= GoalVsAnsible))
	return err
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// WriteJSON writes r as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
