/**
 * Kernel command-line changes (KERNEL/cmdlineNew, KERNEL/cmdlineOld) worked out against the
 * default boot entry's current arguments, so the change is exact: only arguments that really
 * change are passed to grubby, a second deploy passes none, and undo reverses exactly those.
 */

/** Splits arguments, keeping quoted values together (`a="b c"`). */
export function splitArgs(text: string | null): string[] {
  if (text === null) return [];
  return text.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
}

/** `grubby --info DEFAULT` → the `args="…"` value. */
export function parseGrubbyArgs(info: string): string[] {
  const m = /^args="?(.*?)"?$/m.exec(info);
  return m === null ? [] : splitArgs(m[1]!);
}

export interface ArgsChange {
  readonly remove: readonly string[];
  readonly add: readonly string[];
}

/** What to remove (old ones present) and add (new ones missing). */
export function argsChange(
  current: readonly string[],
  oldArgs: readonly string[],
  newArgs: readonly string[],
): ArgsChange {
  const have = new Set(current);
  const wanted = new Set(newArgs);
  return {
    remove: oldArgs.filter((a) => have.has(a) && !wanted.has(a)),
    add: newArgs.filter((a) => !have.has(a)),
  };
}

/** fips=1 needs boot=<the /boot device> or the FIPS self-check cannot find the kernel (rhbz#1736873). */
export function withFipsBoot(args: readonly string[], bootUuid: string | null): string[] {
  if (!args.includes('fips=1') || args.some((a) => a.startsWith('boot=')) || bootUuid === null) return [...args];
  return [`boot=UUID=${bootUuid}`, ...args];
}
