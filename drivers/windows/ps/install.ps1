# install: make $want the group's rules, before breaking: every new rule is
# created under generation $gen first, then the others are removed, so
# what was allowed stays allowed until what replaces it is in place. A
# rule Windows refuses removes the new ones again and sets $installError;
# the old rules are then untouched.
$made = @()
$installError = $null
try {
	foreach ($w in @($want)) {
		$p = @{
			Name = 'fwpush-' + $gen + '-' + $w.id; DisplayName = $w.display; Group = 'fwpush'
			Direction = $w.direction; Action = $w.action; Protocol = $w.protocol; Enabled = $w.enabled; Profile = $w.profile
		}
		if ($w.description) { $p.Description = $w.description }
		if (@($w.localPort).Count -gt 0) { $p.LocalPort = @($w.localPort) }
		if (@($w.remotePort).Count -gt 0) { $p.RemotePort = @($w.remotePort) }
		if (@($w.icmpType).Count -gt 0) { $p.IcmpType = @($w.icmpType) }
		if (@($w.localAddress).Count -gt 0) { $p.LocalAddress = @($w.localAddress) }
		if (@($w.remoteAddress).Count -gt 0) { $p.RemoteAddress = @($w.remoteAddress) }
		New-NetFirewallRule @p | Out-Null
		$made += $p.Name
	}
} catch {
	$installError = 'rule ' + $p.Name + ': ' + $_.Exception.Message
	foreach ($n in $made) { Remove-NetFirewallRule -Name $n -ErrorAction SilentlyContinue }
}
if (-not $installError) {
	foreach ($r in @(Get-NetFirewallRule -Group 'fwpush' -ErrorAction SilentlyContinue)) {
		if ($r.Name -notlike ('fwpush-' + $gen + '-*')) { $r | Remove-NetFirewallRule }
	}
}
