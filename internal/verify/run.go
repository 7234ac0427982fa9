package verify

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/policy"
)

// Runner runs a shell script on an inventory host and returns its stdout.
type Runner func(ctx context.Context, host, script string) (string, error)

// Observed is what a probe saw.
type Observed string

// Observations. Refused still proves the firewall let the packet through.
const (
	Open    Observed = "open"
	Refused Observed = "refused"
	Blocked Observed = "blocked"
	Error   Observed = "error"
)

// Result is one probe's outcome.
type Result struct {
	Probe
	Got  Observed `json:"got"`
	Pass bool     `json:"pass"`
	Note string   `json:"note,omitempty"`
}

// Report is every probe's result; Failed counts mismatches.
type Report struct {
	Results []Result `json:"results"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
}

// Run executes the probes, one SSH command per source host running its
// probes in parallel, each bounded by timeout.
func Run(ctx context.Context, probes []Probe, run Runner, timeout time.Duration, eo engine.Options) (*Report, error) {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	bySrc := map[string][]int{}
	var srcs []string
	for i, p := range probes {
		if _, ok := bySrc[p.From]; !ok {
			srcs = append(srcs, p.From)
		}
		bySrc[p.From] = append(bySrc[p.From], i)
	}
	sort.Strings(srcs)
	results := make([]Result, len(probes))
	for i, p := range probes {
		results[i] = Result{Probe: p, Got: Error, Note: "not run"}
	}
	_, _, err := engine.Run(ctx, srcs, eo, func(ctx context.Context, host string) engine.Result {
		idx := bySrc[host]
		out, err := run(ctx, host, script(probes, idx, timeout))
		if err != nil {
			for _, i := range idx {
				results[i].Note = err.Error()
			}
			return engine.Result{Status: engine.Failed, Error: err.Error()}
		}
		parse(out, results)
		return engine.Result{Status: engine.Unchanged}
	})
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	for i := range results {
		r := &results[i]
		reached := r.Got == Open || r.Got == Refused
		r.Pass = r.Got != Error && reached == r.Expect
		if r.Pass {
			rep.Passed++
		} else {
			rep.Failed++
		}
	}
	rep.Results = results
	return rep, nil
}

// script probes with bash's /dev/tcp and /dev/udp under timeout(1), so a
// host needs nothing but bash and coreutils. A UDP probe passes when the
// peer answers (the lab's listeners echo) or refuses.
func script(probes []Probe, idx []int, timeout time.Duration) string {
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) }
	// A probe expected to be blocked always waits out its timeout, so that
	// one stays short; one expected to connect normally answers in
	// milliseconds, so a long limit costs nothing and keeps a loaded host
	// from reporting a false "blocked".
	deny, permit := secs(timeout), secs(max(3*timeout, 6*time.Second))
	var b strings.Builder
	b.WriteString("probe() {\n" +
		"  if [ \"$2\" = tcp ]; then err=$(timeout $5 bash -c \"exec 3<>/dev/tcp/$3/$4\" 2>&1); rc=$?\n" +
		"  else err=$(timeout $5 bash -c \"exec 3<>/dev/udp/$3/$4; printf fwpush >&3; head -c 1 <&3\" 2>&1 >/dev/null); rc=$?; fi\n" +
		"  case \"$rc:$err\" in 0:*) echo \"$1 open\";; 124:*) echo \"$1 blocked\";; *refused*) echo \"$1 refused\";;" +
		" *) echo \"$1 blocked $rc\";; esac\n}\n")
	for _, i := range idx {
		p := probes[i]
		proto := "tcp"
		if p.Proto == policy.UDP {
			proto = "udp"
		}
		limit := deny
		if p.Expect {
			limit = permit
		}
		fmt.Fprintf(&b, "probe %d %s %s %d %s &\n", i, proto, p.Dst, p.Port, limit)
	}
	b.WriteString("wait\n")
	return b.String()
}

func parse(out string, results []Result) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		i, err := strconv.Atoi(f[0])
		if err != nil || i < 0 || i >= len(results) {
			continue
		}
		results[i].Got, results[i].Note = Observed(f[1]), ""
	}
}
