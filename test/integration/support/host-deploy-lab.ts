// Lab support for the tests of the three ways into host-deploy: what a host looks like (read with
// labExec, never through the SSH path under test), the inventory settings of the lab's "engine"
// (the lab switch, whose repo server answers on 8080), OpenSSH to a host as a person uses it, and
// the bundle unpacked on a host by hand.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBundle, readManifest } from '../../../packages/engine/src/index.js';
import { type LabHost, labExec, labStateDir } from '../../lab/lab.js';
import { ROOT } from './deploy-lab.js';

/** The lab switch plays the engine: the bridge is made towards it, and 8080 answers. */
export const ENGINE = { fqdn: 'engine.lab', address: '10.88.0.1', port: 8080 } as const;

/** `[defaults]` lines for `otopi deploy --group host-deploy` against the lab's engine. */
export function engineDefaults(): string[] {
  return [
    `engine_fqdn = ${ENGINE.fqdn}`,
    `engine_address = ${ENGINE.address}`,
    `engine_port = ${ENGINE.port}`,
    'organization = otopi lab',
    // The lab has no /dev/kvm (docs/lab.md).
    'check_virt_hardware = false',
    // Settings given as KEY=type:value win over the program's own.
    'VDSM/connectionTimeout = int:2',
    'VDSM/connectionRetries = int:5',
  ];
}

export const sh = async (host: LabHost, cmd: string): Promise<string> =>
  (await labExec(host, cmd, { check: true })).stdout;

/** How a test reads a host without the SSH path under test: labExec for containers, vmExec for VMs. */
export type HostExec = (host: LabHost, cmd: string) => Promise<{ stdout: string }>;

/** What a rollback must put back, and what a second run must not touch. */
export async function snapshot(host: LabHost, exec: HostExec = labExec): Promise<Record<string, string>> {
  const q = async (cmd: string): Promise<string> => (await exec(host, cmd)).stdout;
  return {
    links: await q("ip -o link show | sed 's/^[0-9]*: //; s/ qlen.*//; s/link\\/ether.*//' | sort"),
    addresses: await q("ip -o addr show | awk '{print $2, $3, $4}' | sort"),
    iptables: await q('iptables -S'),
    packages: await q(
      "dpkg-query -W -f '${Package} ${Status} ${Version}\\n' vdsm vdsm-client ovirt-host ovirt-imageio-daemon 2>/dev/null | sort",
    ),
    files: await q(
      'ls -l --time-style=+%s /etc/vdsm /etc/pki/vdsm/* /etc/pki/libvirt /etc/iptables /usr/libexec/vdsm/hooks/* /etc/network 2>/dev/null; md5sum /etc/network/interfaces 2>/dev/null',
    ),
    vdsmd: await q('systemctl show -p MainPID --value vdsmd 2>/dev/null'),
  };
}

/**
 * The host as the tests find it installed: certificates that verify against `caPem`, keys 0440
 * vdsm:kvm, and the rest. `port` is the interface the bridge is expected on (a container's eth0;
 * a VM's bond or VLAN).
 */
export async function installedState(
  host: LabHost,
  { exec = labExec, port = 'eth0' }: { exec?: HostExec; port?: string } = {},
): Promise<Record<string, string>> {
  const q = async (cmd: string): Promise<string> => (await exec(host, cmd)).stdout.trim();
  return {
    vdsm: await q("dpkg-query -W -f '${Status}' vdsm"),
    conf: await q('cat /etc/vdsm/vdsm.conf'),
    verify: await q('openssl verify -CAfile /etc/pki/vdsm/certs/cacert.pem /etc/pki/vdsm/certs/vdsmcert.pem'),
    keys: await q(
      "stat -c '%a %U:%G' /etc/pki/vdsm/keys/vdsmkey.pem /etc/pki/vdsm/libvirt-spice/server-key.pem /etc/pki/libvirt/private/clientkey.pem | sort -u",
    ),
    bridge: await q(`ip -o -4 addr show dev ovirtmgmt | awk '{print $4}'`),
    port: await q(`ip -o link show dev ${port} | grep -o 'master [a-z]*'`),
    firewall: await q('iptables -S INPUT'),
    vdsmd: await q('systemctl is-enabled vdsmd; systemctl is-active vdsmd'),
  };
}

export interface SshRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `ssh -F <lab>/ssh_config hN -- command`, as a person runs it; standard input is `input`, or closed. */
export function ssh(host: LabHost, command: string, input?: Buffer | string): Promise<SshRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', ['-F', join(labStateDir(), 'ssh_config'), host.name, command], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** The command that opens a terminal session on the host (for tmux). */
export function sshTerminal(host: LabHost, command: string): string[] {
  return ['ssh', '-t', '-F', join(labStateDir(), 'ssh_config'), host.name, command];
}

export const BY_HAND_DIR = '/opt/otopi';

/**
 * Builds a bundle with the host-deploy group from the build output (`npm run build`) and
 * unpacks it on the hosts under /opt/otopi, with the Node.js runtime of `npm run bundle` in
 * /opt/otopi/runtime: what docs/host-deploy.md tells a person to do. Copied over SSH.
 */
export async function installByHand(hosts: readonly LabHost[], outDir: string): Promise<void> {
  const bundle = await buildBundle({ root: ROOT, outDir, groups: ['host-deploy'] });
  const { runtime } = readManifest(join(ROOT, 'bundle/dist/manifest.json'));
  if (runtime === undefined) throw new Error('bundle/dist has no runtime: run npm run bundle');
  const bundleTar = readFileSync(bundle.file);
  const runtimeTar = readFileSync(runtime.file);
  await Promise.all(
    hosts.map(async (host) => {
      for (const [tar, dir] of [
        [bundleTar, BY_HAND_DIR],
        [runtimeTar, `${BY_HAND_DIR}/runtime`],
      ] as const) {
        const run = await ssh(host, `mkdir -p ${dir} && tar -xzf - -C ${dir}`, tar);
        if (run.code !== 0) throw new Error(`unpacking on ${host.name}: ${run.stderr}`);
      }
    }),
  );
}
