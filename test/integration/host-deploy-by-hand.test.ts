// ovirt-host-deploy run by hand on the host, as docs/host-deploy.md tells a person to: the bundle
// unpacked under /opt/otopi, `ssh -t` in a terminal (tmux), the answers typed, the certificate
// request signed with `otopi ca sign` and the chain pasted back; then the answer file that run
// wrote, used unattended (standard input closed): on the same host it changes nothing, on a fresh
// host it enrolls in two phases (request, then accept with the signed chain). Host state is checked
// with labExec (nsenter), never through the SSH path under test.
// Hosts (HOSTS.hostDeployByHand): the terminal run and its unattended repeat; the two-phase
// unattended host; a bad answer file that must change nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { CLI } from './support/deploy-lab.js';
import {
  BY_HAND_DIR,
  ENGINE,
  installByHand,
  installedState,
  sh,
  snapshot,
  ssh,
  sshTerminal,
} from './support/host-deploy-lab.js';

const SOCKET = `otopi-hd-${process.pid}`;
const ANSWERS = '/root/ovirt-host-deploy-answers.conf';
let work: string;
let caDir: string;
let h1: LabHost;
let h2: LabHost;
let h3: LabHost;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8', env: { ...process.env, TERM: 'xterm' } });
}
const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-2000', '-t', 'run');

async function waitForScreen(match: (text: string) => boolean, what: string, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = screen();
    if (match(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Types a line and presses Enter. */
function type(text: string): void {
  if (text.length > 0) tmux('send-keys', '-t', 'run', '-l', text);
  tmux('send-keys', '-t', 'run', 'Enter');
}

/** Pastes text as a terminal paste does (tmux's paste buffer), not key by key. */
function paste(text: string): void {
  const file = join(work, 'paste.txt');
  writeFileSync(file, text);
  tmux('load-buffer', '-b', 'chain', file);
  tmux('paste-buffer', '-d', '-b', 'chain', '-t', 'run');
}

/** `otopi ca sign` on this machine, the engine side. */
function caSign(host: string, input: string, more: string[] = []): string {
  return execFileSync(process.execPath, [CLI, 'ca', 'sign', '--ca-dir', caDir, '--host', host, ...more], {
    input,
    encoding: 'utf8',
  });
}

const hostDeploy = (host: LabHost, args: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  ssh(host, `${BY_HAND_DIR}/bin/ovirt-host-deploy ${args} < /dev/null`);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'otopi-hd-by-hand-'));
  caDir = join(work, 'engine-ca');
  [h1, h2, h3] = HOSTS.hostDeployByHand.map((n) => labHost(n)) as [LabHost, LabHost, LabHost];
  await installByHand([h1, h2, h3], join(work, 'bundle'));
  // The lab has no /dev/kvm: the administrator says so in the host's config file (docs/host-deploy.md).
  for (const h of [h1, h2])
    await labExec(
      h,
      `printf '[environment:enforce]\\nVDSM/checkVirtHardware=bool:False\\nVDSM/connectionTimeout=int:2\\nVDSM/connectionRetries=int:5\\n' > /etc/ovirt-host-deploy.conf`,
      { check: true },
    );
}, 300_000);
afterAll(() => {
  spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
});

