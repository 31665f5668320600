// Puts the built CLI and plugin groups on a lab host and runs it there over SSH, as a user
// would. A stopgap until the host bundle exists: Node is this machine's /usr/bin/node (the
// hosts are Debian 12 like it), and @otopi/core is resolved from /opt/otopi-test/node_modules.
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type LabHost, hostRootPath } from '../../lab/lab.js';
import { connect } from '../ssh.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const REMOTE = '/opt/otopi-test';
const FIXTURES = `${REMOTE}/fixtures/plugins`;

/** Copies Node, core, the CLI, the base group and the integration fixtures into the host. */
export async function installCli(host: LabHost): Promise<void> {
  const at = (path: string): string => hostRootPath(host, path);
  await rm(at(REMOTE), { recursive: true, force: true });
  const core = at(`${REMOTE}/node_modules/@otopi/core`);
  await mkdir(core, { recursive: true });
  await cp('/usr/bin/node', at(`${REMOTE}/node`), { preserveTimestamps: true });
  await cp(`${ROOT}/packages/core/dist`, core, { recursive: true });
  await writeFile(
    `${core}/package.json`,
    `${JSON.stringify({ name: '@otopi/core', type: 'module', exports: './index.js' })}\n`,
  );
  await cp(`${ROOT}/packages/cli/dist`, at(`${REMOTE}/bin`), { recursive: true });
  await writeFile(at(`${REMOTE}/package.json`), `${JSON.stringify({ type: 'module', private: true })}\n`);
  await cp(`${ROOT}/plugins/otopi/dist`, at(`${REMOTE}/plugins/otopi`), { recursive: true });
  await cp(`${ROOT}/test/integration/fixtures/plugins`, at(FIXTURES), { recursive: true });
}

export interface RemoteRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The run's log file, read from the host's file system afterwards. */
  readonly log: string;
  readonly seconds: number;
}

const quote = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

let runs = 0;

/**
 * Runs `otopi` on the host over SSH with the base group plus the fixture groups named,
 * the given `KEY=type:value` statements and options, and no system config file.
 */
export async function runOtopi(
  host: LabHost,
  statements: readonly string[],
  opts: { groups?: readonly string[]; args?: readonly string[] } = {},
): Promise<RemoteRun> {
  const logFile = `/var/log/otopi-test/run-${process.pid}-${++runs}.log`;
  const argv = [
    `${REMOTE}/node`,
    `${REMOTE}/bin/otopi.js`,
    ...(opts.args ?? []),
    `BASE/pluginPath=str:${REMOTE}/plugins:${FIXTURES}`,
    ...(opts.groups ?? []).map((g) => `APPEND:BASE/pluginGroups=str:${g}`),
    `CORE/logFileName=str:${logFile}`,
    ...statements,
  ];
  const command = `OTOPI_CONFIG=/nonexistent/otopi.conf ${argv.map(quote).join(' ')}`;
  const started = performance.now();
  const client = await connect(host);
  try {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      client.exec(command, (err, stream) => {
        if (err) return reject(err);
        let stdout = '';
        let stderr = '';
        let code: number | null = null;
        stream.on('data', (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        stream.on('exit', (c: number | null) => (code = c));
        stream.on('close', () => resolve({ code, stdout, stderr }));
        stream.end(); // no input: a question would get end-of-file instead of waiting
      });
    });
    const log = await readFile(hostRootPath(host, logFile), 'utf8').catch(() => '');
    return { ...result, log, seconds: (performance.now() - started) / 1000 };
  } finally {
    client.end();
  }
}
