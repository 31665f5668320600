// host-deploy on virtual machines with their own kernel (the lab's vm flavour, docs/lab.md), where
// containers cannot go: the management bridge on a real bond and on a real VLAN, kernel arguments
// through grub, a real reboot that the engine side waits for, and kdump set up for fence_kdump.
// Everything runs through `otopi deploy --group host-deploy`, over SSH that crosses the VM's bond
// or VLAN; the VMs are checked through the qemu guest agent (vmExec), never through that SSH path.
// Hosts (VM_HOSTS.hostDeployVm): the first VM has its lab address on bond0 (eth0 + eth1), the second
// on eth2.100. Both are brought up by this file, in parallel, and removed at its end.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VM_HOSTS } from '../lab/allocation.js';
import { vmExec, type VmHost } from '../lab/vm/agent.js';
import { vmDown, vmUp } from '../lab/vm/vm.js';
import { type DeployRun, runDeploy, writeInventory } from './support/deploy-lab.js';
import { ENGINE, engineDefaults, installedState, snapshot } from './support/host-deploy-lab.js';

const [BOND, VLAN] = VM_HOSTS.hostDeployVm;
let work: string;
let bondVm: VmHost;
let vlanVm: VmHost;
const detail = (run: DeployRun): string => `${run.stdout}\n${run.stderr}`;
const q = async (vm: VmHost, cmd: string): Promise<string> => (await vmExec(vm, cmd, { check: true })).stdout.trim();

/** What a rollback must put back and a second run must leave alone. */
async function network(vm: VmHost): Promise<Record<string, string>> {
  // The packages, the firewall and vdsmd's process, as the container tests compare them; the
  // VM's own view of its links, addresses and files is below (the network files by content: a
  // file put back by a rollback gives its folder a new mtime).
  const { iptables, packages, vdsmd } = await snapshot(vm, vmExec);
  return {
    iptables: iptables!,
    packages: packages!,
    vdsmd: vdsmd!,
    vdsmFiles: await q(
      vm,
      'ls -l --time-style=+%s /etc/vdsm /etc/pki/vdsm/* /etc/pki/libvirt /etc/iptables /usr/libexec/vdsm/hooks/* 2>/dev/null || true',
    ),
    interfacesD: await q(vm, 'ls -A /etc/network/interfaces.d'),
    links: await q(vm, "ip -o -d link show | sed -E 's/^[0-9]+: //; s/ (qlen|numtxqueues|gso_max|tso_max).*//' | sort"),
    addresses: await q(vm, "ip -o addr show scope global | awk '{print $2, $3, $4}' | sort"),
    routes: await q(vm, 'ip route show'),
    files: await q(
      vm,
      'md5sum /etc/network/interfaces /etc/network/interfaces.d/* /etc/default/grub /boot/grub/grub.cfg',
    ),
  };
}

/** What a deploy installs, read in the VM: the bridge is on `port` (its bond or its VLAN). */
async function expectInstalled(vm: VmHost, port: string): Promise<void> {
  const state = await installedState(vm, { exec: vmExec, port });
  expect(state).toMatchObject({
    vdsm: 'install ok installed',
    verify: '/etc/pki/vdsm/certs/vdsmcert.pem: OK',
    keys: '440 vdsm:kvm',
    bridge: `${vm.labAddress}/24`,
    port: 'master ovirtmgmt',
    vdsmd: 'enabled\nactive',
  });
  expect(state['conf']).toContain('[addresses]\nmanagement_port = 54321');
  expect(state['firewall']).toContain('-A INPUT -p tcp -m tcp --dport 54321 -j ACCEPT');
  expect(state['firewall']).toContain('-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT');
  expect(state['firewall']).toContain('-A INPUT -j REJECT --reject-with icmp-host-prohibited');
  // The CA is the one in --ca-dir, and this machine's openssl verifies the VM's certificate by it.
  const ca = join(work, 'ca', 'ca.pem');
  expect(await q(vm, 'cat /etc/pki/vdsm/certs/cacert.pem')).toBe(readFileSync(ca, 'utf8').trim());
  const cert = join(work, `${vm.name}.pem`);
  writeFileSync(cert, `${await q(vm, 'cat /etc/pki/vdsm/certs/vdsmcert.pem')}\n`);
  expect(execFileSync('openssl', ['verify', '-CAfile', ca, cert], { encoding: 'utf8' })).toBe(`${cert}: OK\n`);
  // vdsmd answers on its port, in the VM.
  expect(await q(vm, "bash -c 'exec 3<>/dev/tcp/127.0.0.1/54321 && echo open'")).toBe('open');
}

/** The lines a second run's host log must have: it found everything in place. */
function expectConverged(run: DeployRun, vm: VmHost): void {
  const log = readFileSync(run.hosts[vm.name]!.log!, 'utf8');
  expect(log).toContain('Firewall (iptables): no changes');
  expect(log).toMatch(/ovirtmgmt already carries the traffic to the engine/);
  expect(log).toContain(`The installed VDSM certificate (CN=${vm.name}) is kept without a new request`);
  expect(log).toContain('vdsmd is running; nothing of it changed');
}

