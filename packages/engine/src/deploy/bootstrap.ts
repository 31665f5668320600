/**
 * The bootstrap program: the small POSIX sh program sent as the SSH exec command. It says
 * on standard output which artifacts the host lacks, reads exactly those from standard
 * input, caches them by content hash, and then runs the installer in the machine dialect
 * on the same standard input and output. docs/bundle.md describes the protocol.
 *
 * Everything it prints before the installer starts is one agreed line (or an `***L:ERROR`
 * line and exit 1); on success it writes nothing to standard error.
 */
import { EngineError } from '../errors.js';
import { NODE_CHECK_SH } from '../bundle/node-check.js';
import { shellJoin, shellQuote } from './shell-quote.js';

/** The line that says the host has everything. */
export const BUNDLE_CACHED_LINE = '**%BundleCached';
/** The line that says what was sent is checked and stored; the installer starts next. */
export const BUNDLE_STORED_LINE = '**%BundleStored';
/** The prefix of the line that lists what the host needs, in the order it will read them. */
export const BUNDLE_NEED_PREFIX = '**%BundleNeed:';
/** Where hosts cache bundles and runtimes. */
export const DEFAULT_CACHE_ROOT = '/var/cache/otopi';

export type ArtifactKind = 'bundle' | 'runtime';

export interface BootstrapArtifact {
  /** SHA-256 of the compressed artifact, in hex: the cache key and the transfer check. */
  readonly sha256: string;
  /** Its size in bytes: exactly this many bytes are read from standard input. */
  readonly size: number;
}

export interface BootstrapRuntime extends BootstrapArtifact {
  /** What its `bin/node --version` prints, e.g. `v24.21.0`: a cached runtime that says otherwise is replaced. */
  readonly nodeVersion: string;
}

export interface BootstrapBundle extends BootstrapArtifact {
  /**
   * SHA-256 of the unpacked tree (`treeDigest`): a cached bundle is checked against it before
   * every run, so a damaged or altered cache entry is fetched again, never run.
   */
  readonly treeSha256: string;
}

export interface BootstrapOptions {
  readonly bundle: BootstrapBundle;
  /** A runtime to use when the host has no suitable Node.js (the self-contained flavour). */
  readonly runtime?: BootstrapRuntime | undefined;
  /** Use the runtime even when the host has a suitable Node.js. Default false. */
  readonly preferRuntime?: boolean | undefined;
  /** Environment statements after `DIALOG/dialect=str:machine DIALOG/customization=bool:True`. */
  readonly statements?: readonly string[] | undefined;
  /** Environment variables for the installer (`LANG`, `LC_ALL`...). */
  readonly environment?: Readonly<Record<string, string>> | undefined;
  /** The host's cache folder; root's by default. It must be owned by the user it runs as, mode 0700. */
  readonly cacheRoot?: string | undefined;
  /** Run it as root through sudo: `sudo -n`, or, with `password: true`, sudo reading the password the engine sends. */
  readonly become?: { readonly password: boolean } | undefined;
}

/** The line that asks the engine for the sudo password, which sudo then reads on standard input. */
export const BECOME_PASSWORD_LINE = '**%BecomePassword';

/**
 * The sudo wrapper, run as the login user: sudo and the shell by absolute path, a fixed PATH.
 * Without a password, or when sudo needs none here, `sudo -n`. Otherwise it asks for the
 * password on standard output and sudo reads that one line from standard input (`-S`, no
 * prompt), so the password is never on a command line or in a file.
 */
const BECOME_SUDO = `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH
command -v sudo >/dev/null 2>&1 || { echo '***L:ERROR become = sudo, but this host has no sudo'; exit 1; }
if sudo -n -- /bin/sh -c : >/dev/null 2>&1; then exec sudo -n -- /bin/sh -c "$1" otopi-bootstrap; fi
[ "$2" = password ] || { echo "***L:ERROR sudo needs a password for $(id -un) on this host, and none was given"; exit 1; }
echo '${BECOME_PASSWORD_LINE}'
exec sudo -S -p '' -- /bin/sh -c "$1" otopi-bootstrap`;

const HEX64 = /^[0-9a-f]{64}$/;

