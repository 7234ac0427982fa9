package netsim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFakeClockFiresInDeadlineOrder(t *testing.T) {
	c := NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	var got []string
	c.AfterFunc(2*time.Minute, func() { got = append(got, "b") })
	c.AfterFunc(time.Minute, func() {
		got = append(got, "a")
		c.AfterFunc(30*time.Second, func() { got = append(got, "a+30s") })
	})
	stopped := c.AfterFunc(90*time.Second, func() { got = append(got, "never") })
	assert.True(t, stopped.Stop())
	assert.False(t, stopped.Stop())

	c.Advance(59 * time.Second)
	assert.Empty(t, got)
	c.Advance(2 * time.Minute)
	assert.Equal(t, []string{"a", "a+30s", "b"}, got)
	assert.Equal(t, 0, c.Pending())
	assert.Equal(t, time.Date(2026, 1, 2, 3, 7, 4, 0, time.UTC), c.Now())
}
