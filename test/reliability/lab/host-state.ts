// Everything a deploy may touch on a lab host, read with labExec (never through the SSH path
// under test), as a map from an item to its value, so two states compare item by item:
// - files: SHA-256, mode and owner of every file under the folders host-deploy writes, the
//   account files and their `-` backups, the systemd configuration (enablement links), the vdsm
//   hooks, /etc/nftables.d;
// - packages: every dpkg package with its state and version (and rpm's, when rpm is there),
//   and whether dpkg has status updates pending;
// - live state: links, addresses, routes (both families), enabled and active units, iptables,
//   ip6tables and nft rules (counters left out).
// `comparable()` reduces what a deploy makes fresh each time (keys, certificates, the engine's
// CA, timestamps inside them) to "valid", so a run's result can be compared with a clean
// deploy's; an invalid (torn) file stays different.
import { type LabHost, labExec } from '../../lab/lab.js';

export type HostState = ReadonlyMap<string, string>;

/** Folders and files whose every file is hashed. */
const FILES = [
  '/etc/passwd',
  '/etc/passwd-',
  '/etc/group',
  '/etc/group-',
  '/etc/shadow',
  '/etc/shadow-',
  '/etc/gshadow',
  '/etc/gshadow-',
  '/etc/vdsm',
  '/etc/pki/vdsm',
  '/etc/pki/libvirt',
  '/etc/pki/ovirt-vmconsole',
  '/etc/iptables',
  '/etc/network',
  '/etc/nftables.conf',
  '/etc/nftables.d',
  '/etc/ovirt-imageio',
  '/etc/systemd/system',
  '/etc/sysctl.d',
  '/etc/modules-load.d',
  '/usr/libexec/vdsm/hooks',
];

const FILES_CMD = `for p in ${FILES.join(' ')}; do [ -e "$p" ] || [ -L "$p" ] || continue
  find "$p" \\( -type f -o -type l \\) 2>/dev/null; done | sort | while read -r f; do
  if [ -L "$f" ]; then echo "file $f -> $(readlink "$f")"
  else echo "file $f $(stat -c '%a %U:%G' "$f") $(sha256sum <"$f" | cut -c1-64)"; fi
done`;

const PACKAGES_CMD = `dpkg-query -W -f='pkg \${binary:Package} \${db:Status-Abbrev} \${Version}\\n' 2>/dev/null | awk '$3 != "un"'
echo "pkg dpkg-pending $(ls -A /var/lib/dpkg/updates 2>/dev/null | wc -l)"
if command -v rpm >/dev/null; then rpm -qa --qf 'rpm %{NAME}.%{ARCH} %{VERSION}-%{RELEASE}\\n' 2>/dev/null | sort; fi`;

// Interface indexes (`eth0@if62`) and link-local IPv6 addresses (from the veth's MAC) change
// whenever the lab restarts a host; they are left out.
const LIVE_CMD = `ip -o link show | sed -E 's/^[0-9]+: //; s/@if[0-9]+//; s/ qlen [0-9]+//; s/link\\/ether [0-9a-f:]+ brd [0-9a-f:]+//; s/ (state|mode|group) [A-Za-z0-9_]+//g' | sed 's/^/link /' | sort
ip -o addr show | awk '$4 !~ /^fe80:/ {print "addr", $2, $3, $4}' | sort
ip route show | sed 's/^/route4 /' | sort
ip -6 route show | sed 's/ expires [0-9]*sec//; s/^/route6 /' | sort
systemctl list-unit-files --state=enabled,masked --no-legend 2>/dev/null | awk '{print "unit-file", $1, $2}' | sort
systemctl list-units --state=active --no-legend --plain 2>/dev/null | awk '$1 !~ /^(session-|user@|user-runtime|run-|systemd-nspawn|init.scope|-.slice)/ {print "active", $1}' | grep -Ev 'ssh@|sshd@|otopi' | sort
iptables -S | sed 's/^/iptables /'
ip6tables -S | sed 's/^/ip6tables /'
nft list ruleset 2>/dev/null | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/' | sed 's/^/nft /'`;

function toMap(text: string, into: Map<string, string>): void {
  const count = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [kind, ...rest] = line.split(' ');
    if (kind === 'file') {
      const path = rest[0] ?? '';
      into.set(`file ${path}`, rest.slice(1).join(' '));
    } else if (kind === 'pkg' || kind === 'rpm') {
      into.set(`${kind} ${rest[0] ?? ''}`, rest.slice(1).join(' '));
    } else {
      // Live state: one item per line, numbered among equal lines (nft's closing braces).
      const item = `${kind ?? ''} ${rest.join(' ')}`;
      const n = (count.get(item) ?? 0) + 1;
      count.set(item, n);
      into.set(n === 1 ? item : `${item} #${n}`, '');
    }
  }
}

/** The whole state of a host. */
export async function hostState(host: LabHost): Promise<HostState> {
  const out = new Map<string, string>();
  for (const cmd of [FILES_CMD, PACKAGES_CMD, LIVE_CMD])
    toMap((await labExec(host, cmd, { timeoutMs: 60_000 })).stdout, out);
  return out;
}

/** Items that differ between two states (added, removed or changed), sorted. */
export function stateDiff(a: HostState, b: HostState): string[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys
    .filter((k) => a.get(k) !== b.get(k))
    .map((k) => (a.has(k) ? (b.has(k) ? `${k}: ${a.get(k)} -> ${b.get(k)}` : `- ${k}`) : `+ ${k}`));
}

/** Files a deploy makes anew each time; compared by validity only. */
const FRESH = /^file \/etc\/pki\/|^file \/etc\/vdsm\/vdsm\.id$|^file \/etc\/(passwd|group|shadow|gshadow)-$/;
/** Dated backups (`interfaces.20261207233608`): named by the time of the run that made them. */
const STAMP = /\.\d{14}(\.\d+)?$/;

/**
 * The state with fresh items reduced to their validity (keys and certificates read by
 * openssl): what a complete deploy must equal, whichever run made it.
 */
export async function comparable(host: LabHost, state: HostState): Promise<HostState> {
  const out = new Map<string, string>();
  const fresh = [...state.keys()].filter((k) => FRESH.test(k) && !state.get(k)?.includes(' -> '));
  const paths = fresh.map((k) => k.slice('file '.length));
  const verdicts = new Map<string, string>();
  if (paths.length > 0) {
    const r = await labExec(
      host,
      `for f in "$@"; do case "$f" in
        *key*.pem) openssl pkey -noout -in "$f" 2>/dev/null ;;
        *.pem) openssl x509 -noout -in "$f" 2>/dev/null ;;
        */vdsm.id) grep -Eqx '[0-9a-fA-F-]{36}' "$f" ;;
        *) test -s "$f" ;;
      esac && echo "valid $f" || echo "INVALID $f"; done`.replace(
        /^/,
        'set -- ' + paths.map((p) => `'${p}'`).join(' ') + '; ',
      ),
    );
    for (const line of r.stdout.split('\n')) {
      const [verdict, ...p] = line.split(' ');
      if (verdict !== undefined && p.length > 0) verdicts.set(p.join(' '), verdict);
    }
  }
  for (const [k, v] of state) {
    if (!fresh.includes(k)) {
      out.set(STAMP.test(k) ? k.replace(STAMP, '.<stamp>') : k, v);
      continue;
    }
    const path = k.slice('file '.length);
    // Mode and owner count; content only as valid or not.
    out.set(k, `${v.split(' ').slice(0, 2).join(' ')} ${verdicts.get(path) ?? 'unread'}`);
  }
  return out;
}
