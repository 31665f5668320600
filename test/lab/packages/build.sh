#!/bin/bash
# Builds the lab's fake packages from the folders beside this script into a flat apt repository:
# the .debs, Packages(.gz) and an unsigned Release (hosts trust the lab repo explicitly).
# Usage: build.sh OUTDIR        (about 0.3 s; needs dpkg-deb and dpkg-scanpackages)
# Also builds the fake rpms into OUTDIR/rpm (rpm.sh), when rpmbuild and createrepo_c are installed
# (deps.sh installs them).
# In each package folder, @VERSION@ is replaced by the version built.
set -euo pipefail
here="$(dirname "$(readlink -f "$0")")"
out=${1:?usage: build.sh OUTDIR}

# Two vdsm versions, so upgrades and minimum-version checks can be tested.
builds=(
  "vdsm 4.50.1-1"
  "vdsm 4.50.2-1"
  "vdsm-client 4.50.1-1"
  "vdsm-client 4.50.2-1"
  "ovirt-imageio-daemon 2.4.7-1"
  "ovirt-host 4.5.0-1"
)

mkdir -p "$out"
rm -f "$out"/*.deb "$out"/Packages "$out"/Packages.gz "$out"/Release
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for b in "${builds[@]}"; do
  read -r name version <<<"$b"
  stage="$tmp/$name-$version"
  cp -r "$here/$name" "$stage"
  grep -rlZ @VERSION@ "$stage" | xargs -0 -r sed -i "s/@VERSION@/$version/g"
  # Modes come from here, not from the checkout: programs and maintainer scripts 0755, rest 0644.
  find "$stage" -type d -exec chmod 0755 {} +
  find "$stage" -type f -exec chmod 0644 {} +
  find "$stage/DEBIAN" -type f \( -name preinst -o -name postinst -o -name prerm -o -name postrm \) \
    -exec chmod 0755 {} +
  find "$stage" -type f \( -path "$stage/usr/bin/*" -o -path "$stage/usr/libexec/*" \) -exec chmod 0755 {} +
  dpkg-deb --build --root-owner-group "$stage" "$out/${name}_${version}_all.deb" >/dev/null
done

cd "$out"
dpkg-scanpackages --multiversion . /dev/null >Packages 2>/dev/null
gzip -9kf Packages
{
  echo "Origin: otopi-lab"
  echo "Label: otopi-lab"
  echo "Date: $(date -Ru)"
  echo "Architectures: all amd64"
  echo "SHA256:"
  for f in Packages Packages.gz; do
    printf ' %s %s %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
  done
} >Release

# The rpm repository for the dnf path (docs/lab.md, "dnf on a Debian host"), served at /rpm/.
if command -v rpmbuild >/dev/null && command -v createrepo_c >/dev/null; then
  "$here/rpm.sh" "$PWD/rpm"
else
  rm -rf rpm
fi
