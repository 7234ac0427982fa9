param($d)
#include read
#include lock
$profiles = @()
foreach ($p in @(Get-NetFirewallProfile)) {
	$profiles += @{ name = [string]$p.Name; enabled = [string]$p.Enabled; inbound = [string]$p.DefaultInboundAction }
}
$blocking = @()
foreach ($r in @(Get-NetFirewallRule -Enabled True -Direction Inbound -Action Block -ErrorAction SilentlyContinue)) {
	if ($r.Group -ne 'fwpush') { $blocking += ([string]$r.DisplayName + ' (group ' + [string]$r.Group + ')') }
}
$lock = $null
if ($live) { $lock = $holder }
ConvertTo-Json -InputObject @{ rules = $rules; lock = $lock; profiles = $profiles; blocking = $blocking } -Depth 5 -Compress
