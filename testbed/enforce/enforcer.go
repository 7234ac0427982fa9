package enforce

import (
	"bufio"
	"context"
	"fmt"
	"strings"
)

// Runner runs a command inside one lab namespace with only its network
// namespace switched; *testbed.Lab is one (Lab.NetExec). nft needs nothing
// else, and never runs in the caller's namespace this way.
type Runner interface {
	NetExec(ctx context.Context, host string, stdin []byte, argv ...string) ([]byte, error)
}

// Enforcer makes one lab namespace (a host's or a router's) enforce the
// States it is given. Its methods are safe for concurrent use; applies are
// serialized, so the last Apply to return is what the namespace enforces.
// A simulator that builds States from commits should hold its own commit
// lock across building and applying, so an older State never overtakes a
// newer one. Use one Enforcer per namespace: two would share the table.
type Enforcer struct {
	r    Runner
	host string
	sem  chan struct{} // held while nft runs
	// mangle rewrites the script before it is loaded; tests use it to make
	// the kernel refuse a script, proving the replacement is atomic.
	mangle func(string) string
}

// New returns an Enforcer for host's namespace in lab (a host or router
// name, as for Lab.Exec).
func New(lab Runner, host string) *Enforcer {
	return &Enforcer{r: lab, host: host, sem: make(chan struct{}, 1)}
}

// Host returns the lab host whose namespace e acts on.
func (e *Enforcer) Host() string { return e.host }

// Apply replaces what the namespace enforces with s, in one nft
// transaction: when s cannot be rendered or the kernel refuses it, the
// namespace keeps enforcing what it did. It waits for an Apply already
// running, or for ctx.
func (e *Enforcer) Apply(ctx context.Context, s State) error {
	rs, err := Render(s)
	if err != nil {
		return fmt.Errorf("%s: enforce: %w", e.host, err)
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%s: enforce: waiting for another apply: %w", e.host, ctx.Err())
	}
	defer func() { <-e.sem }()
	text := rs.Text
	if e.mangle != nil {
		text = e.mangle(text)
	}
	if _, err := e.r.NetExec(ctx, e.host, []byte(text), "nft", "-f", "-"); err != nil {
		return fmt.Errorf("%s: enforce: load table inet %s: %w", e.host, Table, err)
	}
	return nil
}

// Read returns what e's namespace enforces now; see the package function.
func (e *Enforcer) Read(ctx context.Context) (Enforced, error) {
	return Read(ctx, e.r, e.host)
}

// Enforced is what a namespace enforces, as read back from its kernel.
type Enforced struct {
	// Digest is the Ruleset.Digest of the State enforced, from the table's
	// comment; "" when the namespace has no table (it enforces nothing).
	Digest string
	// Listing is the kernel's `nft list table inet fwp_enforce`, for
	// failure messages ("" without a table).
	Listing string
}

// Read reads back what host's namespace enforces: compare Digest with
// Render(state).Digest to check that a State is in force.
func Read(ctx context.Context, r Runner, host string) (Enforced, error) {
	out, err := r.NetExec(ctx, host, nil, "nft", "list", "tables", "inet")
	if err != nil {
		return Enforced{}, fmt.Errorf("%s: enforce: list tables: %w", host, err)
	}
	if !strings.Contains("\n"+string(out), "\ntable inet "+Table+"\n") {
		return Enforced{}, nil
	}
	out, err = r.NetExec(ctx, host, nil, "nft", "list", "table", "inet", Table)
	if err != nil {
		return Enforced{}, fmt.Errorf("%s: enforce: list table inet %s: %w", host, Table, err)
	}
	en := Enforced{Listing: string(out)}
	s := bufio.NewScanner(strings.NewReader(en.Listing))
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if d, ok := strings.CutPrefix(line, `comment "`+digestMark); ok {
			en.Digest = strings.TrimSuffix(d, `"`)
			break
		}
	}
	if en.Digest == "" {
		return en, fmt.Errorf("%s: enforce: table inet %s carries no digest: not written by this package", host, Table)
	}
	return en, nil
}
