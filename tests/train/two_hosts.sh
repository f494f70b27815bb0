#!/usr/bin/env bash
# Runs `mpirun` over two test hosts on this machine: two network namespaces joined by a veth pair,
# Open MPI over TCP between them, the remote rank started by an rsh agent that enters the namespace.
#
#   tests/train/two_hosts.sh COMMAND [ARG ...]     runs COMMAND as ranks 0 (host A) and 1 (host B)
#
# Exit status: the command's (through mpirun); 77 when this machine forbids network namespaces.
set -euo pipefail

tag="ecg$$"
ns_a="${tag}a" ns_b="${tag}b"
dev_a="${tag}va" dev_b="${tag}vb"
work=$(mktemp -d)
cleanup() {
    ip netns del "$ns_a" 2>/dev/null || true
    ip netns del "$ns_b" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

skip() { echo "two_hosts: skipped: $1" >&2; exit 77; }
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
ip netns add "$ns_a" 2>/dev/null || skip "this machine forbids network namespaces (ip netns add failed)"
ip netns add "$ns_b" 2>/dev/null || skip "this machine forbids a second network namespace"
ip link add "$dev_a" type veth peer name "$dev_b" 2>/dev/null || skip "this machine forbids veth pairs"
ip link set "$dev_a" netns "$ns_a"
ip link set "$dev_b" netns "$ns_b"
# A private /30 that exists only inside the two namespaces.
ip -n "$ns_a" addr add 10.213.77.1/30 dev "$dev_a"
ip -n "$ns_b" addr add 10.213.77.2/30 dev "$dev_b"
for ns in "$ns_a" "$ns_b"; do
    ip -n "$ns" link set lo up
done
ip -n "$ns_a" link set "$dev_a" up
ip -n "$ns_b" link set "$dev_b" up

# Host B: its own network and host name.  Open MPI calls the agent as ssh: `agent HOST COMMAND-LINE`,
# a line for the remote shell.
cat >"$work/agent" <<AGENT
#!/bin/sh
shift
exec ip netns exec "$ns_b" unshare --uts sh -c "hostname hostb && \$*"
AGENT
chmod +x "$work/agent"
printf '%s slots=1\nhostb slots=1\n' "$(hostname)" >"$work/hosts"

# Shared memory is off: the two ranks talk over TCP on the veth pair alone.  (Not exec: the trap
# removes the namespaces.)
ip netns exec "$ns_a" mpirun --allow-run-as-root -np 2 --hostfile "$work/hosts" --map-by node \
    --mca plm_rsh_agent "$work/agent" --mca btl tcp,self \
    --mca btl_tcp_if_include 10.213.77.0/30 --mca oob_tcp_if_include 10.213.77.0/30 \
    -x OMPI_MCA_btl_vader_single_copy_mechanism=none "$@"
