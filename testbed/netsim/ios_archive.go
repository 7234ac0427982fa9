package netsim

import (
	"fmt"
	"strings"
	"time"
)

// IOS-XE configuration archive and Configuration Rollback Confirmed Change:
// `archive` / `path`, `configure terminal revert timer N`, `configure
// confirm`, `configure revert now|timer N`, `configure replace`, and the
// show commands that report them. Messages are those IOS prints (see
// README.md for sources).

const iosArchiveOff = "%Turn config archive on before using Rollback Confirmed Change"
const iosNoPending = "%No Rollback Confirmed Change pending"

// archiveName is the next archive file name: PATH-Mon-_d-hh-mm-ss.mmm-N.
func (d *ios) archiveName(dev *Device) string {
	t := dev.clock.Now()
	stamp := strings.ReplaceAll(t.Format("Jan-_2-15-04-05.000"), " ", "-")
	return fmt.Sprintf("%s-%s-%d", dev.running.archive.Path, stamp, dev.ios.next)
}

// saveArchive writes the running configuration to the next archive file,
// dropping the oldest beyond `maximum` (10 by default).
func (d *ios) saveArchive(dev *Device) string {
	name := d.archiveName(dev)
	dev.ios.next++
	dev.files[name] = dev.running.clone()
	dev.ios.archives = append(dev.ios.archives, name)
	max := dev.running.archive.Maximum
	if max == 0 {
		max = 10
	}
	for len(dev.ios.archives) > max {
		delete(dev.files, dev.ios.archives[0])
		dev.ios.archives = dev.ios.archives[1:]
	}
	dev.logf("archive", "saved %s", name)
	return name
}

func archiveOn(dev *Device) bool {
	return dev.running.archive != nil && dev.running.archive.Path != ""
}

func (d *ios) confT(c *cmdCtx) error {
	s := c.s
	s.dev.configCmds++
	if c.has("revert") {
		if !archiveOn(s.dev) {
			return refuse("%s", iosArchiveOff)
		}
		if s.dev.ios.revert != nil {
			return refuse("%%Rollback Confirmed Change already in progress")
		}
		s.dev.mutatingCmds++
		name := d.saveArchive(s.dev)
		s.printf("Rollback Confirmed Change: Backing up current running config to %s\n\n", name)
		d.arm(s, name, c.intArg("min"))
	}
	s.printf("Enter configuration commands, one per line.  End with CNTL/Z.\n")
	s.setMode(modeConfig)
	return nil
}

// arm starts the revert timer; the device prints its one-minute warning to
// the session that armed it (right after the prompt when the timer is one
// minute long, as IOS does).
func (d *ios) arm(s *session, archive string, minutes int) {
	dev := s.dev
	r := &iosRevert{minutes: minutes, archive: archive, user: s.user, owner: s,
		deadline: dev.clock.Now().Add(time.Duration(minutes) * time.Minute)}
	dev.ios.revert = r
	dev.logf("revert-armed", "rollback to %s in %d min", archive, minutes)
	r.t = dev.clock.AfterFunc(time.Duration(minutes)*time.Minute, func() { d.expire(dev, r) })
	warn := "Rollback Confirmed Change: Rollback will begin in one minute.\n" +
		"Enter \"configure confirm\" if you wish to keep what you've configured\n"
	if minutes == 1 {
		s.after = warn
		return
	}
	r.warn = dev.clock.AfterFunc(time.Duration(minutes-1)*time.Minute, func() {
		dev.mu.Lock()
		defer dev.mu.Unlock()
		if dev.ios.revert == r && r.owner != nil && r.owner.async != nil {
			r.owner.async("\n" + warn + d.prompt(r.owner))
		}
	})
}

func (d *ios) expire(dev *Device, r *iosRevert) {
	dev.mu.Lock()
	if dev.ios.revert != r {
		dev.mu.Unlock()
		return
	}
	msg := d.rollback(dev)
	if r.owner != nil && r.owner.async != nil {
		r.owner.async("\n" + msg + d.prompt(r.owner))
	}
	dev.mu.Unlock()
	dev.deliver()
}