describe('ovirt-host-deploy in a terminal', () => {
  let end: string;
  beforeAll(async () => {
    tmux(
      'new-session',
      '-d',
      '-s',
      'run',
      '-x',
      '200',
      '-y',
      '50',
      `${sshTerminal(h1, `${BY_HAND_DIR}/bin/ovirt-host-deploy DIALOG/answerFile=str:${ANSWERS}`).join(' ')}; echo "EXIT=$?"; sleep 600`,
    );
    await waitForScreen((s) => s.includes('Please confirm Proceed with ovirt-host-deploy [yes/no]:'), 'DEPLOY_PROCEED');
    type('yes');
    await waitForScreen((s) => s.includes('Engine host name or address'), 'the engine question');
    // A typo first: refused and asked again, under the same answer key.
    type('engine lab!');
    await waitForScreen((s) => s.includes("'engine lab!' is not a host name or an address"), 'the refusal');
    type(ENGINE.address);
    await waitForScreen(
      (s) => s.includes(`TCP port on ${ENGINE.address} the host checks after making the bridge [80]:`),
      'the port',
    );
    type(String(ENGINE.port));
    await waitForScreen((s) => s.includes("Management bridge name ('none': no bridge) [ovirtmgmt]:"), 'the bridge');
    type('');
    await waitForScreen(
      (s) => s.includes('Certificate enrollment (none, inline, request, accept) [inline]:'),
      'the enrollment',
    );
    type('');
    await waitForScreen((s) => s.includes('[yes]:') && s.includes('Configure the firewall'), 'the firewall');
    type('');
    const asked = await waitForScreen(
      (s) => s.includes("Type the lines for 'VDSM_CERTIFICATE_CHAIN'"),
      'the chain question',
    );
    // The engine side: the request as shown on the screen, signed with otopi ca sign, pasted back.
    const chain = caSign(`${h1.name}.lab`, asked, ['--organization', 'otopi lab', '--alt-name', h1.labAddress]);
    // Pasted as a terminal often does, with empty lines after it.
    paste(`${chain}\n\n`);
    type('.');
    end = await waitForScreen((s) => /EXIT=\d+/.test(s), 'the end of the run', 300_000);
  }, 600_000);

  it('asks, takes the pasted chain ended by ".", and installs', async () => {
    expect(end, end).toContain('EXIT=0');
    expect(end).toContain('Sign the request above on the engine');
    expect(end).toContain(
      `Engine ${ENGINE.address}:${ENGINE.port}; bridge ovirtmgmt; certificate inline; firewall oVirt rules`,
    );
    const state = await installedState(h1);
    expect(state).toMatchObject({
      vdsm: 'install ok installed',
      verify: '/etc/pki/vdsm/certs/vdsmcert.pem: OK',
      keys: '440 vdsm:kvm',
      bridge: `${h1.labAddress}/24`,
      port: 'master ovirtmgmt',
      vdsmd: 'enabled\nactive',
    });
    expect(state['firewall']).toContain('--dport 54321 -j ACCEPT');
    expect((await sh(h1, 'cat /etc/pki/vdsm/certs/cacert.pem')).trim()).toBe(
      readFileSync(join(caDir, 'ca.pem'), 'utf8').trim(),
    );
    // Its log is ovirt-host-deploy's.
    expect(await sh(h1, 'ls /tmp')).toMatch(/ovirt-host-deploy-\d{14}-\w+\.log/);
  });

  it('wrote an answer file (0600) that holds every answer taken, and names the command', async () => {
    expect(await sh(h1, `stat -c %a ${ANSWERS}`)).toBe('600\n');
    const answers = await sh(h1, `cat ${ANSWERS}`);
    expect(answers).toContain('# ovirt-host-deploy answer file, written');
    expect(answers).toContain('# Repeat the run unattended with: ovirt-host-deploy --config-append=<this file>');
    // The refused typo is not in it: the answer taken is QUESTION/1.
    expect(answers).not.toContain('engine lab!');
    expect(answers).not.toContain('QUESTION/2/ODEPLOY_ENGINE_HOST');
    for (const line of [
      'QUESTION/1/DIALOG_CONFIRM/DEPLOY_PROCEED=str:yes',
      `QUESTION/1/ODEPLOY_ENGINE_HOST=str:${ENGINE.address}`,
      `QUESTION/1/ODEPLOY_ENGINE_PORT=str:${ENGINE.port}`,
      'QUESTION/1/ODEPLOY_CERTIFICATE_ENROLLMENT=str:inline',
      'QUESTION/1/VDSM_CERTIFICATE_CHAIN=multi-str:-----BEGIN CERTIFICATE-----',
    ])
      expect(answers).toContain(line);
  });

  it('run again unattended from that answer file, it asks nothing and changes nothing', async () => {
    const before = await snapshot(h1);
    const again = await hostDeploy(h1, `--config-append ${ANSWERS}`);
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(again.stdout).not.toContain('needs an answer');
    expect(again.stdout).not.toMatch(/ERROR|Invalid answer/);
    const log = again.stdout;
    expect(log).toContain('Firewall (iptables): no changes');
    expect(log).toContain('Management bridge: ovirtmgmt already carries the traffic to the engine');
    expect(log).toContain(`The installed VDSM certificate (O=otopi lab, CN=${h1.name}.lab) is kept`);
    expect(log).toContain('vdsmd is running; nothing of it changed');
    expect(await snapshot(h1)).toEqual(before);
  }, 300_000);
});

