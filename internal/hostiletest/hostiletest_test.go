package hostiletest

import (
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestYAMLRoundTrip proves the corpus reaches a loader byte for byte: a
// payload mangled on the way into a YAML file would test nothing.
func TestYAMLRoundTrip(t *testing.T) {
	c := NewCanaries(t)
	for _, p := range c.Corpus() {
		var got map[string]string
		require.NoError(t, yaml.Unmarshal([]byte("v: "+YAML(p.Text)+"\n"), &got), p.Name)
		assert.Equal(t, p.Text, got["v"], p.Name)
	}
	assert.Empty(t, c.Fired())
}
