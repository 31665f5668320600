/**
 * `otopi config-query`: read one key from a config file, like otopi-config-query.
 *
 *   otopi config-query query [-t] [-s SECTION] -k KEY -f FILE   prints the value
 *   otopi config-query match [-s SECTION] -k KEY -v type:value -f FILE
 *       exit 0 equal, 1 different, 2 key, section or file missing; 64 a usage error
 */
import { parseArgs } from 'node:util';
import { formatTypedValue, isOtopiError, matchConfig, queryConfig } from '@otopi/core';
import { EXIT } from './exit-codes.js';

const HELP = `Usage:
  otopi config-query query [-t|--with-type] [-s SECTION] -k KEY -f FILE
  otopi config-query match [-s SECTION] -k KEY -v type:value -f FILE

SECTION defaults to environment:default. FILE.d/*.conf are read after FILE.
query prints the value (as type:value with -t); match exits 0 when equal, 1 when
different, 2 when the key, section or file is missing; 64 on a usage error.
`;

export function configQuery(argv: readonly string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        key: { type: 'string', short: 'k' },
        file: { type: 'string', short: 'f' },
        section: { type: 'string', short: 's' },
        value: { type: 'string', short: 'v' },
        'with-type': { type: 'boolean', short: 't' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`otopi config-query: ${(error as Error).message}\n${HELP}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const action = positionals[0];
  if (values.help === true || action === undefined) {
    process.stdout.write(HELP);
    return values.help === true ? EXIT.ok : EXIT.usage;
  }
  if (values.key === undefined || values.file === undefined || positionals.length > 1) {
    process.stderr.write(`otopi config-query: -k KEY and -f FILE are required\n${HELP}`);
    return EXIT.usage;
  }
  const query = {
    key: values.key,
    file: values.file,
    ...(values.section === undefined ? {} : { section: values.section }),
  };
  try {
    if (action === 'query') {
      const answer = queryConfig(query);
      process.stdout.write(`${values['with-type'] === true ? answer.text : formatForHuman(answer.value)}\n`);
      return 0;
    }
    if (action === 'match') {
      if (values.value === undefined) {
        process.stderr.write(`otopi config-query: match needs -v type:value\n`);
        return EXIT.usage;
      }
      return matchConfig({ ...query, expected: values.value });
    }
    process.stderr.write(`otopi config-query: unknown action '${action}'\n${HELP}`);
    return EXIT.usage;
  } catch (error) {
    const where = isOtopiError(error) ? error.location : '';
    process.stderr.write(`otopi config-query: ${where}${(error as Error).message}\n`);
    return 2;
  }
}

function formatForHuman(value: Parameters<typeof formatTypedValue>[0]): string {
  if (Array.isArray(value)) return value.join('\n');
  const typed = formatTypedValue(value);
  return typed.slice(typed.indexOf(':') + 1);
}
