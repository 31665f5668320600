#!/bin/bash
# Builds the lab's fake rpms (rpm/*.spec beside this script) into an rpm repository with
# repodata, for the dnf path on a Debian lab host (docs/lab.md, "dnf on a Debian host").
# Usage: rpm.sh OUTDIR      (about 0.5 s; needs rpmbuild and createrepo_c, from deps.sh)
# Each spec is built once per version listed below, with --define 'fake_version VERSION'.
set -euo pipefail
here="$(dirname "$(readlink -f "$0")")"
out=${1:?usage: rpm.sh OUTDIR}

# Two versions, so updates, downgrades and an undo that puts an older version back can be tested.
builds=(
  "vdsm 4.50.1"
  "vdsm 4.50.2"
  "ovirt-host 4.5.0"
)

rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for b in "${builds[@]}"; do
  read -r spec version <<<"$b"
  # A fixed build host keeps this machine's name out of the headers.
  rpmbuild -bb --quiet --define "_topdir $tmp/$spec-$version" --define "fake_version $version" \
    --define "_sourcedir $here" \
    --define "_tmppath $tmp" --define '_buildhost otopi-lab' \
    "$here/rpm/$spec.spec" >"$tmp/$spec-$version.log" 2>&1 ||
    { cat "$tmp/$spec-$version.log" >&2; exit 1; }
  find "$tmp/$spec-$version/RPMS" -name '*.rpm' -exec mv -t "$out" {} +
done
createrepo_c --quiet --no-database "$out" >/dev/null