function deploy(vm: VmHost, lines: string[], args: string[] = []): Promise<DeployRun> {
  const inventory = writeInventory([vm], { defaults: [...engineDefaults(), ...lines] });
  return runDeploy(inventory, ['--group', 'host-deploy', '--ca-dir', join(work, 'ca'), ...args]);
}

/** The VLAN VM's runs, and its state after each: a failed one, the first, a second. */
interface VlanFlow {
  readonly before: Record<string, string>;
  readonly failed: DeployRun;
  readonly afterRollback: Record<string, string>;
  /** The VLAN's id and parent after the rollback (/proc/net/vlan/config). */
  readonly vlanConfig: string;
  readonly run: DeployRun;
  readonly deployed: Record<string, string>;
  readonly again: DeployRun;
  readonly afterAgain: Record<string, string>;
}
let vlanFlow: Promise<VlanFlow>;

async function runVlanFlow(): Promise<VlanFlow> {
  const before = await network(vlanVm);
  const failed = await deploy(vlanVm, ['ODEPLOY/forceFailStage = str:transaction-commit']);
  console.log(`VLAN VM, failed deploy (rolled back): ${failed.seconds.toFixed(1)} s`);
  const afterRollback = await network(vlanVm);
  const vlanConfig = await q(vlanVm, 'awk \'$1 == "eth2.100" {print $3, $5}\' /proc/net/vlan/config');
  const run = await deploy(vlanVm, []);
  console.log(`VLAN VM, deploy: ${run.seconds.toFixed(1)} s`);
  const deployed = await network(vlanVm);
  const again = await deploy(vlanVm, []);
  console.log(`VLAN VM, second deploy: ${again.seconds.toFixed(1)} s`);
  const afterAgain = await network(vlanVm);
  return { before, failed, afterRollback, vlanConfig, run, deployed, again, afterAgain };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'otopi-hd-vm-'));
  const started = performance.now();
  [bondVm, vlanVm] = await Promise.all([vmUp(BOND, 'bond'), vmUp(VLAN, 'vlan')]);
  console.log(`two VMs up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  // The VLAN VM's deploys run while the bond VM's do: each VM is one emulated CPU.
  vlanFlow = runVlanFlow();
  // Its failure is reported by the VLAN tests, which wait for it.
  vlanFlow.catch(() => undefined);
}, 1_800_000);

afterAll(async () => {
  if (process.env['OTOPI_LAB_KEEP'] === '1') return;
  await Promise.all([vmDown(BOND), vmDown(VLAN)]);
}, 120_000);

describe('the bridge on a bond, kernel arguments, kdump and a reboot', () => {
  const kdump = ['kdump = true', `kdump_destination = ${ENGINE.address}`];
  let before: Record<string, string>;
  let bootBefore: string;
  let failed: DeployRun;
  let run: DeployRun;
  beforeAll(async () => {
    before = await network(bondVm);
    bootBefore = await q(bondVm, 'cat /proc/sys/kernel/random/boot_id');
    failed = await deploy(bondVm, [
      'kernel_cmdline = iommu=pt',
      ...kdump,
      'ODEPLOY/forceFailStage = str:transaction-commit',
    ]);
    console.log(`bond VM, failed deploy (rolled back): ${failed.seconds.toFixed(1)} s`);
  }, 1_800_000);

  it('rolls back a failed commit: the bond, its address, routes and files are as they were', async () => {
    expect(failed.hosts[bondVm.name]?.result, detail(failed)).toBe('failed');
    expect(await network(bondVm)).toEqual(before);
    expect(await q(bondVm, 'cat /sys/class/net/bond0/bonding/slaves /sys/class/net/bond0/bonding/mode')).toBe(
      'eth0 eth1\nactive-backup 1',
    );
    expect(await q(bondVm, 'test -e /sys/class/net/ovirtmgmt && echo bridge || echo none')).toBe('none');
  });

  it('makes the bridge on the bond, changes the kernel arguments, sets up fence_kdump, reboots and is waited for', async () => {
    run = await deploy(bondVm, ['kernel_cmdline = iommu=pt', ...kdump, 'reboot = true', 'reboot_timeout = 1200']);
    console.log(`bond VM, deploy with a reboot, waited for: ${run.seconds.toFixed(1)} s`);
    const report = run.hosts[bondVm.name];
    expect(report?.result, detail(run)).toBe('installed');
    expect(run.code, detail(run)).toBe(0);
    expect(report?.details[0]).toMatch(/^rebooted, and back after \d+(\.\d)? s$/);
    expect(run.eventsText).toMatch(/The host is back from its reboot after/);
    // It did reboot: a new boot, with the new argument from grub's configuration.
    expect(report?.facts?.['bootId']).not.toBe(bootBefore);
    expect(await q(bondVm, 'cat /proc/sys/kernel/random/boot_id')).toBe(report?.facts?.['bootId']);
    expect((await q(bondVm, 'cat /proc/cmdline')).split(' ')).toContain('iommu=pt');
    expect(await q(bondVm, 'grep ^GRUB_CMDLINE_LINUX= /etc/default/grub')).toBe('GRUB_CMDLINE_LINUX="iommu=pt"');
  }, 1_800_000);

  it('the bridge survives the reboot: built from the files, on the bond, with the address and the default route', async () => {
    expect(await q(bondVm, "ip -o -4 addr show dev ovirtmgmt | awk '{print $4}'")).toBe(`${bondVm.labAddress}/24`);
    expect(await q(bondVm, "ip -o link show dev bond0 | grep -o 'master [a-z]*'")).toBe('master ovirtmgmt');
    expect(await q(bondVm, 'cat /sys/class/net/bond0/bonding/slaves')).toBe('eth0 eth1');
    expect(await q(bondVm, 'ip route show default')).toMatch(/^default via 10\.88\.0\.1 dev ovirtmgmt( onlink)?$/);
    expect(await q(bondVm, 'grep -c bond-slaves /etc/network/interfaces.d/lab')).toBe('1');
    // ifupdown reads every file there: the deploy left no backup beside it.
    expect(await q(bondVm, 'ls /etc/network/interfaces.d')).toBe('lab');
    expect(await q(bondVm, 'systemctl is-active vdsmd')).toBe('active');
  });

  it('has vdsm installed from the repo, its configuration, certificates, firewall and service', async () => {
    await expectInstalled(bondVm, 'bond0');
  });

  it('has kdump loaded, and the crash kernel sends fence_kdump messages to the engine', async () => {
    expect(await q(bondVm, 'cat /sys/kernel/kexec_crash_loaded')).toBe('1');
    expect(await q(bondVm, 'systemctl show -p Wants --value kdump-tools-dump.service')).toContain(
      'ovirt-fence-kdump.service',
    );
    expect(await q(bondVm, 'grep ^ExecStart= /etc/systemd/system/ovirt-fence-kdump.service')).toBe(
      `ExecStart=/usr/libexec/fence-agents/fence_kdump_send -p 7410 -i 5 ${ENGINE.address}`,
    );
  });

  it('changes nothing on a second run', async () => {
    const now = await network(bondVm);
    const boot = await q(bondVm, 'cat /proc/sys/kernel/random/boot_id');
    const again = await deploy(bondVm, ['kernel_cmdline = iommu=pt', ...kdump]);
    expect(again.hosts[bondVm.name]?.result, detail(again)).toBe('installed');
    expect(await network(bondVm)).toEqual(now);
    expect(await q(bondVm, 'cat /proc/sys/kernel/random/boot_id')).toBe(boot);
    const log = readFileSync(again.hosts[bondVm.name]!.log!, 'utf8');
    expect(again.code, detail(again)).toBe(0);
    expect(log).toContain('The kernel arguments are already as asked');
    expectConverged(again, bondVm);
  }, 1_800_000);
});

describe('the bridge on a VLAN', () => {
  let flow: VlanFlow;
  beforeAll(async () => {
    flow = await vlanFlow;
  }, 1_800_000);

  it('rolls back a failed commit: the VLAN, its address, routes and files are as they were', () => {
    expect(flow.failed.hosts[vlanVm.name]?.result, detail(flow.failed)).toBe('failed');
    expect(flow.afterRollback).toEqual(flow.before);
    expect(flow.vlanConfig).toBe('100 eth2');
  });

  it('makes the bridge on the VLAN, the SSH session and the address moving over', async () => {
    const { run } = flow;
    expect(run.hosts[vlanVm.name]?.result, detail(run)).toBe('installed');
    expect(run.code, detail(run)).toBe(0);
    expect(await q(vlanVm, "ip -o -4 addr show dev ovirtmgmt | awk '{print $4}'")).toBe(`${vlanVm.labAddress}/24`);
    expect(await q(vlanVm, "ip -o link show dev eth2.100 | grep -o 'master [a-z]*'")).toBe('master ovirtmgmt');
    expect(await q(vlanVm, 'ip route show default')).toMatch(/^default via 10\.88\.0\.1 dev ovirtmgmt( onlink)?$/);
    expect(await q(vlanVm, "awk '/^iface eth2.100 /{f=1} f && /^$/{exit} f' /etc/network/interfaces.d/lab")).toBe(
      'iface eth2.100 inet manual\n    vlan-raw-device eth2',
    );
    await expectInstalled(vlanVm, 'eth2.100');
  });

  it('changes nothing on a second run', () => {
    const { again } = flow;
    expect(again.hosts[vlanVm.name]?.result, detail(again)).toBe('installed');
    expect(again.code, detail(again)).toBe(0);
    expect(flow.afterAgain).toEqual(flow.deployed);
    expectConverged(again, vlanVm);
  });
});
