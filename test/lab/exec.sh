#!/bin/bash
# Runs a command inside host N without SSH: nsenter into all its namespaces and its root, with a
# clean environment. For assertions and fixtures that must not depend on the code under test.
# Usage: exec.sh N command [arg...]      e.g. exec.sh 1 systemctl is-active vdsmd
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"
lab_need_root
[ $# -ge 2 ] || lab_die "usage: exec.sh N command [arg...]"
i=$1
shift
lab_exec "$i" "$@"
