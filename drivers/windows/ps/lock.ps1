# lock: $holder, the trial named in the lock file, and $live: whether its
# revert task still stands (registered, and running or not long past its
# deadline). A lock whose task is gone belongs to a trial that is over.
$base = Join-Path $env:ProgramData 'fwpush'
$lockFile = Join-Path $base 'lock.json'
$holder = $null
$live = $false
if (Test-Path -LiteralPath $lockFile) {
	$holder = Get-Content -LiteralPath $lockFile -Raw | ConvertFrom-Json
	$task = Get-ScheduledTask -TaskName ('revert-' + $holder.run) -TaskPath '\fwpush\' -ErrorAction SilentlyContinue
	$now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
	if ($task -and ($task.State -eq 'Running' -or $now -lt $holder.deadline + 600)) { $live = $true }
}
