// Command gosd is the service manager (the default command, also as PID1),
// `gosd verify`, the control client when called as gosdctl or systemctl
// (or as `gosd ctl`), and the reader of gosd's log when called as
// journalctl.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/alecthomas/kong"

	"gosd/boot"
	"gosd/control"
)

// CLI is gosd's command line (DESIGN.md "Command-line contract").
type CLI struct {
	Run    RunCmd    `cmd:"" default:"withargs" help:"Run the service manager in the foreground (the default)."`
	Verify VerifyCmd `cmd:"" help:"Parse unit files as the manager would; print each problem as file:line: message."`
}

// exitCode lets a command end the process with a specific status.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// stopProfile ends a CPU profile (pprof.go, build tag gosd_pprof).
var stopProfile = func() {}

func main() {
	if os.Getpid() == 1 {
		liftFileLimit(os.Args)
	}
	code := realMain(os.Args)
	stopProfile()
	os.Exit(code)
}

func realMain(args []string) int {
	earlyHooks()
	name := filepath.Base(args[0])
	switch {
	case name == "gosdctl" || name == "systemctl":
		return ctlMain(name, args[1:])
	case name == "journalctl":
		// Installed under that name where systemd's journalctl is not.
		return control.JournalMain(name, args[1:], os.Stdout, os.Stderr)
	case len(args) > 1 && args[1] == "ctl":
		return ctlMain("gosd ctl", args[2:])
	case len(args) > 1 && args[1] == "mount-helper":
		// mount(8) and friends where they are missing: the reactor runs
		// this as a mount or swap unit's control process.
		return boot.MountHelper(args[2:], os.Stderr)
	}
	if len(args) < 2 || args[1] != "verify" {
		managerHooks()
	}

	var cli CLI
	parser, err := kong.New(&cli,
		kong.Name("gosd"),
		kong.Description("Run systemd unit files without systemd."),
		kong.UsageOnError(),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gosd:", err)
		return 2
	}
	ctx, err := parser.Parse(args[1:])
	if err != nil {
		if os.Getpid() != 1 {
			parser.FatalIfErrorf(err)
		}
		// The kernel hands init the command-line words it does not know;
		// PID1 must boot anyway, with the defaults.
		fmt.Fprintln(os.Stderr, "gosd: ignoring arguments:", err)
		return exitStatus(new(RunCmd).Run())
	}
	return exitStatus(ctx.Run())
}

func exitStatus(err error) int {
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	default:
		fmt.Fprintln(os.Stderr, "gosd:", err)
		return 1
	}
}
