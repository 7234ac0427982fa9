package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/fwpush/fwpush/internal/policy"
)

// Status is a device's outcome, as a CI job and a summary table read it.
type Status string

// Statuses.
const (
	Unchanged   Status = "unchanged"
	Changed     Status = "changed"
	Failed      Status = "failed"
	Unreachable Status = "unreachable"
	// Skipped devices were never started: an earlier batch failed too much
	// or the run was cancelled.
	Skipped Status = "skipped"
)

// Result is one device's outcome.
type Result struct {
	Host     string        `json:"host"`
	Status   Status        `json:"status"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	Batch    int           `json:"batch"`
	// Detail is the task's own payload (a plan, an apply outcome).
	Detail any `json:"detail,omitempty"`
}

// Task does the work for one host. It returns a Result whose Status and
// Detail it fills; Host, Batch and Duration are set by the engine.
type Task func(ctx context.Context, host string) Result

// Observer hears about progress; the CLI turns it into a progress bar or
// plain lines. Calls may come from many goroutines.
type Observer interface {
	Started(host string)
	Finished(r Result)
}

// Options bound the run.
type Options struct {
	// Forks is the most devices worked on at once; 0 means DefaultForks.
	Forks int
	// Serial are batch sizes as Ansible's serial: "1", "10", "25%"; the
	// last size repeats. Empty means one batch of every host.
	Serial []string
	// Canary, when > 0, runs a first batch of that many hosts alone.
	Canary int
	// MaxFailPercentage stops the run after a batch in which more than
	// this percentage of hosts failed (Ansible semantics): 0 stops after
	// any failure, 100 never stops. NeverStop (any negative value) also
	// never stops; NaN and values above 100 are refused.
	MaxFailPercentage float64
	Observer          Observer
	// Stop, when closed, asks the run to stop softly: no host is started
	// after it, and the hosts in flight run their task to the end with
	// their context untouched, so a device is never left half-way through
	// a change. Cancelling ctx instead cancels the tasks' context too.
	// Tasks that may wait long watch Stop themselves (see Stopped).
	Stop <-chan struct{}
}

// NeverStop is the MaxFailPercentage that lets every batch run whatever
// fails.
const NeverStop = -1.0

// Validate refuses options Run cannot honour; the names are the Go
// fields (the CLI and the playbook check their own spellings with the
// same policy checks before building Options).
func (o Options) Validate() error {
	var errs []error
	if o.Forks != 0 {
		errs = append(errs, policy.CheckForks("Forks", o.Forks))
	}
	errs = append(errs, policy.CheckCanary("Canary", o.Canary))
	if o.MaxFailPercentage >= 0 || math.IsNaN(o.MaxFailPercentage) {
		errs = append(errs, policy.CheckMaxFailPercentage("MaxFailPercentage", o.MaxFailPercentage))
	}
	for _, s := range o.Serial {
		_, err := policy.ParseSerialSize("Serial", s)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Stopped reports whether Stop is closed.
func (o Options) Stopped() bool {
	select {
	case <-o.Stop:
		return true
	default:
		return false
	}
}

// StopRequested is the Summary.Aborted of a run stopped through
// Options.Stop.
const StopRequested = "the run was asked to stop: no device was started after that; the devices in flight finished"

// DefaultForks suits hundreds of hosts: work is network-bound.
const DefaultForks = 64

// Summary counts results by status; Aborted says a batch failed too much.
type Summary struct {
	Total   int            `json:"total"`
	Counts  map[Status]int `json:"counts"`
	Aborted string         `json:"aborted,omitempty"`
	// AbortedBatch is the 1-based batch that failed too much (0: none), so
	// a caller can undo that wave.
	AbortedBatch int `json:"aborted_batch,omitempty"`
}

// Run runs task over hosts and returns every host's result in host order,
// skipped ones included.
func Run(ctx context.Context, hosts []string, opts Options, task Task) ([]Result, Summary, error) {
	if err := opts.Validate(); err != nil {
		return nil, Summary{}, err
	}
	if opts.Forks == 0 {
		opts.Forks = DefaultForks
	}
	batches, err := Batches(len(hosts), opts.Canary, opts.Serial)
	if err != nil {
		return nil, Summary{}, err
	}
	results := make([]Result, len(hosts))
	for i, h := range hosts {
		results[i] = Result{Host: h, Status: Skipped}
	}
	sum := Summary{Total: len(hosts), Counts: map[Status]int{}}
	start := 0
	for bi, size := range batches {
		idx := make([]int, 0, size)
		for i := start; i < start+size; i++ {
			idx = append(idx, i)
		}
		start += size
		if ctx.Err() != nil {
			sum.Aborted = "cancelled: " + ctx.Err().Error()
			break
		}
		if opts.Stopped() {
			break
		}
		failed := runBatch(ctx, hosts, idx, bi+1, opts, task, results)
		if opts.Stopped() {
			break // hosts of this batch may be unstarted: no failure rate to judge
		}
		if opts.MaxFailPercentage >= 0 && float64(failed)*100/float64(size) > opts.MaxFailPercentage {
			sum.Aborted = fmt.Sprintf("batch %d: %d of %d hosts failed, more than max_fail_percentage %g%%", bi+1, failed, size, opts.MaxFailPercentage)
			sum.AbortedBatch = bi + 1
			break
		}
	}
	for _, r := range results {
		sum.Counts[r.Status]++
	}
	if sum.Aborted == "" && sum.Counts[Skipped] > 0 && opts.Stopped() {
		sum.Aborted = StopRequested
	}
	return results, sum, nil
}

func runBatch(ctx context.Context, hosts []string, idx []int, batch int, opts Options, task Task, results []Result) (failed int) {
	sem := make(chan struct{}, opts.Forks)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, i := range idx {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			case <-opts.Stop: // nil when unset: never ready
				return
			}
			defer func() { <-sem }()
			if ctx.Err() != nil || opts.Stopped() {
				return // select picks at random among ready cases
			}
			host := hosts[i]
			// A task that never returns (its goroutine stopped dead) is
			// still known to have started.
			mu.Lock()
			results[i].Batch = batch
			mu.Unlock()
			if opts.Observer != nil {
				opts.Observer.Started(host)
			}
			t0 := time.Now()
			r := safeTask(ctx, host, task)
			r.Host, r.Batch, r.Duration = host, batch, time.Since(t0)
			mu.Lock()
			results[i] = r
			if r.Status == Failed || r.Status == Unreachable {
				failed++
			}
			mu.Unlock()
			if opts.Observer != nil {
				opts.Observer.Finished(r)
			}
		}(i)
	}
	wg.Wait()
	return failed
}

// safeTask turns a panic in one device's task into that device's failure,
// so it can never take the other devices (or their rollbacks) down.
func safeTask(ctx context.Context, host string, task Task) (r Result) {
	defer func() {
		if p := recover(); p != nil {
			r = Result{Status: Failed, Error: fmt.Sprintf("%s: internal error: %v", host, p)}
		}
	}()
	return task(ctx, host)
}

// Batches splits n hosts into batch sizes: an optional canary batch, then
// Ansible serial sizes (absolute or percentages of n, the last repeating).
func Batches(n, canary int, serial []string) ([]int, error) {
	var out []int
	left := n
	if canary > 0 && left > 0 {
		c := min(canary, left)
		out = append(out, c)
		left -= c
	}
	if len(serial) == 0 {
		if left > 0 {
			out = append(out, left)
		}
		return out, nil
	}
	sizes := make([]int, len(serial))
	for i, s := range serial {
		z, err := policy.ParseSerialSize("serial", s)
		if err != nil {
			return nil, err
		}
		sizes[i] = z.Of(n)
	}
	for i := 0; left > 0; i++ {
		size := sizes[min(i, len(sizes)-1)]
		size = min(size, left)
		out = append(out, size)
		left -= size
	}
	return out, nil
}

// Sorted returns results ordered by host name.
func Sorted(rs []Result) []Result {
	out := append([]Result(nil), rs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}
