#!/bin/sh
# otopi launcher: finds a suitable Node.js, then runs one installer entry of the bundle with
# every argument passed on. The build writes it as bin/otopi (and bin/ovirt-host-deploy,
# bin/ovirt-host-mgmt) in the host bundle, and at the top of the engine layout (interface-3/),
# replacing @ROOT@ by the way from the launcher's folder to the bundle's root ('..' or '.')
# and @ENTRY@ by the entry it runs (otopi.js, ovirt-host-deploy.js, ...). The runtime is, in
# this order:
#   1. $OTOPI_NODE, when set (the engine's bootstrap sets it to the runtime it chose);
#   2. runtime/bin/node in the bundle's root (the engine layout, or a bundle unpacked by hand);
#   3. node on PATH.
# Without a suitable one it prints one `***L:ERROR` line on standard output (safe in the
# machine dialect) and exits 1. The build replaces the line below with the version check.
@NODE_CHECK@
otopi_self=$(readlink -f "$0" 2>/dev/null) || otopi_self=$0
otopi_root=$(cd "$(dirname "$otopi_self")/@ROOT@" && pwd -P) || exit 1
if [ -n "${OTOPI_NODE:-}" ]; then
  otopi_node=$OTOPI_NODE
elif [ -x "$otopi_root/runtime/bin/node" ]; then
  otopi_node=$otopi_root/runtime/bin/node
else
  otopi_node=$(command -v node 2>/dev/null) || otopi_node=
fi
if ! otopi_node_ok "$otopi_node"; then
  otopi_node_error "$otopi_node"
  exit 1
fi
exec "$otopi_node" "$otopi_root/bin/@ENTRY@" "$@"
