// Package windows drives Windows Defender Firewall on Windows servers,
// over WinRM or PowerShell over OpenSSH: every rule fwpush owns is in the
// rule group "fwpush" and nothing outside it is touched. A change is made
// before it breaks (the new rules are created, then the old ones removed)
// by one PowerShell program per step, and a one-shot scheduled task
// running as SYSTEM restores the previous rules at the deadline unless the
// change is confirmed over a new connection.
package windows
