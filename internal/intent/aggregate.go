package intent

import (
	"net/netip"

	"go4.org/netipx"
)

// Aggregate returns the minimal sorted prefix cover of ps.
func Aggregate(ps []netip.Prefix) []netip.Prefix {
	// Sets from the compiler are already minimal; checking is linear,
	// rebuilding is not, and a 5,000-host plan renders thousands of sets.
	if minimal(ps) {
		return ps
	}
	var b netipx.IPSetBuilder
	for _, p := range ps {
		b.AddPrefix(p.Masked())
	}
	s, _ := b.IPSet()
	return s.Prefixes()
}

// minimal reports whether ps is sorted, masked, free of overlaps and of
// sibling pairs that would merge into their parent: the unique minimal
// cover, exactly what IPSetBuilder would return.
func minimal(ps []netip.Prefix) bool {
	for i, p := range ps {
		if p.Masked() != p {
			return false
		}
		if i == 0 {
			continue
		}
		q := ps[i-1]
		if q.Addr().Is4() != p.Addr().Is4() || !q.Addr().Less(p.Addr()) || q.Overlaps(p) {
			return false
		}
		if q.Bits() == p.Bits() && p.Bits() > 0 {
			if pq, _ := q.Addr().Prefix(q.Bits() - 1); pq.Contains(p.Addr()) {
				return false
			}
		}
	}
	return true
}
