// Command fwp-netsim serves one simulated IOS-XE, NX-OS or EOS device (the
// fwpush lab simulator, package testbed/netsim) over SSH, for fwp-lab and
// manual use:
//
//	fwp-netsim -platform cisco_iosxe -hostname R1 -users users.txt -host-key key.pem \
//	    [-listen 127.0.0.1:2222 | -listen-fd 3] [-config R1.cfg] [-enable-secret-file f] \
//	    [-iface GigabitEthernet0/1=eth1 ...] [-state state.json]
//
// It prints the listening address and the host key (for known_hosts) on
// stdout, writes the enforce.State to -state after every change, and runs
// until SIGINT/SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/crypto/ssh"

	"github.com/fwpush/fwpush/testbed/enforce"
	"github.com/fwpush/fwpush/testbed/netsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type ifaces map[string]string

func (m ifaces) String() string { return fmt.Sprint(map[string]string(m)) }

func (m ifaces) Set(v string) error {
	dev, lnx, ok := strings.Cut(v, "=")
	if !ok || dev == "" || lnx == "" {
		return fmt.Errorf("want DEVICE-IFACE=LINUX-IFACE, got %q", v)
	}
	m[dev] = lnx
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fwp-netsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	platform := fs.String("platform", "", "cisco_iosxe, cisco_nxos or arista_eos")
	hostname := fs.String("hostname", "", "device hostname")
	listen := fs.String("listen", "127.0.0.1:2222", "address to listen on")
	listenFD := fs.Int("listen-fd", -1, "serve on this inherited listening socket instead (created in a namespace)")
	config := fs.String("config", "", "initial configuration file (dialect syntax)")
	users := fs.String("users", "", "users file: NAME PRIVILEGE [PASSWORD] lines, `key NAME KEY` lines")
	enableFile := fs.String("enable-secret-file", "", "file holding the enable secret")
	hostKey := fs.String("host-key", "", "PEM host key (created when missing)")
	state := fs.String("state", "", "write the enforce.State JSON here after every change")
	ifm := ifaces{}
	fs.Var(ifm, "iface", "DEVICE-IFACE=LINUX-IFACE (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := serve(ctx, opts{*platform, *hostname, *listen, *listenFD, *config, *users, *enableFile, *hostKey, *state, ifm}, stdout); err != nil {
		fmt.Fprintf(stderr, "fwp-netsim: %v\n", err)
		return 1
	}
	return 0
}

type opts struct {
	platform, hostname, listen string
	listenFD                   int
	config, users, enable      string
	hostKey, state             string
	ifaces                     map[string]string
}

func serve(ctx context.Context, o opts, stdout io.Writer) error {
	if o.users == "" || o.hostKey == "" {
		return errors.New("-users and -host-key are required")
	}
	us, err := netsim.LoadUsers(o.users)
	if err != nil {
		return err
	}
	no := netsim.Options{Platform: netsim.Platform(o.platform), Hostname: o.hostname, Users: us, Interfaces: o.ifaces}
	if o.config != "" {
		b, err := os.ReadFile(o.config)
		if err != nil {
			return err
		}
		no.Config = string(b)
	}
	if o.enable != "" {
		b, err := os.ReadFile(o.enable)
		if err != nil {
			return err
		}
		no.EnableSecret = strings.TrimSpace(string(b))
	}
	dev, err := netsim.NewDevice(no)
	if err != nil {
		return err
	}
	if o.state != "" {
		var werr error
		dev.OnChange(func(st enforce.State) {
			if err := netsim.WriteStateFile(o.state, st); err != nil && werr == nil {
				werr = err
				fmt.Fprintf(os.Stderr, "fwp-netsim: state: %v\n", err)
			}
		})
	}
	key, err := netsim.LoadOrCreateHostKey(o.hostKey)
	if err != nil {
		return err
	}
	srv, err := netsim.NewServer(dev, key)
	if err != nil {
		return err
	}
	var ln net.Listener
	if o.listenFD >= 0 {
		ln, err = net.FileListener(os.NewFile(uintptr(o.listenFD), "listener"))
	} else {
		ln, err = net.Listen("tcp", o.listen)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening %s\nhost-key %s", ln.Addr(), ssh.MarshalAuthorizedKey(srv.HostKey()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		return srv.Close()
	case err := <-errc:
		return err
	}
}
