// oVirt's engine, unchanged, runs this project: the engine layout (interface-3) is built, tarred
// the way the engine tars its BootstrapPackageDirectory, and streamed over SSH into the engine's
// BootstrapCommand verbatim on a lab host that has no Node.js; the engine's dialog programs
// (host-deploy, then host-mgmt's check for updates) drive the machine dialog to the end, and
// nothing reaches standard error. Host state is read with labExec, never through the SSH path.
// Host (HOSTS.engineBootstrap): vdsm 4.50.1 installed first, so the check has an update to list.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildEngineLayout,
  CertificateAuthority,
  driveDialog,
  hostDeployProgram,
  hostDeployResult,
  hostMgmtProgram,
  hostMgmtResult,
  ovirtBootstrapCommand,
  readManifest,
  runOvirtBootstrap,
  type DialogOutcome,
  type DialogProgram,
  type OvirtEntry,
  type SshConnection,
} from '../../packages/engine/src/index.js';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { ROOT, connectLabHost } from './support/deploy-lab.js';
import { engineTar, tarListing } from './support/engine-tar.js';
import { ENGINE, installedState, sh } from './support/host-deploy-lab.js';

let host: LabHost;
let work: string;
let tarFile: string;
let ca: CertificateAuthority;
let connection: SshConnection;

interface EngineRun {
  readonly outcome: DialogOutcome;
  readonly code: number | null;
  readonly stderr: string;
  readonly transcript: string[];
}

/** One engine run: the command, the tar on standard input, then the dialog program. */
async function engineRun(entry: OvirtEntry, program: DialogProgram): Promise<EngineRun> {
  const transcript: string[] = [];
  const session = await runOvirtBootstrap(connection, { entry, tarFile, hardTimeoutMs: 300_000 });
  const outcome = await driveDialog(session, {
    ...program,
    transcript: (direction, line) => transcript.push(`${direction === 'in' ? '<' : '>'} ${line}`),
  });
  const { code, stderr } = await session.done;
  return { outcome, code, stderr, transcript };
}

beforeAll(async () => {
  host = labHost(HOSTS.engineBootstrap[0]);
  work = mkdtempSync(join(tmpdir(), 'otopi-engine-bootstrap-'));
  await labExec(
    host,
    `mkdir -p /etc/network && printf 'auto eth0\\niface eth0 inet static\\n    address ${host.labAddress}/24\\n' > /etc/network/interfaces && ` +
      'apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q vdsm=4.50.1-1 vdsm-client=4.50.1-1 >/dev/null',
    { check: true },
  );
  const { runtime } = readManifest(join(ROOT, 'bundle/dist/manifest.json'));
  if (runtime === undefined) throw new Error('bundle/dist has no runtime: run npm run bundle');
  const layout = buildEngineLayout({ root: ROOT, outDir: work, runtime });
  tarFile = join(work, 'ovirt-host-deploy.tar');
  const { bytes } = engineTar(layout.dir, tarFile);
  console.log(`engine layout tar: ${(bytes / 1e6).toFixed(1)} MB`);
  ca = await CertificateAuthority.loadOrCreate(join(work, 'ca'), { organization: 'otopi lab' });
  connection = await connectLabHost(host);
}, 300_000);

afterAll(() => {
  connection?.close();
  // The layout and its tar are over 200 MB.
  rmSync(work, { recursive: true, force: true });
});

