package windows

import (
	"embed"
	"strings"
)

// The PowerShell programs the driver runs. Each is fixed text: the data a
// step needs (rules, descriptions, addresses, the trial) travels as JSON
// on the program's stdin, read by the bootstrap, never spliced into code.
//
//go:embed ps/*.ps1
var psFiles embed.FS

// program returns ps/name.ps1 with its "#include x" lines replaced by
// ps/x.ps1.
func program(name string) string {
	b, err := psFiles.ReadFile("ps/" + name + ".ps1")
	if err != nil {
		panic(err) // the programs are compiled in
	}
	var out strings.Builder
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if inc, ok := strings.CutPrefix(strings.TrimSpace(line), "#include "); ok {
			out.WriteString(program(inc))
			continue
		}
		out.WriteString(line)
	}
	return out.String()
}

// The programs, built once.
var (
	bootstrap  = program("bootstrap")
	fetchPS    = program("fetch")
	lockReadPS = program("lockread")
	applyPS    = program("apply")
	confirmPS  = program("confirm")
	rollbackPS = program("rollback")
	revertPS   = program("revert")
	originPS   = program("origin")
)

// Statuses the programs end with (see ps/bootstrap.ps1).
const (
	exitNothingArmed = 3
	exitLocked       = 95
	exitMutex        = 96
	exitRejected     = 97
	exitArm          = 98
	exitPartial      = 99
)