describe('unattended on a fresh host: request, then accept', () => {
  it('ends incomplete with the request saved, then installs the chain signed for it', async () => {
    // The answer file of the terminal run, with the enrollment split in two phases.
    writeFileSync(join(work, 'answers.conf'), await sh(h1, `cat ${ANSWERS}`));
    expect((await ssh(h2, `cat > ${ANSWERS}`, readFileSync(join(work, 'answers.conf')))).code).toBe(0);

    const request = await hostDeploy(h2, `--config-append ${ANSWERS} VDSM/certificateEnrollment=str:request`);
    // 3: incomplete, as otopi deploy says for a host that needs a manual step.
    expect(request.code, `${request.stdout}\n${request.stderr}`).toBe(3);
    expect(request.stdout).toContain('D:MULTI-STRING VDSM_CERTIFICATE_REQUEST');
    expect(request.stdout).toContain(
      'Installation is incomplete, manual intervention is required: Certificate enrollment required',
    );
    expect(await sh(h2, "stat -c '%a %U' /etc/pki/vdsm/keys/vdsmkey.pending.pem /etc/pki/vdsm/requests/vdsm.csr")).toBe(
      '400 root\n644 root\n',
    );
    expect((await labExec(h2, 'test -e /etc/pki/vdsm/certs/vdsmcert.pem')).code).not.toBe(0);
    expect(await installedState(h2)).toMatchObject({ vdsm: 'install ok installed', bridge: `${h2.labAddress}/24` });

    // The engine signs the saved request; the chain goes to the host as an answer-file section.
    const csr = (await ssh(h2, 'cat /etc/pki/vdsm/requests/vdsm.csr')).stdout;
    const chainConf = caSign(`${h2.name}.lab`, csr, ['--as-config']);
    expect((await ssh(h2, 'cat > /root/chain.conf', chainConf)).code).toBe(0);

    const accept = await hostDeploy(
      h2,
      `--config-append ${ANSWERS} --config-append /root/chain.conf VDSM/certificateEnrollment=str:accept`,
    );
    expect(accept.code, `${accept.stdout}\n${accept.stderr}`).toBe(0);
    expect(accept.stdout).not.toContain('Installation is incomplete');
    expect(await installedState(h2)).toMatchObject({
      verify: '/etc/pki/vdsm/certs/vdsmcert.pem: OK',
      keys: '440 vdsm:kvm',
      vdsmd: 'enabled\nactive',
    });
    // The certificate is for the key made in the first phase, which is now gone from its pending place.
    expect(
      (await labExec(h2, 'ls /etc/pki/vdsm/keys/vdsmkey.pending.pem /etc/pki/vdsm/requests/vdsm.csr')).code,
    ).not.toBe(0);
    expect(await sh(h2, 'openssl x509 -noout -pubkey -in /etc/pki/vdsm/certs/vdsmcert.pem')).toBe(
      await sh(h2, 'openssl pkey -pubout -in /etc/pki/vdsm/keys/vdsmkey.pem'),
    );
  }, 600_000);
});

describe('a bad answer file', () => {
  it('is refused with its file, line and key before anything changes', async () => {
    const before = await snapshot(h3);
    const bad =
      '[environment:default]\nQUESTION/1/DIALOG_CONFIRM/DEPLOY_PROCEED=str:yes\nVDSM/engineHots=str:10.88.0.1\n';
    expect((await ssh(h3, 'cat > /root/bad.conf', bad)).code).toBe(0);
    const run = await hostDeploy(h3, '--config-append /root/bad.conf');
    expect(run.code).toBe(1);
    const out = `${run.stdout}${run.stderr}`;
    expect(out).toMatch(/\/root\/bad\.conf:3/);
    expect(out).toContain('VDSM/engineHots');
    expect(out).toContain('VDSM/engineHost');
    expect(await snapshot(h3)).toEqual(before);
    expect((await labExec(h3, 'test -e /etc/vdsm')).code).not.toBe(0);
  }, 300_000);
});

describe('a host without hardware virtualization', () => {
  it('fails before any question, and claims no vdsm id it does not keep', async () => {
    // h3 has no /dev/kvm and, unlike h1 and h2, no config file that turns the check off.
    const before = await snapshot(h3);
    const run = await hostDeploy(h3, 'QUESTION/1/DIALOG_CONFIRM/DEPLOY_PROCEED=str:yes');
    expect(run.code, run.stdout).toBe(1);
    expect(run.stdout).toContain('Hardware does not support virtualization');
    expect(run.stdout).not.toContain('Engine host name or address');
    expect(run.stdout).not.toContain('needs an answer');
    expect(run.stdout).not.toContain('kept in /etc/vdsm/vdsm.id');
    expect(await snapshot(h3)).toEqual(before);
  }, 300_000);
});
