package logging

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecretsNeverWritten(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			var s Secrets
			s.Add("hunter2-secret", "x")
			l, err := New(&buf, slog.LevelDebug, format, &s)
			require.NoError(t, err)
			ctx := With(context.Background(), l)
			From(ctx).With("pw", "hunter2-secret").Debug("login with hunter2-secret",
				"cmd", "echo hunter2-secret", "err", errors.New("auth hunter2-secret failed"),
				slog.Group("g", "inner", "hunter2-secret"), "n", 3, "short", "x marks")
			out := buf.String()
			assert.NotContains(t, out, "hunter2")
			assert.Equal(t, 5, strings.Count(out, "[redacted]"), out)
			assert.Contains(t, out, "x marks", "short values are not scrubbed")
		})
	}
}

func TestLevels(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, slog.LevelInfo, "text", nil)
	require.NoError(t, err)
	l.Debug("hidden")
	l.Info("shown")
	assert.NotContains(t, buf.String(), "hidden")
	assert.Contains(t, buf.String(), "shown")
	_, err = ParseLevel("loud")
	assert.Error(t, err)
	lv, err := ParseLevel("debug")
	require.NoError(t, err)
	assert.Equal(t, slog.LevelDebug, lv)
	_, err = New(&buf, lv, "xml", nil)
	assert.Error(t, err)
	From(context.Background()).Error("discarded without a logger")
}
