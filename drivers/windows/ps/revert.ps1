# fwpush revert task: restores the rules saved before this trial, unless
# the trial was confirmed (the lock no longer names it). It runs as SYSTEM
# from the Task Scheduler, outside any session.
$ErrorActionPreference = 'Stop'
$t = Get-Content -LiteralPath (Join-Path $PSScriptRoot 'trial.json') -Raw | ConvertFrom-Json
# Past the deadline a stuck mutex must not keep the old rules away: wait a
# while, then restore regardless.
$mutex = [System.Threading.Mutex]::new($false, 'Global\fwpush')
$waited = $mutex.WaitOne(120000)
#include lock
if (-not $holder -or $holder.run -ne $t.run) { exit 0 }
$before = Get-Content -LiteralPath (Join-Path $PSScriptRoot 'before.json') -Raw | ConvertFrom-Json
$want = $before.rules
$gen = $t.gen
#include install
if ($installError) {
	Add-Content -LiteralPath (Join-Path $base 'revert.log') -Value ('revert of ' + $t.run + ' failed: ' + $installError) -Encoding UTF8
	exit 97
}
Remove-Item -LiteralPath $lockFile -Force
Add-Content -LiteralPath (Join-Path $base 'revert.log') -Value ('reverted ' + $t.run) -Encoding UTF8
Unregister-ScheduledTask -TaskName ('revert-' + $t.run) -TaskPath '\fwpush\' -Confirm:$false -ErrorAction SilentlyContinue
