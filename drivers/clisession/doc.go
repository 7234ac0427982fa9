// Package clisession is the one interactive CLI engine of the network
// platforms (IOS-XE, NX-OS, EOS): scrapligo v1.4.3 drives prompts and
// privilege levels over fwpush's own SSH client (strict known_hosts, jump
// hosts, the lab's dialer), and each platform brings a Table of what
// differs — its scrapligo platform, the replies that mean a refusal, its
// fixed commands.
package clisession
