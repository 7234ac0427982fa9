// Package winrm runs PowerShell programs on Windows hosts over WinRM
// (WS-Management), wrapping github.com/masterzen/winrm: HTTPS with
// certificate verification by default, NTLM or Basic authentication (Basic
// only over HTTPS), bounded connects, commands and output, and programs sent
// as -EncodedCommand with their data on stdin, never on a command line.
package winrm
