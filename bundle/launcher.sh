#!/bin/sh
# otopi launcher (bin/otopi in the host bundle): finds a suitable Node.js, then runs the
# installer with every argument passed on. The runtime is, in this order:
#   1. $OTOPI_NODE, when set (the engine's bootstrap sets it to the runtime it chose);
#   2. runtime/bin/node beside bin/ (a self-contained bundle unpacked by hand);
#   3. node on PATH.
# Without a suitable one it prints one `***L:ERROR` line on standard output (safe in the
# machine dialect) and exits 1. The build replaces the line below with the version check.
# A bundle with the host-deploy group also gets bin/ovirt-host-deploy from this template,
# running ovirt-host-deploy.js instead of otopi.js.
@NODE_CHECK@
otopi_self=$(readlink -f "$0" 2>/dev/null) || otopi_self=$0
otopi_bin=$(cd "$(dirname "$otopi_self")" && pwd -P) || exit 1
if [ -n "${OTOPI_NODE:-}" ]; then
  otopi_node=$OTOPI_NODE
elif [ -x "$otopi_bin/../runtime/bin/node" ]; then
  otopi_node=$otopi_bin/../runtime/bin/node
else
  otopi_node=$(command -v node 2>/dev/null) || otopi_node=
fi
if ! otopi_node_ok "$otopi_node"; then
  otopi_node_error "$otopi_node"
  exit 1
fi
exec "$otopi_node" "$otopi_bin/otopi.js" "$@"