function checkArtifact(kind: ArtifactKind, artifact: BootstrapArtifact): void {
  const tree = (artifact as Partial<BootstrapBundle>).treeSha256;
  if (
    !HEX64.test(artifact.sha256) ||
    !Number.isSafeInteger(artifact.size) ||
    artifact.size <= 0 ||
    (kind === 'bundle' && (tree === undefined || !HEX64.test(tree)))
  ) {
    throw new EngineError('BUNDLE_BAD_MANIFEST', `the ${kind} needs a hex SHA-256 and a positive size`);
  }
}

/** The exec command string: the program, run by `/bin/sh` whatever the user's login shell is. */
export function bootstrapCommand(options: BootstrapOptions): string {
  const program = shellQuote(bootstrapProgram(options));
  if (options.become === undefined) return `exec /bin/sh -c ${program} otopi-bootstrap`;
  const password = options.become.password ? 'password' : 'none';
  return `exec /bin/sh -c ${shellQuote(BECOME_SUDO)} otopi-become ${program} ${password}`;
}

export function bootstrapProgram(options: BootstrapOptions): string {
  checkArtifact('bundle', options.bundle);
  if (options.runtime !== undefined) checkArtifact('runtime', options.runtime);
  const cache = options.cacheRoot ?? DEFAULT_CACHE_ROOT;
  if (!cache.startsWith('/') || cache.includes('\n'))
    throw new EngineError('USAGE', `the host cache folder must be an absolute path on one line: ${cache}`);
  const exports: string[] = [];
  for (const [name, value] of Object.entries(options.environment ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new EngineError('USAGE', `not an environment variable name: ${name}`);
    exports.push(`${name}=${shellQuote(value)}; export ${name}`);
  }
  const runtime = options.runtime;
  const args = shellJoin([
    'DIALOG/dialect=str:machine',
    'DIALOG/customization=bool:True',
    ...(options.statements ?? []),
  ]);

  // Statements and environment values may hold line breaks: they stay out of `compact`.
  return `${compact(`umask 0077
C=${shellQuote(cache)}
B=${options.bundle.sha256} BS=${options.bundle.size} BT=${options.bundle.treeSha256}
R=${runtime?.sha256 ?? ''} RS=${runtime?.size ?? 0} RV=${shellQuote(runtime?.nodeVersion ?? '')}
PREFER_RUNTIME=${options.preferRuntime === true ? 1 : 0}
otopi_fail() { printf '***L:ERROR %s\\n' "$(printf '%s' "$*" | tr '\\n' ' ')"; exit 1; }
${NODE_CHECK_SH}
otopi_me=$(id -u)
# Every folder above the cache belongs to root or to us, and nobody else may replace what is in it.
otopi_chain() {
  d=$1
  while [ "$d" != / ]; do
    d=$(dirname "$d")
    [ -d "$d" ] || continue
    otopi_m=$(stat -c %u:%a "$d") || exit 1
    case $\{otopi_m%%:*} in 0|"$otopi_me") ;; *) otopi_fail "$d, above the cache folder, belongs to another user" ;; esac
    # Writable by others only with the sticky bit (/tmp): then nobody else can replace what is ours.
    [ -L "$d" ] || [ $(( 0$\{otopi_m#*:} & 022 )) = 0 ] || [ $(( 0$\{otopi_m#*:} & 01000 )) != 0 ] ||
      otopi_fail "$d, above the cache folder, may be written by other users (mode $\{otopi_m#*:})"
  done
}
otopi_private() {
  [ -d "$1" ] || otopi_err=$(mkdir -p "$1" 2>&1) || otopi_fail "cannot create the cache folder $1: $otopi_err"
  [ ! -L "$1" ] && [ "$(stat -c %u:%a "$1")" = "$otopi_me:700" ] ||
    otopi_fail "the cache folder $1 must belong to user $otopi_me with mode 0700; remove it or fix it"
}
# Nothing in an entry that someone else owns or may write, and only files and folders.
otopi_sound() {
  [ -z "$(find "$1" \\( ! -user "$otopi_me" -o -perm /022 -o ! \\( -type f -o -type d \\) \\) -print -quit 2>&1)" ]
}
otopi_tree() {
  (cd "$1" && find . -type f ! -path ./.otopi-complete -print | LC_ALL=C sort | xargs -d '\\n' -r sha256sum | sha256sum) 2>/dev/null | cut -c1-64
}
otopi_valid() {
  [ -f "$2/.otopi-complete" ] && otopi_sound "$2" || return 1
  if [ "$1" = bundle ]; then
    [ "$(otopi_tree "$2")" = "$BT" ]
  else
    [ "$({ "$2/bin/node" --version; } 2>/dev/null)" = "$RV" ]
  fi
}
otopi_chain "$C"
otopi_private "$C"; otopi_private "$C/bundles"; otopi_private "$C/runtimes"
T=$(mktemp -d "$C/.incoming-XXXXXXXXXX" 2>&1) || otopi_fail "cannot create a folder in $C: $T"
trap 'chmod -R u+rwX "$T" >/dev/null 2>&1; rm -fr "$T" >/dev/null 2>&1' 0
trap 'exit 1' HUP INT TERM
otopi_sys=$(command -v node 2>/dev/null) || otopi_sys=
need=
if [ "$PREFER_RUNTIME" = 0 ] && otopi_node_ok "$otopi_sys"; then
  N=$otopi_sys
elif [ -n "$R" ]; then
  N=$C/runtimes/$R/bin/node
  otopi_valid runtime "$C/runtimes/$R" || need="$need runtime"
else
  otopi_node_error "$otopi_sys"
  exit 1
fi
if ! otopi_valid bundle "$C/bundles/$B"; then
  need=" bundle$need"
  [ ! -e "$C/bundles/$B" ] ||
    echo "***L:WARNING the cached bundle $C/bundles/$B fails its check (SHA-256, owner or modes): set aside, fetched again"
fi
if [ -z "$need" ]; then echo '${BUNDLE_CACHED_LINE}'; else echo "${BUNDLE_NEED_PREFIX}$need"; fi
otopi_receive() {
  otopi_err=$(dd bs=65536 count="$3" iflag=fullblock,count_bytes status=none of="$T/$1.tar.gz" 2>&1) ||
    otopi_fail "cannot store the $1 in $C: $otopi_err"
  echo "$2  $T/$1.tar.gz" | sha256sum -c --status || otopi_fail "the $1 received does not match its SHA-256 $2"
  otopi_err=$(mkdir "$T/$1" 2>&1 && tar --warning=no-timestamp --no-same-owner --no-same-permissions -xzf "$T/$1.tar.gz" -C "$T/$1" 2>&1) ||
    otopi_fail "cannot unpack the $1 in $C: $otopi_err"
  rm -f "$T/$1.tar.gz"
  : >"$T/$1/.otopi-complete"
  otopi_valid "$1" "$T/$1" || otopi_fail "the $1 unpacked in $T does not match what was sent"
  otopi_valid "$1" "$4" && return 0
  # A broken entry is moved aside, never deleted in place: a valid one is never touched.
  [ ! -e "$4" ] || mv -T "$4" "$T/$1.broken" || exit 1
  mv -T "$T/$1" "$4" 2>/dev/null || otopi_valid "$1" "$4" || otopi_fail "cannot store the $1 in $4"
}
for otopi_kind in $need; do
  case $otopi_kind in
    bundle) otopi_receive bundle "$B" "$BS" "$C/bundles/$B" ;;
    runtime) otopi_receive runtime "$R" "$RS" "$C/runtimes/$R" ;;
  esac
done
[ -z "$need" ] || echo '${BUNDLE_STORED_LINE}'
rm -fr "$T"
trap - 0 HUP INT TERM
OTOPI_NODE=$N; export OTOPI_NODE
# Node.js 22.1+ keeps the compiled code of the installer here between runs (older ones ignore it).
NODE_COMPILE_CACHE=$C/compile-cache; export NODE_COMPILE_CACHE
`)}
${exports.join('\n')}
exec "$C/bundles/$B/bin/otopi" ${args}
`;
}

/**
 * The program as sent: without comment lines and indentation, which every deploy would carry
 * (about 650 bytes). Safe because the program has no here-documents and no quoted text that
 * spans lines.
 */
function compact(program: string): string {
  return program
    .split('\n')
    .map((line) => line.trimStart())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .join('\n');
}
