// Package winsim is the fwpush lab simulator of a Windows server managed
// over WinRM or OpenSSH: a WS-Management endpoint (WinRS shells: Create,
// Command, Send, Receive, Signal, Delete; SOAP faults; Basic and NTLM
// authentication; HTTP or HTTPS), an OpenSSH server (exec through
// PowerShell or cmd.exe as its default shell), a strict interpreter for
// the subset of PowerShell fwpush's windows driver sends, and behind it a
// model of Windows Defender Firewall rules (NetSecurity cmdlets),
// scheduled tasks on a controllable clock, and the files the driver
// keeps. It is not Windows: its banner and every error it invents say
// "fwpush lab simulator (winsim)". In a lab it makes its namespace enforce
// its firewall rules on real packets (testbed/enforce). See README.md.
package winsim
