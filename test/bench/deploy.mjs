#!/usr/bin/env node
// `npm run bench:deploy`: the real host-deploy job on fresh lab hosts, by `otopi deploy --group
// host-deploy`, by Ansible (Debian's ansible-core) and by a one-SSH-session shell floor
// (test/bench/peers.mjs has the job as the peers do it), at link round-trip times of 0, 1, 20
// and 100 ms (test/lab/latency.mjs in front of the lab's forwarders), on 1 and 10 hosts, each tool
// on hosts of its own, all in the same run. Per tool: the first deploy and a converged rerun, with
// wall time, controller CPU (the tool and its children on this machine), host CPU (the hosts'
// cgroups) and, for ours, the dialog round trips the engine counted. `oursnode` is ours on hosts
// that already have a usable Node.js (the shipped runtime copied into /usr/local/bin first). Every run is checked on the
// hosts (vdsmd running, certificate signed by the CA, rules live) before it counts.
// Brings up its own lab instance (default "spbench" at 127.42.135.N), fresh for each RTT.
// Usage: npm run bench:deploy [-- --rtts 0,1,20,100] [--sizes 1,10] [--tools ours,ansible,floor] [--no-ansible] [--keep]
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { setTimeout } from 'node:timers';
import { parseArgs } from 'node:util';
import { ansiblePlay, floor } from './peers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    rtts: { type: 'string', default: '0,1,20,100' },
    sizes: { type: 'string', default: '1,10' },
    tools: { type: 'string', default: 'ours,oursnode,ansible,floor' },
    'no-ansible': { type: 'boolean' },
    keep: { type: 'boolean' },
  },
});
const rtts = values.rtts.split(',').map(Number);
const sizes = values.sizes.split(',').map(Number);
const TOOLS = values.tools.split(',').filter((t) => !(values['no-ansible'] && t === 'ansible'));
const labEnv = {
  ...process.env,
  OTOPI_LAB_NAME: process.env.OTOPI_LAB_NAME ?? 'spbench',
  OTOPI_LAB_LO_PREFIX: process.env.OTOPI_LAB_LO_PREFIX ?? '127.42.135',
};
const state = process.env.OTOPI_LAB_STATE ?? `/var/lib/otopi-lab/${labEnv.OTOPI_LAB_NAME}`;
const cleanEnv = { ...process.env };
delete cleanEnv.NODE_EXTRA_CA_CERTS;
const work = mkdtempSync(join(tmpdir(), 'otopi-bench-hd-'));
const CLI = join(root, 'packages/cli/dist/otopi.js');
const CA = join(work, 'ca');
const DELAY_PORT = 2222;
const log = (m) => console.error(`[bench] ${m}`);

