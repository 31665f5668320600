import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@otopi/core';
import { EXIT, EXIT_FOR_ERROR } from '../src/exit-codes.js';

describe('the exit code of each error code', () => {
  it('is set for every code, and the README lists every code with it', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const rows = readme.split('\n').filter((line) => /^\| `[A-Z_*]+`/.test(line));
    for (const code of ERROR_CODES) {
      const row = rows.find((r) =>
        [...r.split('|')[1]!.matchAll(/`([A-Z_]+)(\*?)`/g)].some(([, name, star]) =>
          star === '*' ? code.startsWith(name!) : code === name,
        ),
      );
      expect(row, `README row for ${code}`).toBeDefined();
      expect(Number(row!.split('|')[2]!.trim()), code).toBe(EXIT_FOR_ERROR[code]);
    }
  });

  it('is nothing done for a plugin group that does not load, failed for the rest', () => {
    expect(EXIT_FOR_ERROR.PLUGIN_LOAD_FAILED).toBe(EXIT.notRun);
    expect(EXIT_FOR_ERROR.HOST_UNSUPPORTED).toBe(EXIT.failed);
    expect(EXIT_FOR_ERROR.RUN_LOCKED).toBe(EXIT.failed);
  });
});
