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

func TestScaledClock(t *testing.T) {
	c := NewScaledClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 60)
	fired := make(chan time.Time, 1)
	start := time.Now()
	c.AfterFunc(time.Minute, func() { fired <- time.Now() })
	select {
	case at := <-fired:
		took := at.Sub(start)
		if took < 900*time.Millisecond || took > 3*time.Second {
			t.Fatalf("a scaled minute at 60x took %v of real time, want about 1 s", took)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a scaled minute at 60x did not pass in 10 s")
	}
	if got := c.Now().Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); got < time.Minute || got > 5*time.Minute {
		t.Fatalf("the clock reads %v after one scaled minute", got)
	}
}
