#!/usr/bin/env bash
# Installs what building and testing fwpush needs on a Debian machine, and
# only what is missing: the lab's system tools (apt) and the Go modules.
# Run as root to install packages; otherwise it names what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

# The lab: sshd per namespace, kernel firewalls, ip(8), netconfd behind
# sshd's netconf subsystem, flock(1) and ps for the device-side trial lock.
need=(openssh-server openssh-client nftables iptables iproute2 netconfd procps util-linux)
# Side-by-side comparisons and format tests run against the real tools.
need+=(ansible python3-capirca)
# The shared run store's tests start a throwaway PostgreSQL cluster
# (initdb, pg_ctl); the HTML report is checked in headless Chromium, with
# a font for its text.
need+=(postgresql chromium fonts-dejavu-core)
# systemd-analyze checks the units in contrib/systemd.
need+=(systemd)

missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing Debian packages: ${missing[*]}" >&2
		echo "deps: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts sshd when it is installed; the lab runs its own sshd in
# each namespace and never touches the machine's own firewall or sshd.
go mod download
