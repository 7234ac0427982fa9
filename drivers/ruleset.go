package drivers

// Parser is implemented by drivers that can read their own canonical
// config back into rules: the semantic summary of a diff (what becomes
// permitted, what stops being permitted) compares two Rulesets, so it
// works for every platform without knowing any platform's syntax.
type Parser interface {
	Parse(c Config) (Ruleset, error)
}

// Ruleset is a config read back: its rules in order and its named sets.
type Ruleset struct {
	Rules []RuleLine
	// Sets maps a named address or port set (nft set, object-group,
	// prefix-list) to its elements as the device writes them.
	Sets map[string][]string
}

// Action is what a rule line does with the traffic it matches.
type Action string

// Actions a rule line can have; a line that neither permits nor denies
// (a jump, a counter, a remark) has none.
const (
	PermitAction Action = "permit"
	DenyAction   Action = "deny"
)

// RuleLine is one rule as the device writes it.
type RuleLine struct {
	// Filter names where the rule lives (chain, ACL, filter term list):
	// the same text in two filters is two rules.
	Filter string
	// Text is the rule as a summary shows it: the device's own line,
	// qualified where that alone is ambiguous ("input: tcp dport 22
	// accept", "ip6tables -A FWPUSH-INPUT ...").
	Text   string
	Action Action
	// Key is the rule without what does not change the traffic it
	// matches (its comment), for comparing rules: renumbered or reworded
	// flows are no new rules. Empty means Text.
	Key string
}

// Match returns the rule's Key, or its Text when it has none.
func (r RuleLine) Match() string {
	if r.Key != "" {
		return r.Key
	}
	return r.Text
}
