param($d)
# Statuses ($fwpushStatus.code, see bootstrap): 95 another live trial
# holds the host, 96 mutex busy, 97 a rule was refused (the rules are as
# they were), 99 failed.
$mutex = [System.Threading.Mutex]::new($false, 'Global\fwpush')
if (-not $mutex.WaitOne(30000)) { $fwpushStatus.code = 96; return }
$fwpushStatus.mutex = $mutex
try {
#include lock
	if ($holder -and $live -and $holder.run -ne $d.run) {
		ConvertTo-Json -InputObject $holder -Compress
		$fwpushStatus.code = 95; return
	}
	if ($holder) {
		Unregister-ScheduledTask -TaskName ('revert-' + $holder.run) -TaskPath '\fwpush\' -Confirm:$false -ErrorAction SilentlyContinue
	}
	$want = $d.rules
	$gen = $d.gen
#include install
	if ($installError) {
		Write-Output $installError
		$fwpushStatus.code = 97; return
	}
	if ($holder) { Remove-Item -LiteralPath $lockFile -Force }
	Add-Content -LiteralPath (Join-Path $base 'fwpush.log') -Value ('rolled back ' + $d.run) -Encoding UTF8
} catch {
	Write-Output $_.Exception.Message
	$fwpushStatus.code = 99; return
}
