package shellquote_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/hostiletest"
	"github.com/fwpush/fwpush/internal/shellquote"
)

// TestQuoteHostile hands every hostile string to a real sh as one quoted
// word, plain and nested (sh -c inside sh -c, as sudo wraps a script): the
// command must receive it byte for byte, and nothing in it may run.
func TestQuoteHostile(t *testing.T) {
	c := hostiletest.NewCanaries(t)
	for _, p := range c.Corpus() {
		if strings.ContainsRune(p.Text, 0) {
			continue // no argument can hold a NUL; see TestQuoteNUL
		}
		t.Run(p.Name, func(t *testing.T) {
			echo := "printf %s " + shellquote.Quote(p.Text)
			out, err := exec.Command("sh", "-c", echo).Output()
			require.NoError(t, err)
			assert.Equal(t, p.Text, string(out))
			out, err = exec.Command("sh", "-c", "sh -c "+shellquote.Quote(echo)).Output()
			require.NoError(t, err)
			assert.Equal(t, p.Text, string(out), "nested")
		})
	}
	assert.Empty(t, c.Fired(), "a payload ran")
}

func TestJoin(t *testing.T) {
	out, err := exec.Command("sh", "-c", "printf '[%s]' "+shellquote.Join("a b", "", "it's", "$x")).Output()
	require.NoError(t, err)
	assert.Equal(t, "[a b][][it's][$x]", string(out))
	assert.Equal(t, `'it'\''s'`, shellquote.Quote("it's"))
}

// TestQuoteNUL documents why a NUL must travel as data: the shell would
// cut the argument there.
func TestQuoteNUL(t *testing.T) {
	err := exec.Command("sh", "-c", "printf %s "+shellquote.Quote("a\x00b")).Run()
	assert.Error(t, err, "exec refuses an argument with a NUL")
}