// rollback returns the running configuration to the pending change's
// archive file and clears the timer; the caller holds mu.
func (d *ios) rollback(dev *Device) string {
	r := dev.ios.revert
	dev.ios.revert = nil
	r.t.Stop()
	if r.warn != nil {
		r.warn.Stop()
	}
	snap := dev.files[r.archive]
	if snap != nil {
		dev.setRunning(snap.clone())
	}
	dev.logf("revert", "rolled back to %s", r.archive)
	return fmt.Sprintf("Rollback Confirmed Change: rolling to:%s\n\nTotal number of passes: 1\nRollback Done\n", r.archive)
}

func (d *ios) confirm(c *cmdCtx) error {
	dev := c.s.dev
	if dev.ios.revert == nil {
		return refuse("%s", iosNoPending)
	}
	dev.mutatingCmds++
	r := dev.ios.revert
	r.t.Stop()
	if r.warn != nil {
		r.warn.Stop()
	}
	dev.ios.revert = nil
	dev.logf("revert-confirmed", "by %s", c.s.user)
	return nil
}

func (d *ios) revertNow(c *cmdCtx) error {
	dev := c.s.dev
	if dev.ios.revert == nil {
		return refuse("%s", iosNoPending)
	}
	dev.mutatingCmds++
	c.s.printf("%s", d.rollback(dev))
	return nil
}

func (d *ios) revertTimer(c *cmdCtx) error {
	dev := c.s.dev
	r := dev.ios.revert
	if r == nil {
		return refuse("%s", iosNoPending)
	}
	dev.mutatingCmds++
	r.t.Stop()
	if r.warn != nil {
		r.warn.Stop()
		r.warn = nil
	}
	m := c.intArg("min")
	r.minutes = m
	r.deadline = dev.clock.Now().Add(time.Duration(m) * time.Minute)
	r.t = dev.clock.AfterFunc(time.Duration(m)*time.Minute, func() { d.expire(dev, r) })
	dev.logf("revert-rearmed", "rollback to %s in %d min", r.archive, m)
	return nil
}

// replace is `configure replace FILE [list] [force] [time N]`.
func (d *ios) replace(c *cmdCtx, toks []token) error {
	s := c.s
	file := c.arg("file")
	list, force, minutes := false, false, 0
	for i := 0; i < len(toks); i++ {
		w, err := matchKeyword(toks[i], "list", "force", "time", "nolock")
		if err != nil {
			return err
		}
		switch w {
		case "list":
			list = true
		case "force":
			force = true
		case "time":
			if i+1 >= len(toks) {
				return &cliError{kind: errIncomplete, col: c.end}
			}
			i++
			n, ok := atoiRange(toks[i].text, 1, 120)
			if !ok {
				return invalidAt(toks[i])
			}
			minutes = n
		}
	}
	target := s.dev.files[file]
	if target == nil {
		return refuse("%%Error opening %s (No such file or directory)", file)
	}
	if minutes > 0 && !archiveOn(s.dev) {
		return refuse("%s", iosArchiveOff)
	}
	doIt := func(s *session) {
		dev := s.dev
		dev.mutatingCmds++
		if minutes > 0 {
			name := d.saveArchive(dev)
			s.printf("Rollback Confirmed Change: Backing up current running config to %s\n\n", name)
			defer d.arm(s, name, minutes)
		}
		if list {
			s.printf("!Pass 1\n!List of Rollback Commands:\nend\n\n")
		}
		dev.setRunning(target.clone())
		dev.logf("replace", "running-config replaced by %s", file)
		s.printf("Total number of passes: 1\nRollback Done\n\n")
	}
	if force {
		doIt(s)
		return nil
	}
	s.printf("This will apply all necessary additions and deletions\n" +
		"to replace the current running configuration with the\n" +
		"contents of the specified configuration file, which is\n" +
		"assumed to be a complete configuration, not a partial\n" +
		"configuration. ")
	s.ask = &question{prompt: "Enter Y if you are sure you want to proceed. ? [no]: ", answer: func(s *session, reply string) {
		if r := strings.ToLower(reply); r == "y" || r == "yes" {
			doIt(s)
		}
	}}
	return nil
}

