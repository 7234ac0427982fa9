// Package pgtest starts a throwaway PostgreSQL cluster for a test: initdb
// and pg_ctl from Debian's postgresql package, in a temporary directory,
// run as an unprivileged user, listening on a Unix socket only, stopped
// and removed in t.Cleanup. Tests talk to a real server, never a mock.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a running throwaway server.
type Cluster struct {
	dir  string // holds data/, the socket and the log
	bin  string
	cred *syscall.Credential
	n    atomic.Int64
}

// nobody is the unprivileged user a root test runs the server as:
// PostgreSQL refuses to run as root.
const nobody = 65534

// BinDir finds initdb and pg_ctl: $FWPUSH_PG_BIN, else the newest
// /usr/lib/postgresql/*/bin (Debian keeps them off PATH), else PATH.
func BinDir() (string, error) {
	if d := os.Getenv("FWPUSH_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql (make deps), or set FWPUSH_PG_BIN")
}

func version(binDir string) int {
	var v int
	fmt.Sscanf(filepath.Base(filepath.Dir(binDir)), "%d", &v)
	return v
}

// StartT starts a cluster for t. Without PostgreSQL it fails under CI or
// as root (CI installs it) and skips otherwise, saying what is missing.
func StartT(t *testing.T) *Cluster {
	t.Helper()
	bin, err := BinDir()
	if err != nil {
		if os.Getenv("CI") != "" || os.Getuid() == 0 {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	c := &Cluster{bin: bin}
	// Not t.TempDir: its parents are private to root, and the server
	// runs as another user. The socket path must stay short (~100 bytes).
	c.dir, err = os.MkdirTemp("", "fwpush-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(c.dir) })
	if os.Getuid() == 0 {
		c.cred = &syscall.Credential{Uid: nobody, Gid: nobody}
		if err := os.Chown(c.dir, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := c.run(ctx, "initdb", "-D", c.data(), "-U", "fwpush", "--auth=trust", "-E", "UTF8",
		"--locale=C", "--no-sync", "--no-instructions"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	// Unix socket only (no TCP port to collide with parallel tests); no
	// fsync: the data is thrown away.
	opts := "-k " + c.dir + " -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
	out, err := c.run(ctx, "pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "90", "-o", opts, "start")
	// Stop whatever started, even when start reported failure.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := c.run(ctx, "pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "-t", "30", "stop"); err != nil && !strings.Contains(string(out), "No such file") {
			t.Logf("pg_ctl stop: %v\n%s", err, out)
		}
	})
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		t.Fatalf("pg_ctl start: %v\n%s\nserver log:\n%s", err, out, log)
	}
	return c
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// run runs a server binary as the cluster's user, bounded by ctx.
func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "HOME="+c.dir, "LC_ALL=C")
	cmd.WaitDelay = 5 * time.Second
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd.CombinedOutput()
}

// URL is the connection URL of database db on the cluster.
func (c *Cluster) URL(db string) string {
	q := url.Values{"host": {c.dir}, "user": {"fwpush"}}
	return "postgres:///" + db + "?" + q.Encode()
}

// NewDB creates an empty database and returns its URL.
func (c *Cluster) NewDB(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("t%d", c.n.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return c.URL(name)
}
