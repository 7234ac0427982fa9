param($d)
# Exit statuses: 95 another live trial holds the host, 96 mutex busy, 97 a
# rule was refused (the rules are as they were), 99 failed.
$mutex = [System.Threading.Mutex]::new($false, 'Global\fwpush')
if (-not $mutex.WaitOne(30000)) { exit 96 }
try {
#include lock
	if ($holder -and $live -and $holder.run -ne $d.run) {
		ConvertTo-Json -InputObject $holder -Compress
		exit 95
	}
	if ($holder) {
		Unregister-ScheduledTask -TaskName ('revert-' + $holder.run) -TaskPath '\fwpush\' -Confirm:$false -ErrorAction SilentlyContinue
	}
	$want = $d.rules
	$gen = $d.gen
#include install
	if ($installError) {
		Write-Output $installError
		exit 97
	}
	if ($holder) { Remove-Item -LiteralPath $lockFile -Force }
	Add-Content -LiteralPath (Join-Path $base 'fwpush.log') -Value ('rolled back ' + $d.run) -Encoding UTF8
} catch {
	Write-Output $_.Exception.Message
	exit 99
}
