package policy

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPushChecks: each bound, at and past its edges; a refusal names the
// field or flag it was given and what it accepts.
func TestPushChecks(t *testing.T) {
	type check struct {
		err  error
		want string // "" accepts
	}
	cases := map[string]check{
		"confirm 10s":        {CheckConfirmTimeout("--confirm-timeout", 10*time.Second), ""},
		"confirm 1h":         {CheckConfirmTimeout("--confirm-timeout", time.Hour), ""},
		"confirm 0s":         {CheckConfirmTimeout("--confirm-timeout", 0), "--confirm-timeout 0s: want 10s to 1h"},
		"confirm negative":   {CheckConfirmTimeout("--confirm-timeout", -time.Minute), "--confirm-timeout -1m0s: want 10s to 1h"},
		"confirm 9.999s":     {CheckConfirmTimeout("confirm_timeout", 10*time.Second-time.Millisecond), "confirm_timeout 9.999s: want 10s to 1h"},
		"confirm over 1h":    {CheckConfirmTimeout("confirm_timeout", time.Hour+time.Second), "want 10s to 1h"},
		"forks 1":            {CheckForks("--forks", 1), ""},
		"forks 0":            {CheckForks("--forks", 0), "--forks 0: want 1 or more"},
		"forks -1":           {CheckForks("--forks", -1), "--forks -1: want 1 or more"},
		"canary 0":           {CheckCanary("--canary", 0), ""},
		"canary -1":          {CheckCanary("--canary", -1), "--canary -1: want 0 (no canary) or more"},
		"max-fail 0":         {CheckMaxFailPercentage("--max-fail-percentage", 0), ""},
		"max-fail 100":       {CheckMaxFailPercentage("--max-fail-percentage", 100), ""},
		"max-fail 101":       {CheckMaxFailPercentage("--max-fail-percentage", 101), "--max-fail-percentage 101: want 0 to 100"},
		"max-fail -1":        {CheckMaxFailPercentage("--max-fail-percentage", -1), "--max-fail-percentage -1: want 0 to 100"},
		"max-fail NaN":       {CheckMaxFailPercentage("--max-fail-percentage", math.NaN()), "--max-fail-percentage NaN: want 0 to 100"},
		"max-fail +Inf":      {CheckMaxFailPercentage("--max-fail-percentage", math.Inf(1)), "want 0 to 100"},
		"timeout 1ns":        {CheckPositiveDuration("--connect-timeout", 1), ""},
		"timeout 0":          {CheckPositiveDuration("--connect-timeout", 0), "--connect-timeout 0s: want a duration above 0"},
		"timeout -1s":        {CheckPositiveDuration("--command-timeout", -time.Second), "--command-timeout -1s: want a duration above 0"},
		"retries 0":          {CheckAtLeast("--connect-retries", 0, 0), ""},
		"retries -1":         {CheckAtLeast("--connect-retries", -1, 0), "--connect-retries -1: want 0 or more"},
		"wave with max-fail": {CheckRollbackWave("--rollback-wave-on-failure", "--max-fail-percentage", true, true), ""},
		"wave off":           {CheckRollbackWave("--rollback-wave-on-failure", "--max-fail-percentage", false, false), ""},
		"wave without max-fail": {CheckRollbackWave("--rollback-wave-on-failure", "--max-fail-percentage", true, false),
			"--rollback-wave-on-failure needs --max-fail-percentage: without it no wave ever fails"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.want == "" {
				assert.NoError(t, tc.err)
				return
			}
			require.Error(t, tc.err)
			assert.Contains(t, tc.err.Error(), tc.want)
		})
	}
}

func TestParseSerialSize(t *testing.T) {
	good := map[string]struct {
		size   SerialSize
		of10   int
		of1000 int
	}{
		"1":    {SerialSize{Count: 1}, 1, 1},
		"25":   {SerialSize{Count: 25}, 25, 25},
		" 3 ":  {SerialSize{Count: 3}, 3, 3},
		"25%":  {SerialSize{Percent: 25}, 2, 250},
		"1%":   {SerialSize{Percent: 1}, 1, 10},
		"100%": {SerialSize{Percent: 100}, 10, 1000},
	}
	for in, want := range good {
		z, err := ParseSerialSize("--serial", in)
		require.NoError(t, err, in)
		assert.Equal(t, want.size, z, in)
		assert.Equal(t, want.of10, z.Of(10), in)
		assert.Equal(t, want.of1000, z.Of(1000), in)
	}
	for _, bad := range []string{"", "0", "-1", "+5", "0%", "101%", "2.5%", "%", "x", "1e3", "5 %"} {
		_, err := ParseSerialSize("--serial", bad)
		if assert.Error(t, err, bad) {
			assert.Contains(t, err.Error(), `--serial "`+bad+`": want a number of devices (1 or more) or a percentage (1% to 100%)`)
		}
	}
}
