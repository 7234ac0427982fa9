#!/usr/bin/env bash
# The whole fwpush story on a throwaway lab, for a newcomer: make demo.
# Needs root (network namespaces). Touches nothing outside the lab but the
# one fwp0 veth the lab gives this namespace, removed at the end.
set -euo pipefail
SYSTEM=${SYSTEM:-clearwater}
STATE=${STATE:-/run/fwpush-lab}
INV=inventory/lab/$SYSTEM
PB=playbooks/$SYSTEM.yml
FWPUSH=./bin/fwpush
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
cleanup() { step "lab down"; ./bin/fwp-lab down --state "$STATE" || true; }
trap cleanup EXIT

# A flow to explain and a host to plan alone, per example system.
case $SYSTEM in
clearwater) EXPLAIN=(--from bono --to sprout --proto tcp --port 5054) LIMIT=sprout-1 ;;
wdm) EXPLAIN=(--from gui --to web-service --proto tcp --port 80) LIMIT=gui-1 ;;
*) EXPLAIN=() LIMIT=$(sed -n 's/^\([A-Za-z0-9][A-Za-z0-9._-]*\):.*/\1/p' "inventory/examples/$SYSTEM/hosts.yaml" | head -1) ;;
esac

# Passwords the inventory reads from the environment (${NAME}): the lab's
# simulated hosts (Windows) accept whatever they are, so an unset one gets
# a random value for this run.
for v in $(grep -ho '\${[A-Za-z_][A-Za-z0-9_]*}' "inventory/examples/$SYSTEM"/*.yaml 2>/dev/null | sort -u | tr -d '${}'); do
	if [ -z "${!v:-}" ]; then
		export "$v=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
	fi
done

step "lab up: one network namespace per host of inventory/examples/$SYSTEM, real sshd + kernel firewall"
./bin/fwp-lab up --inventory "inventory/examples/$SYSTEM" --playbook "$PB" --root-link --state "$STATE" --write-inventory "$INV"

step "validate: inventory + playbook, nothing contacted"
$FWPUSH validate -i "$INV" -p "$PB"

if [ ${#EXPLAIN[@]} -gt 0 ]; then
	step "explain: is ${EXPLAIN[1]} → ${EXPLAIN[3]} ${EXPLAIN[5]}/${EXPLAIN[7]} allowed, and by which rule?"
	$FWPUSH explain -i "$INV" -p "$PB" "${EXPLAIN[@]}" | head -4 || true
fi

step "plan: live dry run (exit 2 = changes pending); devices are not changed"
set +e; $FWPUSH plan -i "$INV" -p "$PB" --limit "$LIMIT"; rc=$?; set -e
echo "plan exit code: $rc"
$FWPUSH plan -i "$INV" -p "$PB" > /dev/null 2>&1 || true

step "apply: commit-confirmed push to every host"
$FWPUSH apply -i "$INV" -p "$PB" --yes --confirm-timeout 60s

step "verify: real probes from the hosts: allowed flows connect, unlisted ports are blocked"
$FWPUSH verify -i "$INV" -p "$PB" | tail -5

step "plan again: nothing to do (exit 0)"
$FWPUSH plan -i "$INV" -p "$PB" | tail -2
