/**
 * Accounts made by package scripts (vdsm's postinst adds user `vdsm` and group `kvm`) are part
 * of the package change: undoing it puts the account files back byte for byte. Purging a
 * package leaves its users (Debian policy), and `userdel` would leave `/etc/passwd-` and the
 * other backups different from before, so the packager copies the eight files (`passwd`,
 * `group`, `shadow`, `gshadow` and their `-` backups) before the package manager runs, and the
 * undo (in the process, or recovery's journaled commands) copies them back, atomically, when
 * every entry that was there before is unchanged: the change only added accounts. Otherwise
 * (something else changed an existing account in between) it removes just the accounts that
 * were added, with userdel and groupdel, and says so. The copies are root's only (0700 folder,
 * modes kept) and deleted once the change is undone or stands.
 */
import type { SystemAccess } from '../runner.js';

export const ACCOUNT_FILES = ['passwd', 'group', 'shadow', 'gshadow'] as const;

const ALL = ACCOUNT_FILES.flatMap((f) => [f, `${f}-`]).join(' ');

/** `sh -c SAVE sh DIR`: copies the account files into DIR (replacing an older copy). */
const SAVE = `# copy the account files
d=$1
rm -rf "$d" && mkdir -p -m 0700 "$d" || exit 1
for f in ${ALL}; do
  if [ -e "/etc/$f" ]; then cp -p "/etc/$f" "$d/$f" || exit 1; fi
done
: >"$d/complete"
`;

/** `sh -c RESTORE sh DIR`: the undo; prints what it did. Nothing to do without a complete copy. */
const RESTORE = `# put the account files back as they were before the package change
d=$1
[ -f "$d/complete" ] || { rm -rf "$d"; exit 0; }
same=1 added= users= groups=
for f in ${ACCOUNT_FILES.join(' ')}; do
  [ -f "$d/$f" ] || continue
  kept=$(awk -F: 'NR == FNR { had[$1] = 1; next } ($1 in had)' "$d/$f" "/etc/$f") || exit 1
  [ "$kept" = "$(cat "$d/$f")" ] || same=0
  new=$(awk -F: 'NR == FNR { had[$1] = 1; next } !($1 in had) { printf "%s ", $1 }' "$d/$f" "/etc/$f")
  [ -n "$new" ] && added="$added $f: $new"
  case $f in passwd) users=$new ;; group) groups=$new ;; esac
done
if [ "$same" = 1 ]; then
  for f in ${ALL}; do
    if [ -e "$d/$f" ]; then
      cmp -s "$d/$f" "/etc/$f" && continue
      cp -p "$d/$f" "/etc/.$f.otopi-undo" && mv -f "/etc/.$f.otopi-undo" "/etc/$f" || exit 1
    else
      rm -f "/etc/$f"
    fi
  done
  [ -n "$added" ] && echo "account files put back as before the package change (it added$added)"
else
  for u in $users; do userdel "$u" || exit 1; done
  for g in $groups; do groupdel "$g" || exit 1; done
  echo "existing accounts changed meanwhile, so only the added ones were removed:$added"
fi
rm -rf "$d"
`;

/** The undo command (argv, no shell of the caller's) that puts the accounts back from `dir`. */
export function restoreAccountsCommand(dir: string): string[] {
  return ['/bin/sh', '-c', RESTORE, 'sh', dir];
}

/** Copies the account files into `dir`, before the package manager runs. */
export async function saveAccounts(sys: SystemAccess, dir: string): Promise<void> {
  await sys.run(['/bin/sh', '-c', SAVE, 'sh', dir], { log: sys.log });
}

/** Puts the accounts back from `dir` (the in-process undo); returns what it said, or a problem. */
export async function restoreAccounts(sys: SystemAccess, dir: string): Promise<{ said: string; problem?: string }> {
  const r = await sys.run(restoreAccountsCommand(dir), { log: sys.log, allowFailure: true });
  if (r.code === 0) return { said: r.stdout.trim() };
  return { said: r.stdout.trim(), problem: `putting the accounts back failed: ${r.stderr.trim() || `exit ${r.code}`}` };
}

/** Drops the copies: the change stands. */
export async function forgetAccounts(sys: SystemAccess, dir: string): Promise<void> {
  await sys.run(['rm', '-rf', dir], { log: sys.log, allowFailure: true });
}
