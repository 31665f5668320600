/**
 * After a deploy in which hosts failed: a retry file listing them, and the one command that
 * reruns only them (`--limit @FILE`), as Ansible's `.retry` files do.
 */
import { writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { DeployReport } from '@otopi/engine';

/** A word as the shell reads it back: quoted only when it must be. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The arguments without any `--limit`/`-l` (both spellings), to which `--limit @FILE` is added. */
export function withoutLimit(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--limit' || a === '-l') i++;
    else if (!a.startsWith('--limit=')) out.push(a);
  }
  return out;
}

/**
 * Writes `<logDir>/<inventory name>.retry` (the hosts that failed or aborted, one a line, 0600)
 * and returns the lines that say how to rerun them; nothing when every host ended well.
 */
export function writeRetry(report: DeployReport, inventory: string, argv: readonly string[]): string[] {
  const failed = report.hosts.filter((h) => h.result === 'failed' || h.result === 'aborted').map((h) => h.host);
  if (failed.length === 0) return [];
  const file = join(report.logDir, `${basename(inventory, extname(inventory))}.retry`);
  try {
    writeFileSync(file, `${failed.join('\n')}\n`, { mode: 0o600 });
  } catch (error) {
    return [`(the retry file ${file} could not be written: ${(error as Error).message})`];
  }
  // A statement's value may be a secret (only the hosts know which keys are sensitive): the
  // command shows `KEY=…`, and says so, rather than print it.
  let hidden = 0;
  const words = withoutLimit(argv).map((word) => {
    const statement = STATEMENT.exec(word);
    if (statement === null) return shellWord(word);
    hidden++;
    return `${shellWord(statement[1]!)}…`;
  });
  const command = ['otopi', 'deploy', ...words, '--limit', shellWord(`@${file}`)].join(' ');
  return [
    `To rerun only the ${failed.length} host${failed.length === 1 ? '' : 's'} that failed:`,
    `  ${command}`,
    ...(hidden > 0 ? ['  (the values of the KEY=type:value settings are not repeated here: give them again)'] : []),
  ];
}

const STATEMENT = /^((?:APPEND:|PREPEND:)?[A-Za-z_][A-Za-z0-9_]*\/[^=\s]*=)/;
