package serve_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/serve"
)

func TestParseConfig(t *testing.T) {
	cfg, err := serve.ParseConfig("/etc/fwpush/serve.yaml", []byte(`
listen: "[::1]:9464"
state: postgres://db/fwpush
webhook:
  url: https://hooks.example/T000/B000/xyz
  on: [drift, repaired]
jobs:
  - name: webapp
    inventory: inventory/webapp
    playbook: /srv/playbooks/webapp.yml
    limit: group:web
    schedule: "*/10 * * * * *"
    mode: repush
    jitter: 30s
    timeout: 5m
    confirm_timeout: 60s
  - name: clearwater.nightly
    inventory: /srv/inv/cw
    playbook: cw.yml
    schedule: "@daily"
    mode: check
`))
	require.NoError(t, err)
	assert.Equal(t, "[::1]:9464", cfg.Listen)
	assert.Equal(t, "postgres://db/fwpush", cfg.State)
	assert.Equal(t, []string{"drift", "repaired"}, cfg.Webhook.On)
	assert.Equal(t, 10*time.Second, cfg.Webhook.Timeout)
	require.Len(t, cfg.Jobs, 2)
	j := cfg.Jobs[0]
	assert.Equal(t, "/etc/fwpush/inventory/webapp", j.Inventory, "relative to the config file")
	assert.Equal(t, "/srv/playbooks/webapp.yml", j.Playbook)
	assert.Equal(t, serve.Repush, j.Mode)
	assert.Equal(t, 30*time.Second, j.Jitter)
	assert.Equal(t, 5*time.Minute, j.Timeout)
	assert.Equal(t, time.Minute, j.ConfirmTimeout)
	c := cfg.Jobs[1]
	assert.Equal(t, serve.DefaultTimeout, c.Timeout)
	assert.Zero(t, c.ConfirmTimeout, "unset: the playbook's, else the default, at push time")
	assert.True(t, cfg.Repushes())

	cfg, err = serve.ParseConfig("s.yaml", []byte("jobs:\n  - {name: a, inventory: i, playbook: p, schedule: '@hourly', mode: check}\n"))
	require.NoError(t, err)
	assert.Equal(t, serve.DefaultListen, cfg.Listen)
	assert.Nil(t, cfg.Webhook)
	assert.False(t, cfg.Repushes())
}

// TestConfigErrors: every problem at once, each at its file, line and
// field.
func TestConfigErrors(t *testing.T) {
	file := filepath.Join("conf", "serve.yaml")
	_, err := serve.ParseConfig(file, []byte(`listen: nowhere
webhook:
  url: "ftp://hooks.example/secret-token"
  on: [drift, typo]
jobs:
  - name: Web App
    inventory: inv
    playbook: pb.yml
    schedule: "61 * * * *"
    mode: push
    jitter: soon
  - name: ok
    schedule: "@hourly"
    mode: check
    timeout: 0s
    confirm_timeout: 2s
  - name: ok
    inventory: i
    playbook: p
    schedule: "@hourly"
    mode: check
`))
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		file + ":1:9: listen: listen \"nowhere\": want host:port",
		file + ":3:8: webhook.url: webhook url: want an http:// or https:// URL",
		file + ":4:15: webhook.on[1]: event \"typo\": want drift, repaired or failure",
		file + ":6:11: jobs[0].name: job name \"Web App\"",
		file + ":9:15: jobs[0].schedule: schedule \"61 * * * *\": end of range (61) above maximum (59)",
		file + ":10:11: jobs[0].mode: mode \"push\": want check or repush",
		file + ":11:13: jobs[0].jitter: \"soon\": want a duration",
		"jobs[1]: job needs an inventory",
		"jobs[1]: job needs a playbook",
		"jobs[1].timeout: 0s: want at least 1s",
		"jobs[1].confirm_timeout: confirm_timeout 2s",
		file + ":17:11: jobs[2].name: job \"ok\" is listed twice",
	} {
		assert.Contains(t, msg, want)
	}
	assert.NotContains(t, msg, "secret-token", "a webhook URL is not repeated in messages")
	assert.Equal(t, 12, strings.Count(msg, "\n")+1, msg)

	_, err = serve.ParseConfig(file, []byte("listen: ':1'\n"))
	assert.ErrorContains(t, err, "no jobs")
	_, err = serve.ParseConfig(file, []byte("jobs: []\nunknown: 1\n"))
	assert.ErrorContains(t, err, "unknown")
}