describe('the engine layout, tarred as the engine tars it', () => {
  it('has the entries and the runtime at the top, 0700 programs and 0600 files, rooted at ./, uncompressed', () => {
    const entries = tarListing(tarFile);
    const mode = (path: string): string | undefined => entries.find((e) => e.path === path)?.mode;
    expect(mode('./')).toBe('drwx------');
    for (const entry of ['./ovirt-host-deploy', './ovirt-host-mgmt', './otopi', './runtime/bin/node'])
      expect(mode(entry), entry).toBe('-rwx------');
    expect(mode('./bin/ovirt-host-deploy.js')).toBe('-rw-------');
    expect(mode('./plugins/host-mgmt/')).toBe('drwx------');
    expect(entries.every((e) => e.path.startsWith('./'))).toBe(true);
    // A plain tar: GNU magic at offset 257, and whole 10 240-byte records.
    const head = readFileSync(tarFile).subarray(0, 512);
    expect(head.subarray(257, 265).toString('latin1')).toBe('ustar  \0');
    expect(readFileSync(tarFile).length % 10_240).toBe(0);
  });

  it('is run by the command the engine sends, unchanged', () => {
    expect(ovirtBootstrapCommand('ovirt-host-deploy')).toBe(
      'umask 0077; MYTMP="$(TMPDIR="${OVIRT_TMPDIR}" mktemp -d -t ovirt-XXXXXXXXXX)"; ' +
        'trap "chmod -R u+rwX \\"${MYTMP}\\" > /dev/null 2>&1; rm -fr \\"${MYTMP}\\" > /dev/null 2>&1" 0; ' +
        'tar --warning=no-timestamp -C "${MYTMP}" -x &&  "${MYTMP}"/ovirt-host-deploy DIALOG/dialect=str:machine DIALOG/customization=bool:True',
    );
  });
});

describe("the engine's BootstrapCommand on a host without Node.js", () => {
  it('the host has no Node.js of its own', async () => {
    expect((await labExec(host, 'command -v node nodejs')).code).not.toBe(0);
  });

  it('runs ovirt-host-deploy to the end: vdsm installed and signed by the engine CA, nothing on stderr, no temporary folder left', async () => {
    const run = await engineRun(
      'ovirt-host-deploy',
      hostDeployProgram({
        host: { name: `${host.name}.lab`, address: host.labAddress },
        engine: { fqdn: ENGINE.fqdn, address: ENGINE.address, port: ENGINE.port },
        cluster: { checkVirtHardware: false },
        pki: { ca },
        firewall: 'default',
        connection: { timeoutS: 2, retries: 5 },
        correlationId: 'engine-bootstrap',
      }),
    );
    const detail = run.transcript.slice(-40).join('\n');
    expect(run.stderr).toBe('');
    expect(run.code, detail).toBe(0);
    expect(run.outcome.failures, detail).toEqual([]);
    expect(run.outcome.terminated).toBe(true);
    expect(hostDeployResult(run.outcome)).toMatchObject({ status: 'installed', errors: [] });
    // The log was fetched with `log` and the host's copy removed, as the engine does.
    expect(run.outcome.hostLogLines).toBeGreaterThan(100);
    const state = await installedState(host);
    expect(state).toMatchObject({
      vdsm: 'install ok installed',
      verify: '/etc/pki/vdsm/certs/vdsmcert.pem: OK',
      vdsmd: 'enabled\nactive',
    });
    expect((await sh(host, 'cat /etc/pki/vdsm/certs/cacert.pem')).trim()).toBe(ca.pem.trim());
    expect((await sh(host, 'ls -d /tmp/ovirt-* 2>/dev/null; true')).trim()).toBe('');
  }, 300_000);

  it('runs ovirt-host-mgmt to the end: the check lists the newer vdsm and changes nothing', async () => {
    const versions = "dpkg-query -W -f '${Package} ${Version}\\n' vdsm vdsm-client";
    const before = await sh(host, versions);
    const run = await engineRun(
      'ovirt-host-mgmt',
      hostMgmtProgram({
        action: 'check-updates',
        host: { name: `${host.name}.lab` },
        packages: ['vdsm', 'vdsm-client'],
      }),
    );
    const detail = run.transcript.slice(-40).join('\n');
    expect(run.stderr).toBe('');
    expect(run.code, detail).toBe(0);
    expect(hostMgmtResult(run.outcome)).toEqual({
      ok: true,
      packagesInfo: ['vdsm-4.50.2-1', 'vdsm-client-4.50.2-1'],
      enrolled: false,
      errors: [],
    });
    expect(await sh(host, versions)).toBe(before);
    expect(before).toContain('vdsm 4.50.1-1');
    // ovirt-host-mgmt asks no DEPLOY_PROCEED: the engine never answered one for it.
    expect(run.transcript.join('\n')).not.toContain('DEPLOY_PROCEED');
  }, 300_000);
});
