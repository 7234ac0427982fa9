package ssh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/fwpush/fwpush/internal/fault"
)

const testPassword = "Hunter2-very-secret"

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	cfg := Config{Host: "r1", User: "ops", Password: testPassword, IdentityFiles: []string{"k"}}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("dial", "cfg", cfg, "pw", cfg.Password)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("json.Marshal(Config): %v", err)
	}
	txt, _ := cfg.Password.MarshalText()
	outputs := map[string]string{
		"json":     string(js),
		"slog":     logged.String(),
		"text":     string(txt),
		"string()": cfg.Password.String(),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%T:%v"} {
		outputs[verb] = fmt.Sprintf(verb, cfg)
		outputs[verb+" &cfg"] = fmt.Sprintf(verb, &cfg)
		outputs[verb+" secret"] = fmt.Sprintf(verb, cfg.Password)
	}
	for name, out := range outputs {
		if strings.Contains(out, testPassword) || strings.Contains(out, fmt.Sprintf("%x", testPassword)) {
			t.Errorf("%s leaks the password: %s", name, out)
		}
	}
	if !strings.Contains(outputs["%+v"], "Password:[redacted]") || !strings.Contains(outputs["json"], `"Password":"[redacted]"`) {
		t.Errorf("redaction marker missing: %s / %s", outputs["%+v"], outputs["json"])
	}
}

func TestPasswordNotInErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts serverOpts
		edit func(t *testing.T, cfg *Config)
		want error
	}{
		"wrong password":             {opts: serverOpts{password: "other"}, want: fault.ErrAuth},
		"wrong keyboard-interactive": {opts: serverOpts{password: "other", keyboardOnly: true}, want: fault.ErrAuth},
		"unknown host": {
			edit: func(t *testing.T, cfg *Config) { cfg.KnownHostsFiles = []string{t.TempDir() + "/kh"} },
			want: fault.ErrHostKey,
		},
		"refused": {edit: func(t *testing.T, cfg *Config) { cfg.Port = closedPort(t) }, want: fault.ErrUnreachable},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, cfg := fixture(t, tc.opts)
			cfg.IdentityFiles, cfg.Password = nil, testPassword
			if tc.edit != nil {
				tc.edit(t, &cfg)
			}
			_, err := Dial(context.Background(), cfg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Dial = %v, want %v", err, tc.want)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(s, testPassword) {
					t.Errorf("error leaks the password: %s", s)
				}
			}
		})
	}
}
