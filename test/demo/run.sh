#!/usr/bin/env bash
# npm run demo: the newcomer's first command, on a fresh clone. It installs what it needs (npm
# packages, the lab's Debian packages), builds, packs the host bundle, brings up one lab host
# (a Debian container on this machine), deploys it as a virtualization host with
# `otopi deploy --group host-deploy`, and shows what the host got.
#
#   npm run demo                  deploy (again: a second run changes nothing), leave the host up
#   npm run demo -- --teardown    the same, then remove the lab host
#   npm run demo -- --down        only remove the lab host
#
# The demo's lab instance is its own (`demo`, at 127.42.20.N), so it never meets the tests' or a
# lab brought up by hand. Everything it writes is under test/demo/.out (and the lab's state folder).
set -euo pipefail
cd "$(dirname "$0")/../.."

export OTOPI_LAB_NAME=${OTOPI_DEMO_LAB_NAME:-demo}
export OTOPI_LAB_LO_PREFIX=${OTOPI_DEMO_LAB_LO_PREFIX:-127.42.20}
OUT=test/demo/.out
started=$SECONDS
step() { printf '\n\033[1m== %s\033[0m (%ss)\n' "$*" "$((SECONDS - started))"; }
die() { echo "demo: $*" >&2; exit 1; }

teardown=0
case ${1:-} in
  '') ;;
  --teardown) teardown=1 ;;
  --down) exec node test/lab/lab.mjs down ;;
  -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown option $1 (try --help)" ;;
esac

[ "$(uname -s)" = Linux ] || die 'the lab runs on Linux only'
[ "$(id -u)" = 0 ] || die 'run it as root: the lab host is a systemd-nspawn container in its own network namespace'
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
  die "Node.js 20.19 or newer is needed (this is $(node --version))"

step 'npm packages'
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  echo 'installed'
fi

step "the lab's Debian packages (test/lab/deps.sh)"
bash test/lab/deps.sh
echo 'installed'

step 'build (npm run build)'
built=1
for f in packages/core/dist/index.js packages/engine/dist/index.js packages/cli/dist/otopi.js \
  plugins/otopi/dist plugins/host-deploy/dist; do
  [ -e "$f" ] || built=0
done
if [ "$built" = 1 ] && [ -z "$(find packages/*/src plugins/*/src tsdown.config.ts package-lock.json \
  -newer packages/engine/dist/index.js -type f -print -quit)" ]; then
  echo 'up to date'
else
  npm run build --silent
  echo 'built'
fi

step 'host bundle with the host-deploy group, and the Node.js runtime for hosts without one'
mkdir -p "$OUT"
node bundle/build.mjs --group host-deploy --out "$OUT/bundle"

step 'one lab host'
if node test/lab/lab.mjs status >/dev/null 2>&1; then
  echo "instance $OTOPI_LAB_NAME is up: reusing it"
else
  node test/lab/lab.mjs up 1
fi

node test/demo/demo.mjs "$OUT" "$((SECONDS - started))"

if [ "$teardown" = 1 ]; then
  step 'tear down'
  node test/lab/lab.mjs down
fi
