/**
 * The one Node.js version check, as POSIX sh functions, shared by the bundle's launcher
 * (`bin/otopi`) and the engine's bootstrap program, so both agree on what "a suitable Node"
 * is. `node --version` does not start V8, so a check costs a few milliseconds. A binary is
 * run inside `{ ...; } 2>/dev/null`, so that even the shell's report of a crash
 * ("Segmentation fault") stays off standard error, which the engine reads as failure.
 */

/** The oldest Node.js the installer runs on (the root package's `engines`). */
export const MIN_NODE_VERSION = { major: 20, minor: 19 } as const;

const MIN = `${MIN_NODE_VERSION.major}.${MIN_NODE_VERSION.minor}`;

/**
 * `otopi_node_ok PATH` succeeds when PATH is an executable Node.js of at least
 * {@link MIN_NODE_VERSION}. `otopi_node_error PATH` prints why it is not, as one machine
 * dialect line (`***L:ERROR ...`) on standard output.
 */
export const NODE_CHECK_SH = `otopi_node_ok() {
  [ -n "$1" ] && [ -f "$1" ] && [ -x "$1" ] || return 1
  otopi_v=$({ "$1" --version; } 2>/dev/null) || return 1
  otopi_v=\${otopi_v#v}
  case $otopi_v in [0-9]*.[0-9]*) ;; *) return 1 ;; esac
  otopi_major=\${otopi_v%%.*}
  otopi_minor=\${otopi_v#*.}
  otopi_minor=\${otopi_minor%%.*}
  case $otopi_major$otopi_minor in *[!0-9]*) return 1 ;; esac
  [ "$otopi_major" -gt ${MIN_NODE_VERSION.major} ] || { [ "$otopi_major" -eq ${MIN_NODE_VERSION.major} ] && [ "$otopi_minor" -ge ${MIN_NODE_VERSION.minor} ]; }
}
otopi_node_error() {
  if [ -z "$1" ]; then otopi_found='none was found'
  else
    otopi_found=$({ "$1" --version; } 2>/dev/null | head -n 1 | tr -cd '[:alnum:]._-')
    if [ -z "$otopi_found" ] && [ -n "\${NODE_OPTIONS:-}" ] && { NODE_OPTIONS= "$1" --version; } >/dev/null 2>&1; then
      echo "***L:ERROR Node.js at $1 refuses to start with the NODE_OPTIONS set in this environment; unset NODE_OPTIONS or correct it."
      return
    fi
    otopi_found="found \${otopi_found:-a program that is not Node.js} at $1"
  fi
  echo "***L:ERROR otopi needs Node.js ${MIN} or newer on this host, and $otopi_found. Install Node.js ${MIN}+ or deploy the self-contained bundle, which brings its own runtime."
}`;
