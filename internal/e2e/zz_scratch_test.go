package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestZZScratch(t *testing.T) {
	e := newEnv(t, "testdata/reliability/inventory", "testdata/reliability/baseline.yml")
	ctx := context.Background()
	out, err := e.lab.Exec(ctx, "nft-1", "sh", "-c", "mkdir -p /root/bin; printf '#!/bin/sh\\necho fake nft >&2; exit 1\\n' > /root/bin/nft; chmod +x /root/bin/nft; echo 'export PATH=/root/bin:$PATH' > /root/.bashrc; ls -la /root")
	t.Logf("%s %v", out, err)
	s, err := e.opener()(ctx, "nft-1")
	require.NoError(t, err)
	s.Close()
	o, err := e.runner()(ctx, "nft-1", "echo $PATH; command -v nft; ps -o pid,args -s $$")
	t.Logf("run: %s %v", o, err)
	time.Sleep(300 * time.Millisecond)
	b, _ := os.ReadFile(filepath.Join(e.lab.Dir(), "hosts", "nft-1", "sshd.log"))
	t.Logf("sshd log:\n%s", b)
}
