package netsim

import "sort"

// showUsers prints `show users`: the device's CLI sessions with where they
// come from, the session asking marked `*`. Each dialect has its layout
// (IOS-XE and EOS: Line/User/Host(s)/Idle/Location, NX-OS: who(1)-like,
// the address in parentheses); the column widths are unverified.
func showUsers(c *cmdCtx) error {
	s := c.s
	dev := s.dev
	var all []*session
	for x := range dev.sessions {
		if x.remote != "" {
			all = append(all, x)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	switch dev.d.name() {
	case PlatformNXOS:
		s.printf("NAME     LINE         TIME         IDLE          PID COMMENT\n")
		for _, x := range all {
			mark := ""
			if x == s {
				mark = " *"
			}
			s.printf("%-8s pts/%-7d %s   .         %5d (%s) session=ssh%s\n", x.user, x.id,
				dev.clock.Now().UTC().Format("Jan _2 15:04"), 20000+x.id, x.remote, mark)
		}
	default:
		s.printf("    Line       User       Host(s)              Idle       Location\n")
		for _, x := range all {
			mark := " "
			if x == s {
				mark = "*"
			}
			s.printf("%s%3d vty %-5d %-10s %-20s %-10s %s\n", mark, x.id+1, x.id-1, x.user, "idle", "00:00:00", x.remote)
		}
		if dev.d.name() == PlatformIOSXE {
			s.printf("\n  Interface    User               Mode         Idle     Peer Address\n\n")
		}
	}
	return nil
}
