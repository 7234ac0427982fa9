# read: $rules, the group's rules, each as the install step takes them.
$rules = @()
foreach ($r in @(Get-NetFirewallRule -Group 'fwpush' -ErrorAction SilentlyContinue)) {
	$pf = $r | Get-NetFirewallPortFilter
	$af = $r | Get-NetFirewallAddressFilter
	$id = [string]$r.Name
	if ($id -like 'fwpush-????????-*') { $id = $id.Substring(16) }
	$rules += @{
		name = [string]$r.Name; id = $id; display = [string]$r.DisplayName; description = [string]$r.Description
		direction = [string]$r.Direction; action = [string]$r.Action; enabled = [string]$r.Enabled; profile = [string]$r.Profile
		protocol = [string]$pf.Protocol; localPort = @($pf.LocalPort); remotePort = @($pf.RemotePort); icmpType = @($pf.IcmpType)
		localAddress = @($af.LocalAddress); remoteAddress = @($af.RemoteAddress)
	}
}
