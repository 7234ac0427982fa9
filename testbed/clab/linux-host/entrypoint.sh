#!/bin/sh
# Host keys, the probe listener on the ports the node's FWP_* variables
# name, then sshd in the foreground.
ssh-keygen -A >/dev/null
fwp-listen -name "${FWP_NAME:-host}" -tcp "${FWP_TCP:-}" -udp "${FWP_UDP:-}" &
exec /usr/sbin/sshd -D -e
