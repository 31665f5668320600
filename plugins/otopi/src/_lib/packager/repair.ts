/**
 * What a killed run can leave of the package manager itself, how to see it, and how to
 * finish it, so the undo that follows (and the next install) finds a working tool.
 *
 * - **dpkg**: killed while it unpacks or configures (SIGKILL of the installer takes apt-get
 *   down; dpkg dies of SIGPIPE at its next write), it leaves packages unpacked (`iU`),
 *   half-configured (`iF`) or half-installed (`iH`), and status updates pending in
 *   `/var/lib/dpkg/updates`; apt-get then refuses everything ("dpkg was interrupted, you must
 *   manually run 'dpkg --configure -a'"). The repair is `dpkg --configure -a`, then
 *   `apt-get -f install` for what configure cannot finish (half-installed packages).
 * - **rpm** (dnf, yum): killed mid-transaction, rpm leaves both versions of an upgraded
 *   package in its database (duplicates), and dnf's history a transaction that never ended.
 *   The repair finishes the upgrade as rpm would have (`rpm -e --nodeps` of the older
 *   duplicate: its scripts run, the files the newer version owns stay), so the undo (`dnf
 *   history undo` of the unfinished transaction, which puts the older version back from the
 *   repository) and later installs see one version. Checked on dnf 4.14 (docs/lab.md).
 *
 * Both checks first wait (up to 10 minutes) for a package manager still running: a tool left
 * behind by the killed installer finishes, or dies, on its own.
 */
import type { UndoRepair } from '@otopi/core';

/**
 * Waits for a package manager, or a package script it started, still running. A kill of the
 * installer and the package manager can miss a maintainer script (started after the killer
 * listed the processes, or not in the killed group): it runs on alone, adds accounts and
 * starts services, and a repair and undo that ran beside it would be undone by it afterwards.
 * Scripts are found by their command line: dpkg runs `/var/lib/dpkg/info/PKG.SCRIPT` and
 * `/var/lib/dpkg/tmp.ci/SCRIPT`, rpm `/var/tmp/rpm-tmp.XXXXXX` (Lua scriptlets run inside rpm
 * itself). The check's own shell holds these words in its text, so it skips command lines that
 * hold its marker. `scripts` is a case pattern over one word of a command line; what was waited
 * for is kept in $waited.
 */
const WAIT_FOR = (names: string, scripts: string): string => `
busy() {
  for c in /proc/[0-9]*/comm; do
    read -r n <"$c" 2>/dev/null || continue
    case $n in ${names}) return 0 ;; esac
  done
  for c in /proc/[0-9]*/cmdline; do
    a=$(tr '\\0' ' ' <"$c" 2>/dev/null) || continue
    case $a in *"left half-way"*) continue ;; esac
    for w in $a; do
      case $w in ${scripts})
        case " $waited " in *" \${w##*/} "*) ;; *) waited="$waited \${w##*/}" ;; esac
        return 0 ;;
      esac
    done
  done
  return 1
}
waited=
i=0
while busy && [ $i -lt 600 ]; do sleep 1; i=$((i+1)); done
if busy; then echo "a package manager or its script is still running after 10 minutes:$waited"; exit 1; fi
[ -n "$waited" ] && echo "waited for what the killed run left running to end:$waited"
`;

/** Exits 1 naming what dpkg left half-way (packages, pending status updates), 0 when nothing. */
const DPKG_CHECK = `# what dpkg left half-way${WAIT_FOR('dpkg|apt-get|apt|aptitude|unattended-upgr*', '/var/lib/dpkg/info/*.*inst|/var/lib/dpkg/info/*.*rm|/var/lib/dpkg/tmp.ci/*')}
pending=$(ls -A /var/lib/dpkg/updates 2>/dev/null | wc -l)
half=$(dpkg-query -W -f='\${db:Status-Abbrev} \${binary:Package}\\n' 2>/dev/null |
  awk 'substr($1, 2, 1) !~ /[nic]/ || substr($1, 3, 1) == "R" { printf "%s%s %s", sep, $1, $2; sep = ", " }')
[ "$pending" -eq 0 ] && [ -z "$half" ] && exit 0
[ -n "$half" ] && echo "packages left half-way: $half"
[ "$pending" -gt 0 ] && echo "$pending status updates pending in /var/lib/dpkg/updates"
exit 1
`;

const DEB_ENV = ['/usr/bin/env', 'DEBIAN_FRONTEND=noninteractive', 'APT_LISTCHANGES_FRONTEND=none', 'LC_ALL=C'];

export const DPKG_REPAIR: UndoRepair = {
  tool: 'dpkg',
  check: ['/bin/sh', '-c', DPKG_CHECK],
  commands: [
    [...DEB_ENV, 'dpkg', '--force-confdef', '--force-confold', '--configure', '-a'],
    [
      ...DEB_ENV,
      'apt-get',
      '-y',
      '-q',
      '-o',
      'Dpkg::Options::=--force-confdef',
      '-o',
      'Dpkg::Options::=--force-confold',
      '-o',
      'Dpkg::Use-Pty=0',
      '-f',
      'install',
    ],
  ],
};

/**
 * Exits 1 naming rpm's duplicates (one name and arch installed twice, kernels and other
 * install-only packages left out) and a held rpm database, 0 when nothing.
 */
const RPM_CHECK = `# what rpm left half-way${WAIT_FOR('dnf|yum|rpm|dnf-automatic', '/var/tmp/rpm-tmp.*')}
dups=$(rpm -qa --qf '%{NAME}.%{ARCH}\\n' 2>/dev/null | sort | uniq -d | grep -Ev '^(kernel|kernel-core|kernel-modules|kernel-devel|installonlypkg|gpg-pubkey)[.-]' | tr '\\n' ' ')
[ -z "$dups" ] && exit 0
echo "packages recorded twice in the rpm database (an interrupted upgrade): $dups"
exit 1
`;

/**
 * Finishes what the interrupted upgrade would have done: erases the older entry of each
 * duplicate (its scripts run, and rpm removes only the files the newer one does not own).
 */
const RPM_FIX = `# finish the interrupted upgrade: erase the older duplicates
rpm -qa --qf '%{NAME}.%{ARCH} %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH} %{INSTALLTIME}\\n' |
  grep -Ev '^(kernel|kernel-core|kernel-modules|kernel-devel|installonlypkg|gpg-pubkey)[.-]' |
  sort -k1,1 -k3,3n -k2,2V | awk '$1 == prev { print old } { prev = $1; old = $2 }' |
  while read -r nevra; do
    echo "finishing the interrupted upgrade: erasing the older $nevra"
    rpm -e --nodeps "$nevra" 2>&1 | grep -v 'should not be used directly\\|assuming you know' || true
    ! rpm -q "$nevra" >/dev/null 2>&1 || exit 1
  done || exit 1
`;

export const RPM_REPAIR: UndoRepair = {
  tool: 'rpm',
  check: ['/bin/sh', '-c', RPM_CHECK],
  commands: [['/bin/sh', '-c', RPM_FIX]],
};
