param($d)
# origin: the SSH_CONNECTION OpenSSH gives the session ("client-ip
# client-port server-ip server-port"): the address the host sees fwpush
# come from, through any jump host or NAT.
ConvertTo-Json -InputObject @{ connection = [string]$env:SSH_CONNECTION } -Compress
