/**
 * Kernel arguments on hosts without grubby (Debian, Ubuntu): GRUB_CMDLINE_LINUX in
 * /etc/default/grub, which update-grub writes into every boot entry of grub.cfg. Only the plain
 * forms are read and written (`KEY="a b"`, `KEY='a b'`, `KEY=a`); a value built with shell
 * expansions is refused rather than guessed at.
 */

export const GRUB_DEFAULT = '/etc/default/grub';
const KEY = 'GRUB_CMDLINE_LINUX';
const LINE = new RegExp(`^\\s*(?:export\\s+)?${KEY}=(.*)$`);

/** Where the last assignment is, and its arguments; null when the file sets none. */
export function grubCmdline(text: string): { readonly line: number; readonly args: string[] } | null {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = LINE.exec(lines[i]!);
    if (m === null) continue;
    const raw = m[1]!.replace(/\s+#.*$/, '').trim();
    let value: string;
    if (/^"[^"\\$`]*"$/.test(raw) || /^'[^']*'$/.test(raw)) value = raw.slice(1, -1);
    else if (/^[^\s"'\\$`;&|]*$/.test(raw)) value = raw;
    else throw new Error(`${GRUB_DEFAULT} line ${i + 1}: ${KEY} is not a plain value: ${m[1]!.trim()}`);
    return { line: i, args: value.split(/\s+/).filter((a) => a !== '') };
  }
  return null;
}

/** Arguments that cannot be written between double quotes as they are. */
export function unquotableArgs(args: readonly string[]): string[] {
  return args.filter((a) => /["\\$`]/.test(a));
}

/** The file with GRUB_CMDLINE_LINUX set to `args` (the last assignment replaced, or one added). */
export function withGrubCmdline(text: string, args: readonly string[]): string {
  const line = `${KEY}="${args.join(' ')}"`;
  const found = grubCmdline(text);
  if (found === null) return `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`;
  const lines = text.split('\n');
  lines[found.line] = line;
  return lines.join('\n');
}
