param($d)
# Statuses ($fwpushStatus.code, see bootstrap): 95 locked by another live
# trial (stdout: its holder), 96 mutex busy, 97 a rule was refused
# (nothing changed), 98 the revert task could not be registered (nothing
# changed), 99 failed part-way (the revert task, when armed, restores).
$mutex = [System.Threading.Mutex]::new($false, 'Global\fwpush')
if (-not $mutex.WaitOne(30000)) { $fwpushStatus.code = 96; return }
$fwpushStatus.mutex = $mutex
try {
#include lock
	if ($holder -and $live -and $holder.run -ne $d.run) {
		ConvertTo-Json -InputObject $holder -Compress
		$fwpushStatus.code = 95; return
	}
	# Past this point every revert task but this run's belongs to a trial
	# that is over: the lock's holder when it is no longer live, and any
	# trial whose task's own run could not unregister it (it stays
	# registered, its trigger past). Remove them, unless running.
	foreach ($t in @(Get-ScheduledTask -TaskPath '\fwpush\' -ErrorAction SilentlyContinue)) {
		if ($t.TaskName -ne ('revert-' + $d.run) -and $t.State -ne 'Running') {
			Unregister-ScheduledTask -TaskName $t.TaskName -TaskPath '\fwpush\' -Confirm:$false -ErrorAction SilentlyContinue
		}
	}
	$trials = Join-Path $base 'trials'
	New-Item -ItemType Directory -Path $trials -Force | Out-Null
	foreach ($old in @(Get-ChildItem -LiteralPath $trials -Directory)) {
		if ($old.LastWriteTime -lt (Get-Date).AddSeconds(-604800)) { Remove-Item -LiteralPath $old.FullName -Recurse -Force }
	}
	$dir = Join-Path $trials $d.run
	New-Item -ItemType Directory -Path $dir -Force | Out-Null
#include read
	Set-Content -LiteralPath (Join-Path $dir 'before.json') -Value (ConvertTo-Json -InputObject @{ rules = $rules } -Depth 5 -Compress) -Encoding UTF8
	$deadline = 0
	if ($d.within -gt 0) { $deadline = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds() + $d.within }
	$lock = @{ run = $d.holder.run; controller = $d.holder.controller; user = $d.holder.user; since = $d.holder.since; deadline = $deadline }
	Set-Content -LiteralPath $lockFile -Value (ConvertTo-Json -InputObject $lock -Compress) -Encoding UTF8
	if ($d.within -gt 0) {
		try {
			Set-Content -LiteralPath (Join-Path $dir 'trial.json') -Value (ConvertTo-Json -InputObject @{ run = $d.run; gen = $d.revertGen } -Compress) -Encoding UTF8
			Set-Content -LiteralPath (Join-Path $dir 'revert.ps1') -Value $d.revert -Encoding UTF8
			$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument ('-NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "' + (Join-Path $dir 'revert.ps1') + '"')
			$trigger = New-ScheduledTaskTrigger -Once -At (Get-Date).AddSeconds($d.within)
			$principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
			$settings = New-ScheduledTaskSettingsSet -StartWhenAvailable
			Register-ScheduledTask -TaskName ('revert-' + $d.run) -TaskPath '\fwpush\' -Action $action -Trigger $trigger -Principal $principal -Settings $settings -Force | Out-Null
		} catch {
			Remove-Item -LiteralPath $lockFile -Force
			Write-Output $_.Exception.Message
			$fwpushStatus.code = 98; return
		}
	}
	$want = $d.rules
	$gen = $d.gen
#include install
	if ($installError) {
		if ($d.within -gt 0) { Unregister-ScheduledTask -TaskName ('revert-' + $d.run) -TaskPath '\fwpush\' -Confirm:$false -ErrorAction SilentlyContinue }
		Remove-Item -LiteralPath $lockFile -Force
		Write-Output $installError
		$fwpushStatus.code = 97; return
	}
	if ($d.within -le 0) { Remove-Item -LiteralPath $lockFile -Force }
	ConvertTo-Json -InputObject @{ deadline = $deadline } -Compress
} catch {
	Write-Output $_.Exception.Message
	$fwpushStatus.code = 99; return
}
