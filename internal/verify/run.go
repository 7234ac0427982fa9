package verify

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/policy"
)

// Runner runs a shell script on an inventory host, feeding it stdin, and
// returns its stdout.
type Runner func(ctx context.Context, host, script string, stdin []byte) (string, error)

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
		lines, idx := probeList(probes, bySrc[host], timeout, results)
		if len(idx) == 0 {
			return engine.Result{Status: engine.Failed, Error: host + ": no probe could be sent"}
		}
		out, err := run(ctx, host, probeScript, lines)
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

// probeScript probes with bash's /dev/tcp and /dev/udp under timeout(1),
// so a host needs nothing but bash and coreutils. A UDP probe passes when
// the peer answers (the lab's listeners echo) or refuses. The probes come
// as data on stdin, one "index proto address port timeout" line each (see
// probeList), and reach bash -c as its arguments, never as part of its
// code: a value is only ever expanded, never parsed.
const probeScript = `probe() {
  if [ "$2" = tcp ]; then err=$(timeout "$5" bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$3" "$4" 2>&1); rc=$?
  else err=$(timeout "$5" bash -c 'exec 3<>"/dev/udp/$1/$2"; printf fwpush >&3; head -c 1 <&3' probe "$3" "$4" 2>&1 >/dev/null); rc=$?; fi
  case "$rc:$err" in 0:*) echo "$1 open";; 124:*) echo "$1 blocked";; *refused*) echo "$1 refused";; *) echo "$1 blocked $rc";; esac
}
while read -r i proto addr port limit; do
  probe "$i" "$proto" "$addr" "$port" "$limit" &
done
wait
`

// probeList returns the stdin of probeScript for the probes idx, and which
// of them it holds. Every field is checked for its shape once more before
// it leaves: a probe that fails (an address with a zone, say) is not sent,
// and its result says why.
func probeList(probes []Probe, idx []int, timeout time.Duration, results []Result) ([]byte, []int) {
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) }
	// A probe expected to be blocked always waits out its timeout, so that
	// one stays short; one expected to connect normally answers in
	// milliseconds, so a long limit costs nothing and keeps a loaded host
	// from reporting a false "blocked".
	deny, permit := secs(timeout), secs(max(3*timeout, 6*time.Second))
	var b strings.Builder
	var sent []int
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
		line := fmt.Sprintf("%d %s %s %d %s", i, proto, p.Dst, p.Port, limit)
		if err := checkLine(line); err != nil {
			results[i].Note = "not sent: " + err.Error()
			continue
		}
		b.WriteString(line + "\n")
		sent = append(sent, i)
	}
	return []byte(b.String()), sent
}

// lineRE is the shape of one probeScript input line.
var lineRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,8}) (tcp|udp) ([0-9a-f.:]{2,45}) ([1-9][0-9]{0,4}) ([0-9]{1,4}\.[0-9])$`)

// checkLine checks a probe line field by field: an index, a protocol, an
// address a firewall can hold (no zone, no IPv4-mapped form, not
// unspecified or multicast), a
// port and a timeout.
func checkLine(line string) error {
	m := lineRE.FindStringSubmatch(line)
	if m == nil {
		return fmt.Errorf("probe %q: malformed", line)
	}
	a, err := netip.ParseAddr(m[3])
	if err != nil || a.Zone() != "" || a.Is4In6() || a.IsUnspecified() || a.IsMulticast() || a.String() != m[3] {
		return fmt.Errorf("probe address %q: not a unicast host address", m[3])
	}
	if port, _ := strconv.Atoi(m[4]); port > 65535 {
		return fmt.Errorf("probe port %s: outside 1-65535", m[4])
	}
	return nil
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