func atoiRange(s string, lo, hi int) (int, bool) {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || fmt.Sprint(n) != s {
		return 0, false
	}
	return n, n >= lo && n <= hi
}

func (d *ios) copyStartup(c *cmdCtx) error {
	c.s.ask = &question{prompt: "Destination filename [startup-config]? ", answer: func(s *session, reply string) {
		if reply != "" && reply != "startup-config" {
			s.printf("%%Error opening nvram:%s (Permission denied)\n", reply)
			return
		}
		d.saveStartup(s)
	}}
	return nil
}

func (d *ios) saveStartup(s *session) {
	dev := s.dev
	dev.mutatingCmds++
	s.printf("Building configuration...\n[OK]\n")
	dev.startup = dev.running.clone()
	dev.logf("save", "running-config saved to startup-config by %s", s.user)
	if dev.running.archive != nil && dev.running.archive.WriteMemory && archiveOn(dev) {
		d.saveArchive(dev)
	}
}

func (d *ios) writeMemory(c *cmdCtx) error { d.saveStartup(c.s); return nil }

func (d *ios) copyFile(c *cmdCtx) error {
	dst := c.arg("dst")
	i := strings.Index(dst, ":")
	if i <= 0 || i == len(dst)-1 {
		return invalidAt(c.toks[len(c.toks)-1])
	}
	base := dst[i+1:]
	c.s.ask = &question{prompt: fmt.Sprintf("Destination filename [%s]? ", base), answer: func(s *session, reply string) {
		name := dst
		if reply != "" {
			name = dst[:i+1] + reply
		}
		s.dev.mutatingCmds++
		s.dev.files[name] = s.dev.running.clone()
		n := len(d.body(s.dev.running))
		s.printf("%d bytes copied in 0.052 secs (%d bytes/sec)\n", n, n*19)
		s.dev.logf("copy", "running-config copied to %s", name)
	}}
	return nil
}

func (d *ios) archiveConfig(c *cmdCtx) error {
	if !archiveOn(c.s.dev) {
		return refuse(" Archive feature not enabled\n%% Error caught by command handler")
	}
	c.s.dev.mutatingCmds++
	d.saveArchive(c.s.dev)
	return nil
}

// showArchive prints `show archive` as IOS does (fixture
// cisco_ios_show_archive*.raw).
func (d *ios) showArchive(c *cmdCtx) error {
	dev := c.s.dev
	if !archiveOn(dev) {
		c.s.printf(" Archive feature not enabled\n")
		return nil
	}
	max := dev.running.archive.Maximum
	if max == 0 {
		max = 10
	}
	c.s.printf("The maximum archive configurations allowed is %d.\n", max)
	c.s.printf("There are currently %d archive configurations saved.\n", len(dev.ios.archives))
	c.s.printf("The next archive file will be named %s\n", d.archiveName(dev))
	c.s.printf(" Archive #  Name\n")
	for i := 1; i <= max; i++ {
		if i <= len(dev.ios.archives) {
			mark := ""
			if i == len(dev.ios.archives) {
				mark = " <- Most Recent"
			}
			c.s.printf("   %-9d%s%s\n", i, dev.ios.archives[i-1], mark)
		} else {
			c.s.printf("   %d\n", i)
		}
	}
	return nil
}

func (d *ios) showRollbackTimer(c *cmdCtx) error {
	dev := c.s.dev
	r := dev.ios.revert
	if r == nil {
		c.s.printf("%s\n", iosNoPending)
		return nil
	}
	left := r.deadline.Sub(dev.clock.Now()).Round(time.Second)
	c.s.printf("Timer type: absolute\nTimer value: %d min\nArchive file: %s\nUser: %s\nTime remaining: %d sec\n",
		r.minutes, r.archive, r.user, int(left.Seconds()))
	return nil
}
