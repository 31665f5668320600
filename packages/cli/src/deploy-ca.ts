/**
 * `otopi ca sign`: the engine side of a host deployed by hand. Reads a host's certificate
 * request (the PEM block `ovirt-host-deploy` shows as VDSM_CERTIFICATE_REQUEST, or its saved
 * request file) and prints the chain to paste back, the CA certificate first, then the host's.
 * The CA is the one `otopi deploy --group host-deploy` signs with (`--ca-dir`), created when
 * missing. Manager side only: the file name keeps it out of host bundles (`deploy*`).
 *
 * Exit codes: 0 signed; 1 the request was refused; 2 the CA cannot be loaded or created;
 * 64 usage error.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatIni, formatTypedValue } from '@otopi/core';
import { CertificateAuthority, DEFAULT_CA_DIR } from '@otopi/engine';
import { EXIT as CLI_EXIT } from './exit-codes.js';

const HELP = `Usage: otopi ca sign --host NAME [options] < request.pem

Signs a host's certificate request with the engine CA and prints the chain to paste into
ovirt-host-deploy's VDSM_CERTIFICATE_CHAIN question: the CA certificate first, then the host
certificate. End the paste with a line holding only '.'.

Options:
  --ca-dir DIR         the CA folder (ca.pem, ca.key), created 0700 when missing
                       [default: ${DEFAULT_CA_DIR}]
  --host NAME          the host's name: CN and subjectAltName of its certificate (required)
  --alt-name NAME      another name or address for the subjectAltName; repeatable
  --days N             validity of the host certificate in days [default: 398]
  --organization ORG   O= of a CA created now [default: otopi]
  --request FILE       read the request from FILE instead of standard input
  --as-config          print an answer-file section setting VDSM/certificateChain instead,
                       for an unattended 'accept' run (ovirt-host-deploy --config-append FILE)
  -h, --help           show this help

Exit codes: 0 signed, 1 the request was refused, 2 the CA is unavailable, 64 usage error.
`;

const EXIT = { ok: CLI_EXIT.ok, refused: CLI_EXIT.failed, ca: CLI_EXIT.notRun, usage: CLI_EXIT.usage } as const;

function usage(message: string): number {
  process.stderr.write(`otopi ca: ${message}\nTry 'otopi ca sign --help'.\n`);
  return EXIT.usage;
}

async function readInput(file: string | undefined): Promise<string> {
  if (file !== undefined) return readFileSync(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The chain as an `[environment:default]` section: VDSM/certificateChain, one PEM line per value line. */
export function chainAsConfig(chain: readonly string[]): string {
  const key = 'VDSM/certificateChain';
  return formatIni([{ name: 'environment:default', entries: [{ key, value: formatTypedValue(chain, { key }) }] }]);
}

export async function ca(argv: readonly string[]): Promise<number> {
  if (argv[0] !== 'sign') {
    if (argv[0] === '--help' || argv[0] === '-h') {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    return usage(argv[0] === undefined ? 'name a subcommand: sign' : `unknown subcommand '${argv[0]}'`);
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv.slice(1)],
      strict: true,
      allowPositionals: false,
      options: {
        'ca-dir': { type: 'string' },
        host: { type: 'string' },
        'alt-name': { type: 'string', multiple: true },
        days: { type: 'string' },
        organization: { type: 'string' },
        request: { type: 'string' },
        'as-config': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  if (values.host === undefined || values.host === '') return usage('--host NAME is required');
  const days = values.days === undefined ? undefined : Number(values.days);
  if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 3650))
    return usage('--days takes a whole number from 1 to 3650');

  const dir = resolve(values['ca-dir'] ?? DEFAULT_CA_DIR);
  let authority: CertificateAuthority;
  try {
    authority = await CertificateAuthority.loadOrCreate(dir, { organization: values.organization ?? 'otopi' });
  } catch (error) {
    process.stderr.write(
      `otopi ca: CA_UNAVAILABLE: cannot load or create the CA in ${dir}: ${(error as Error).message}\n`,
    );
    return EXIT.ca;
  }
  let request: string;
  try {
    request = await readInput(values.request);
  } catch (error) {
    return usage(`cannot read the request: ${(error as Error).message}`);
  }
  // Whatever surrounds the block (a pasted D:MULTI-STRING header, the boundary) is left out.
  const block = /-----BEGIN CERTIFICATE REQUEST-----[\s\S]*?-----END CERTIFICATE REQUEST-----/.exec(request);
  if (block === null) {
    process.stderr.write('otopi ca: no -----BEGIN CERTIFICATE REQUEST----- block in the input\n');
    return EXIT.refused;
  }
  let certificate: string;
  try {
    certificate = await authority.sign(block[0], {
      host: values.host,
      ...(values['alt-name'] === undefined ? {} : { altNames: values['alt-name'] }),
      ...(days === undefined ? {} : { days }),
    });
  } catch (error) {
    process.stderr.write(`otopi ca: the request was refused: ${(error as Error).message}\n`);
    return EXIT.refused;
  }
  const chain = `${authority.pem.trimEnd()}\n${certificate.trimEnd()}`.split('\n');
  process.stdout.write(values['as-config'] === true ? chainAsConfig(chain) : `${chain.join('\n')}\n`);
  return EXIT.ok;
}
