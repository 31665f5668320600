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

export interface BootstrapOptions {
  readonly bundle: BootstrapArtifact;
  /** A runtime to use when the host has no suitable Node.js (the self-contained flavour). */
  readonly runtime?: BootstrapRuntime | undefined;
  /** Use the runtime even when the host has a suitable Node.js. Default false. */
  readonly preferRuntime?: boolean | undefined;
  /** Environment statements after `DIALOG/dialect=str:machine DIALOG/customization=bool:True`. */
  readonly statements?: readonly string[] | undefined;
  /** Environment variables for the installer (`LANG`, `LC_ALL`...). */
  readonly environment?: Readonly<Record<string, string>> | undefined;
  /** The host's cache folder; root's by default. It must be owned by the SSH user, mode 0700. */
  readonly cacheRoot?: string | undefined;
}

const HEX64 = /^[0-9a-f]{64}$/;

function checkArtifact(kind: ArtifactKind, artifact: BootstrapArtifact): void {
  if (!HEX64.test(artifact.sha256) || !Number.isSafeInteger(artifact.size) || artifact.size <= 0) {
    throw new EngineError('BUNDLE_BAD_MANIFEST', `the ${kind} needs a hex SHA-256 and a positive size`);
  }
}

/** The exec command string: the program, run by `/bin/sh` whatever the user's login shell is. */
export function bootstrapCommand(options: BootstrapOptions): string {
  return `exec /bin/sh -c ${shellQuote(bootstrapProgram(options))} otopi-bootstrap`;
}

export function bootstrapProgram(options: BootstrapOptions): string {
  checkArtifact('bundle', options.bundle);
  if (options.runtime !== undefined) checkArtifact('runtime', options.runtime);
  const cache = options.cacheRoot ?? DEFAULT_CACHE_ROOT;
  if (!cache.startsWith('/')) throw new EngineError('USAGE', `the host cache folder must be absolute: ${cache}`);
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

  return `umask 0077
C=${shellQuote(cache)}
B=${options.bundle.sha256} BS=${options.bundle.size}
R=${runtime?.sha256 ?? ''} RS=${runtime?.size ?? 0} RV=${shellQuote(runtime?.nodeVersion ?? '')}
PREFER_RUNTIME=${options.preferRuntime === true ? 1 : 0}
otopi_fail() { echo "***L:ERROR $*"; exit 1; }
${NODE_CHECK_SH}
otopi_private() {
  [ -d "$1" ] || mkdir -p "$1" || exit 1
  [ ! -L "$1" ] && [ "$(stat -c %u:%a "$1")" = "$(id -u):700" ] ||
    otopi_fail "the cache folder $1 must belong to user $(id -u) with mode 0700; remove it or fix it"
}
otopi_valid() {
  [ -f "$2/.otopi-complete" ] || return 1
  [ "$1" = bundle ] || [ "$({ "$2/bin/node" --version; } 2>/dev/null)" = "$RV" ]
}
otopi_private "$C"; otopi_private "$C/bundles"; otopi_private "$C/runtimes"
T=$(mktemp -d "$C/.incoming-XXXXXXXXXX") || exit 1
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
otopi_valid bundle "$C/bundles/$B" || need=" bundle$need"
if [ -z "$need" ]; then echo '${BUNDLE_CACHED_LINE}'; else echo "${BUNDLE_NEED_PREFIX}$need"; fi
otopi_receive() {
  dd bs=65536 count="$3" iflag=fullblock,count_bytes status=none >"$T/$1.tar.gz" || otopi_fail "the $1 did not arrive"
  echo "$2  $T/$1.tar.gz" | sha256sum -c --status || otopi_fail "the $1 received does not match its SHA-256 $2"
  mkdir "$T/$1" && tar --warning=no-timestamp --no-same-owner --no-same-permissions -xzf "$T/$1.tar.gz" -C "$T/$1" ||
    otopi_fail "cannot unpack the $1"
  : >"$T/$1/.otopi-complete"
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
rm -fr "$T"
trap - 0 HUP INT TERM
OTOPI_NODE=$N; export OTOPI_NODE
# Node.js 22.1+ keeps the compiled code of the installer here between runs (older ones ignore it).
NODE_COMPILE_CACHE=$C/compile-cache; export NODE_COMPILE_CACHE
${exports.join('\n')}
exec "$C/bundles/$B/bin/otopi" ${args}
`;
}
