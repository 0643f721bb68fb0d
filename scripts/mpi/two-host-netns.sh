#!/usr/bin/env bash
# Two "hosts" on one machine: network namespaces lg-h1 (10.77.0.1) and lg-h2 (10.77.0.2) joined by a veth
# pair. Runs `lightglm parallel check --distributed` (or the command given after --) with one MPI rank per
# host over TCP between the namespaces, then deletes the namespaces. Needs root (ip netns) and Open MPI.
# mpirun starts the remote daemon through an "rsh agent" that enters the other namespace instead of ssh.
# Usage: scripts/mpi/two-host-netns.sh [-- lightglm-args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cli="$root/src/LightGlm.Cli/bin/Release/net10.0/LightGlm.Cli.dll"
[ -f "$cli" ] || "$root/scripts/setup.sh"
command -v mpirun >/dev/null || { echo "two-host-netns: mpirun not found (apt-get install openmpi-bin)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "two-host-netns: needs root for ip netns" >&2; exit 2; }
args=(parallel check --distributed --configs "2x4x1:1f1b,2x2x1:gpipe,1x2x2:1f1b" --steps 2)
if [ "${1:-}" = "--" ]; then shift; args=("$@"); fi

work=$(mktemp -d)
cleanup() {
  ip netns del lg-h1 2>/dev/null || true
  ip netns del lg-h2 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cleanup; work=$(mktemp -d)

ip netns add lg-h1
ip netns add lg-h2
ip link add lg-veth1 type veth peer name lg-veth2
ip link set lg-veth1 netns lg-h1
ip link set lg-veth2 netns lg-h2
ip -n lg-h1 addr add 10.77.0.1/24 dev lg-veth1
ip -n lg-h2 addr add 10.77.0.2/24 dev lg-veth2
for h in lg-h1 lg-h2; do ip -n "$h" link set lo up; done
ip -n lg-h1 link set lg-veth1 up
ip -n lg-h2 link set lg-veth2 up
ip -n lg-h1 route get 10.77.0.2 >/dev/null  # the veth route exists

# The agent mpirun calls as `agent HOST COMMAND...` (like ssh): run COMMAND inside that host's namespace.
cat > "$work/agent.sh" <<'AGENT'
#!/bin/sh
host="$1"; shift
case "$host" in
  10.77.0.1) ns=lg-h1 ;;
  10.77.0.2) ns=lg-h2 ;;
  *) echo "agent: unknown host $host" >&2; exit 1 ;;
esac
exec ip netns exec "$ns" /bin/sh -c "$*"
AGENT
chmod +x "$work/agent.sh"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$work/hosts"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun -np 2 --hostfile "$work/hosts" --map-by node
  --mca plm_rsh_agent "$work/agent.sh" --mca btl self,tcp
  --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 -x PATH -x HOME)
[ -n "${DOTNET_ROOT:-}" ] && mpi+=(-x DOTNET_ROOT)
echo "two-host-netns: where the ranks run:" >&2
ip netns exec lg-h1 "${mpi[@]}" /bin/sh -c 'echo "  rank $OMPI_COMM_WORLD_RANK in namespace $(ip netns identify $$)"' >&2
echo "two-host-netns: mpirun -np 2 across lg-h1 (10.77.0.1) and lg-h2 (10.77.0.2)" >&2
ip netns exec lg-h1 "${mpi[@]}" dotnet "$cli" "${args[@]}"
