package main

import (
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fwpush/fwpush/internal/logging"
	"github.com/fwpush/fwpush/inventory"
)

// logFlags choose what fwpush logs to stderr: -v for info (each device's
// phases), -vv for debug (every command sent to a device and every reply),
// or --log-level; --log-format text|json. Secrets from the inventory are
// scrubbed from every record.
type logFlags struct {
	verbose int
	level   string
	format  string
	secrets logging.Secrets
}

func (l *logFlags) register(fs *pflag.FlagSet) {
	fs.CountVarP(&l.verbose, "verbose", "v", "log to stderr: -v each device's phases, -vv every command sent to a device and its reply")
	fs.StringVar(&l.level, "log-level", "", "log level: debug|info|warn|error (default warn; -v info, -vv debug)")
	fs.StringVar(&l.format, "log-format", "text", "log format: text|json")
}

// logger builds the command's logger.
func (l *logFlags) logger(g *globals) (*slog.Logger, error) {
	level := slog.LevelWarn
	switch {
	case l.level != "":
		var err error
		if level, err = logging.ParseLevel(l.level); err != nil {
			return nil, fmt.Errorf("--log-level: %w", err)
		}
	case l.verbose == 1:
		level = slog.LevelInfo
	case l.verbose >= 2:
		level = slog.LevelDebug
	}
	lg, err := logging.New(g.errOut, level, l.format, &l.secrets)
	if err != nil {
		return nil, fmt.Errorf("--log-format: %w", err)
	}
	return lg, nil
}

// scrub registers an inventory's credentials with the log, so no record
// can show them.
func (g *globals) scrub(inv *inventory.Inventory) {
	if inv != nil {
		g.log.secrets.Add(inv.SecretValues()...)
	}
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print fwpush's version",
		Example: `  fwpush version`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionString())
			return nil
		},
	}
}

// versionString is the -ldflags version of a make build, else the module
// version and VCS revision a `go install` or `go build` recorded.
func versionString() string {
	v, rev, goVer := version, "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVer = bi.GoVersion
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = s.Value[:12]
			}
		}
	}
	out := "fwpush " + v
	if rev != "" && rev != v {
		out += " (" + rev + ")"
	}
	if goVer != "" {
		out += " " + goVer
	}
	return out
}
