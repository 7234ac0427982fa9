$ErrorActionPreference = 'Stop'
$in = [Console]::In.ReadToEnd() | ConvertFrom-Json
# A program ends by setting $fwpushStatus.code and returning, not by exit:
# the status is printed last as well as exited with, because a shell in
# between may not pass an exit code on (OpenSSH's PowerShell default shell
# turns every failure into 1). A program that took the host's mutex hands
# it over here, to be released before the process exits (a mutex its owner
# leaves unreleased is abandoned, and the next process waiting for it
# fails).
$fwpushStatus = @{ code = 0; mutex = $null }
& ([scriptblock]::Create($in.program)) $in.data
if ($fwpushStatus.mutex) { $fwpushStatus.mutex.ReleaseMutex() }
Write-Output ('fwpush-status ' + $fwpushStatus.code)
exit $fwpushStatus.code
