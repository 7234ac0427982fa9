param($d)
# Statuses ($fwpushStatus.code, see bootstrap): 3 nothing of this trial
# is armed (reverted, or reverting), 95 another live trial holds the host,
# 96 mutex busy, 99 failed.
$mutex = [System.Threading.Mutex]::new($false, 'Global\fwpush')
if (-not $mutex.WaitOne(30000)) { $fwpushStatus.code = 96; return }
$fwpushStatus.mutex = $mutex
try {
#include lock
	if ($holder -and $live -and $holder.run -ne $d.run) {
		ConvertTo-Json -InputObject $holder -Compress
		$fwpushStatus.code = 95; return
	}
	if (-not $holder -or $holder.run -ne $d.run) { $fwpushStatus.code = 3; return }
	$task = Get-ScheduledTask -TaskName ('revert-' + $d.run) -TaskPath '\fwpush\' -ErrorAction SilentlyContinue
	if (-not $task -or $task.State -eq 'Running') { $fwpushStatus.code = 3; return }
	Unregister-ScheduledTask -TaskName ('revert-' + $d.run) -TaskPath '\fwpush\' -Confirm:$false
	Remove-Item -LiteralPath $lockFile -Force
	Add-Content -LiteralPath (Join-Path $base 'fwpush.log') -Value ('confirmed ' + $d.run) -Encoding UTF8
} catch {
	Write-Output $_.Exception.Message
	$fwpushStatus.code = 99; return
}