function run(cmd, args, opts = {}) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => done({ code, out, err }));
  });
}
/** CPU of this process's reaped children (ms): the controller side of a run. */
function childrenCpuMs() {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}
/** CPU the hosts' containers used (ms), from their cgroups. */
function hostsCpuMs(hosts) {
  return hosts.reduce((sum, h) => {
    const stat = readFileSync(`/sys/fs/cgroup/unified/otopi-${labEnv.OTOPI_LAB_NAME}/${h.name}/cpu.stat`, 'utf8');
    return sum + Number(/usage_usec (\d+)/.exec(stat)[1]) / 1000;
  }, 0);
}
/** Round trips per host name, from the forwarder's "turns" lines. */
const turns = new Map();
async function measured(hosts, fn) {
  const [k0, h0, t0] = [childrenCpuMs(), hostsCpuMs(hosts), performance.now()];
  for (const h of hosts) turns.set(h.name, 0);
  const result = await fn();
  const wallMs = performance.now() - t0;
  await new Promise((ok) => setTimeout(ok, 500)); // the forwarder's last lines
  return {
    ...result,
    wallMs,
    ctlCpuMs: childrenCpuMs() - k0,
    hostCpuMs: hostsCpuMs(hosts) - h0,
    wireRoundTrips: Math.max(...hosts.map((h) => turns.get(h.name) ?? 0)),
  };
}
function lab(...args) {
  const r = spawnSync('node', [join(root, 'test/lab/lab.mjs'), ...args], {
    env: labEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`lab ${args.join(' ')} failed`);
}
const onHost = (h, script) =>
  run('bash', [join(root, 'test/lab/exec.sh'), String(h.index), 'sh', '-c', script], { env: labEnv });

// ---- the three tools ------------------------------------------------------------------------
async function ours(hosts, port) {
  const inv = join(work, `inv-${Date.now()}.ini`);
  const lines = [
    '[defaults]',
    `identity_file = ${hosts[0].privateKeyPath}`,
    'engine_fqdn = engine.bench',
    'engine_address = 10.88.0.1',
    'engine_port = 8080',
    'organization = otopi bench',
    `ca_dir = ${CA}`,
    'firewall = default',
    'management_bridge = none',
    'check_virt_hardware = false',
  ];
  for (const h of hosts)
    lines.push(
      `[host ${h.name}]`,
      `address = ${h.address}`,
      `port = ${port}`,
      `fingerprint = ${h.hostKeyFingerprint}`,
      `host_fqdn = ${h.name}`,
    );
  writeFileSync(inv, `${lines.join('\n')}\n`, { mode: 0o600 });
  const events = join(work, `events-${Date.now()}.jsonl`);
  const r = await run(process.execPath, [
    CLI,
    'deploy',
    '-i',
    inv,
    '--group',
    'host-deploy',
    '--parallel',
    String(hosts.length),
    '--progress',
    'none',
    '--events',
    events,
    '--log-dir',
    join(work, 'logs'),
    '--vdsm-id-registry',
    join(work, `ids-${hosts[0].name}`),
  ]);
  const ends = readFileSync(events, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'host-end');
  const bad = ends.filter((e) => e.result !== 'installed');
  if (r.code !== 0 || bad.length > 0)
    throw new Error(`ours failed: ${bad.map((e) => `${e.host}: ${e.cause}`).join('; ')}\n${r.out}${r.err}`);
  return {
    roundTrips: Math.max(...ends.map((e) => e.roundTrips ?? 0)),
    bytes: Math.max(...ends.map((e) => e.bytes.total)),
  };
}
// The host keys are the lab's (known_hosts names each host by its address, port 22), also through the delaying port.
const commonSsh = () => [
  '-o',
  `UserKnownHostsFile=${join(state, 'known_hosts')}`,
  '-o',
  'StrictHostKeyChecking=yes',
  '-o',
  'BatchMode=yes',
  '-o',
  'KexAlgorithms=curve25519-sha256',
];
const sshOptions = (h, port) => [
  '-i',
  h.privateKeyPath,
  '-p',
  String(port),
  '-o',
  `HostKeyAlias=${h.address}`,
  ...commonSsh(),
];
async function ansible(hosts, port) {
  const dir = mkdtempSync(join(work, 'ansible-'));
  writeFileSync(
    join(dir, 'ansible.cfg'),
    [
      '[defaults]',
      'host_key_checking = True',
      'interpreter_python = /usr/bin/python3',
      'retry_files_enabled = False',
      `local_tmp = ${dir}/tmp`,
      '[ssh_connection]',
      'pipelining = True',
      `control_path_dir = ${dir}/cp`,
      `ssh_args = -o ControlMaster=auto -o ControlPersist=60s ${commonSsh().join(' ')}`,
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'inventory.ini'),
    [
      '[bench]',
      ...hosts.map(
        (h) =>
          `${h.name} ansible_host=${h.address} ansible_port=${port} ansible_user=root ansible_ssh_private_key_file=${h.privateKeyPath} ansible_ssh_extra_args='-o HostKeyAlias=${h.address}'`,
      ),
    ].join('\n') + '\n',
  );
  writeFileSync(join(dir, 'play.yml'), ansiblePlay(CA));
  const r = await run('ansible-playbook', ['-i', 'inventory.ini', '-f', String(hosts.length), 'play.yml'], {
    cwd: dir,
    env: { ...cleanEnv, ANSIBLE_CONFIG: join(dir, 'ansible.cfg') },
  });
  if (r.code !== 0) throw new Error(`ansible failed:\n${r.out.slice(-3000)}${r.err.slice(-1000)}`);
  return {};
}
async function shellFloor(hosts, port) {
  const rs = await Promise.all(
    hosts.map((h) => floor([...sshOptions(h, port), `root@${h.address}`], h.name, CA, work, cleanEnv)),
  );
  const bad = rs.filter((r) => !r.ok);
  if (bad.length > 0) throw new Error(`floor failed: ${bad[0].err}${bad[0].out.slice(-500)}`);
  return {};
}
/**
 * Ours on hosts that already have a usable Node.js: the runtime the bundle ships, put into
 * /usr/local/bin before the first run (outside the timing), so the deploy sends only the bundle.
 */
let hostNode;
function giveHostsNode(hosts) {
  if (hostNode === undefined) {
    const dir = mkdtempSync(join(work, 'node-'));
    const tar = readdirSync(join(root, 'bundle/dist')).find((f) => f.startsWith('otopi-runtime-'));
    spawnSync('tar', ['-xzf', join(root, 'bundle/dist', tar), '-C', dir]);
    hostNode = join(dir, 'bin/node');
  }
  for (const h of hosts) copyFileSync(hostNode, join(h.rootfs, 'usr/local/bin/node'));
}
const TOOL = { ours, oursnode: ours, ansible, floor: shellFloor };
const CHECK =
  "systemctl is-active -q vdsmd && systemctl is-enabled -q vdsmd && openssl verify -CAfile /etc/pki/vdsm/certs/cacert.pem /etc/pki/vdsm/certs/vdsmcert.pem >/dev/null && iptables -C INPUT -p tcp -m tcp --dport 54321 -j ACCEPT && test -s /etc/iptables/rules.v4 && grep -q 'management_port = 54321' /etc/vdsm/vdsm.conf";
async function check(hosts, who) {
  const bad = (await Promise.all(hosts.map((h) => onHost(h, CHECK)))).filter((r) => r.code !== 0).length;
  if (bad > 0) throw new Error(`${who}: the job is not done on ${bad} of ${hosts.length} hosts`);
}

// ---- main ------------------------------------------------------------------------------------
if (
  TOOLS.includes('ansible') &&
  spawnSync('bash', [join(root, 'test/lab/deps.sh'), '--bench'], { stdio: 'inherit' }).status !== 0
)
  throw new Error('cannot install ansible-core (test/lab/deps.sh --bench)');
// The engine CA, made by `otopi ca sign` (its first use creates it), used by all three tools.
{
  const key = join(work, 'dummy.key');
  spawnSync('openssl', [
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-subj',
    '/CN=x',
    '-out',
    `${key}.csr`,
  ]);
  const r = spawnSync(
    process.execPath,
    [CLI, 'ca', 'sign', '--ca-dir', CA, '--host', 'x', '--organization', 'otopi bench', '--request', `${key}.csr`],
    { env: cleanEnv },
  );
  if (r.status !== 0) throw new Error(`otopi ca sign failed: ${r.stderr}`);
}
const perSize = sizes.reduce((a, b) => a + b, 0);
const results = [];
let delay;
log(
  `machine: ${cpus().length} CPUs, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
try {
  for (const rtt of rtts) {
    lab('down');
    lab('up', String(perSize * TOOLS.length));
    const all = JSON.parse(readFileSync(join(state, 'hosts.json'), 'utf8'));
    // The delaying forwarder also at RTT 0 (no delay): it counts every tool's round trips.
    {
      delay = spawn(
        'node',
        [join(root, 'test/lab/latency.mjs'), String(rtt), String(DELAY_PORT), join(state, 'hosts.json')],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      await new Promise((ok) => delay.stdout.once('data', ok));
      createInterface({ input: delay.stdout }).on('line', (line) => {
        const [word, host, n] = line.split(' ');
        if (word === 'turns') turns.set(host, (turns.get(host) ?? 0) + Number(n));
      });
    }
    const port = DELAY_PORT;
    let offset = 0;
    for (const n of sizes) {
      for (const tool of TOOLS) {
        const hosts = all.slice(offset, offset + n);
        offset += n;
        for (const kind of ['first', 'rerun']) {
          const load = loadavg()[0];
          if (tool === 'oursnode' && kind === 'first') giveHostsNode(hosts);
          const r = await measured(hosts, () => TOOL[tool](hosts, port));
          await check(hosts, `${tool} ${kind}`);
          results.push({ rtt, n, tool, kind, load, ...r });
          log(
            `RTT ${rtt} ms, N=${n}, ${tool} ${kind}: ${(r.wallMs / 1000).toFixed(2)} s, host CPU ${(r.hostCpuMs / n).toFixed(0)} ms/host, ${r.wireRoundTrips} round trips on the wire${r.roundTrips === undefined ? '' : ` (${r.roundTrips} of them the dialog's)`} (load ${load.toFixed(1)})`,
          );
        }
      }
    }
    delay?.kill('SIGTERM');
    delay = undefined;
  }
} finally {
  delay?.kill('SIGTERM');
  if (!values.keep) lab('down');
}

const s = (ms) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);
const get = (rtt, n, tool, kind) =>
  results.find((r) => r.rtt === rtt && r.n === n && r.tool === tool && r.kind === kind);
const lines = [
  '',
  `host-deploy job benchmark: ${cpus().length} CPUs, lab hosts on this machine; ${TOOLS.join(', ')}`,
  '',
  '| RTT | N | run | ours | Ansible | floor | ours ÷ floor | Ansible ÷ ours | host CPU/host: ours, Ansible, floor | controller CPU: ours, Ansible | round trips on the wire: ours (dialog), Ansible, floor | load |',
  '| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const rtt of rtts)
  for (const n of sizes)
    for (const kind of ['first', 'rerun']) {
      const [o, a, f] = ['ours', 'ansible', 'floor'].map((t) => get(rtt, n, t, kind));
      if (o === undefined || f === undefined) continue;
      const per = (r) => (r === undefined ? '-' : `${(r.hostCpuMs / n).toFixed(0)}`);
      lines.push(
        `| ${rtt} ms | ${n} | ${kind} | ${s(o.wallMs)} | ${s(a?.wallMs)} | ${s(f.wallMs)} | ${(o.wallMs / f.wallMs).toFixed(1)}× | ${a === undefined ? '-' : `${(a.wallMs / o.wallMs).toFixed(2)}×`} | ${per(o)} / ${per(a)} / ${per(f)} ms | ${s(o.ctlCpuMs)} / ${s(a?.ctlCpuMs)} | ${o.wireRoundTrips} (${o.roundTrips}), ${a?.wireRoundTrips ?? '-'}, ${f.wireRoundTrips} | ${o.load.toFixed(1)} |`,
      );
    }
const withNode = results.filter((r) => r.tool === 'oursnode');
if (withNode.length > 0) {
  lines.push(
    '',
    'Ours on hosts that already have a usable Node.js (the bundle only is sent):',
    '',
    '| RTT | N | run | ours | floor | ours ÷ floor | sent per host | host CPU/host: ours, floor | load |',
    '| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...withNode.map((o) => {
      const f = get(o.rtt, o.n, 'floor', o.kind);
      return `| ${o.rtt} ms | ${o.n} | ${o.kind} | ${s(o.wallMs)} | ${s(f?.wallMs)} | ${f === undefined ? '-' : `${(o.wallMs / f.wallMs).toFixed(1)}×`} | ${(o.bytes / 1e6).toFixed(2)} MB | ${(o.hostCpuMs / o.n).toFixed(0)} / ${f === undefined ? '-' : (f.hostCpuMs / f.n).toFixed(0)} ms | ${o.load.toFixed(1)} |`;
    }),
  );
}
console.log(lines.join('\n'));
writeFileSync(join(work, 'results.json'), JSON.stringify(results, null, 1));
log(`results: ${join(work, 'results.json')}`);
