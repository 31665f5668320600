#!/usr/bin/env node
// `npm run bench:tasks`: `otopi deploy` on 1, 10 and 50 lab hosts, against Ansible doing the
// same task set with forks = N. Brings up its own lab instance (default "depbench" at
// 127.42.9.N; OTOPI_LAB_NAME / OTOPI_LAB_LO_PREFIX to change), runs the built CLI as a user
// would (NODE_EXTRA_CA_CERTS unset: it slows every Node start), and prints per N:
//   - first deploy (empty host cache: bundle + runtime) and repeat no-op deploy: wall time,
//     bytes sent per host, mean per-host time, engine peak RSS, machine CPU busy;
//   - the task set (write a unit file, add an iptables rule, enable the unit) with our deploy
//     and with ansible-playbook (Debian's ansible-core, installed with apt-get when missing),
//     and the controller CPU of both;
//   - the same task set K times over (--copies, default 10: 30 tasks) on --copies-sizes.
// Usage: npm run bench:tasks [-- --sizes 1,10,50] [--copies K] [--copies-sizes 1,10] [--no-ansible] [--keep]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,10,50' },
    // The larger task set: K copies of the three tasks, on these sizes.
    copies: { type: 'string', default: '10' },
    'copies-sizes': { type: 'string', default: '1,10' },
    'no-ansible': { type: 'boolean' },
    keep: { type: 'boolean' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const copies = Number(values.copies);
const copiesSizes = values['copies-sizes'] === '' ? [] : values['copies-sizes'].split(',').map(Number);
const maxN = Math.max(...sizes, ...copiesSizes);
const labEnv = {
  ...process.env,
  OTOPI_LAB_NAME: process.env.OTOPI_LAB_NAME ?? 'depbench',
  OTOPI_LAB_LO_PREFIX: process.env.OTOPI_LAB_LO_PREFIX ?? '127.42.9',
};
const cleanEnv = { ...process.env };
delete cleanEnv.NODE_EXTRA_CA_CERTS;
const work = mkdtempSync(join(tmpdir(), 'otopi-bench-deploy-'));
const CLI = join(root, 'packages/cli/dist/otopi.js');
const PLUGINS = join(root, 'test/bench/fixtures/plugins');
// Copy i of the task set (the fixture group uses the same names): unit, service and rule.
const SERVICE = (i) => (i === 1 ? 'otopi-bench.service' : `otopi-bench-${i}.service`);
const UNIT = (i) => `/etc/systemd/system/${SERVICE(i)}`;
const PORT = (i) => 54320 + i;
const COMMENT = (i) => (i === 1 ? 'otopi-bench' : `otopi-bench-${i}`);
const RULE = (i) => `INPUT -p tcp --dport ${PORT(i)} -j ACCEPT -m comment --comment ${COMMENT(i)}`;
const range = (k) => Array.from({ length: k }, (_, j) => j + 1);

const log = (m) => console.error(`[bench] ${m}`);
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const kb = (n) => `${(n / 1000).toFixed(1)} kB`;
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

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

/** Machine CPU counters, to say how busy the machine was during a run. */
function cpuTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  return { idle, total: f.reduce((a, b) => a + b, 0) };
}
/**
 * CPU time of this process's reaped children, in ms (/proc/self/stat cutime + cstime, in
 * clock ticks of 10 ms). Around one run it is the CPU the controller side used: our CLI, or
 * ansible-playbook with its forks and its ssh clients. The hosts' share is not in it.
 */
function childrenCpuMs() {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}
async function measured(fn) {
  const load = loadavg()[0];
  const c0 = cpuTicks();
  const k0 = childrenCpuMs();
  const t0 = performance.now();
  const result = await fn();
  const wallMs = performance.now() - t0;
  const c1 = cpuTicks();
  const busy = 1 - (c1.idle - c0.idle) / Math.max(1, c1.total - c0.total);
  return { ...result, wallMs, load, busy, controllerCpuMs: childrenCpuMs() - k0 };
}

// ---- the lab -------------------------------------------------------------------------------
function lab(...args) {
  const r = spawnSync('node', [join(root, 'test/lab/lab.mjs'), ...args], {
    env: labEnv,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`lab ${args.join(' ')} failed`);
  return r.stdout.trim();
}
const hostsExec = (hosts, script) =>
  Promise.all(
    hosts.map((h) =>
      run('bash', [join(root, 'test/lab/exec.sh'), String(h.index), 'sh', '-c', script], { env: labEnv }),
    ),
  );

// ---- our deploy ----------------------------------------------------------------------------
function writeInventory(hosts) {
  const file = join(work, `hosts-${hosts.length}.ini`);
  const lines = ['[defaults]', `identity_file = ${hosts[0].privateKeyPath}`];
  for (const h of hosts)
    lines.push(
      `[host ${h.name}]`,
      `address = ${h.address}`,
      `port = ${h.port}`,
      `fingerprint = ${h.hostKeyFingerprint}`,
    );
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}
async function deploy(hosts, statements) {
  const events = join(work, `events-${Date.now()}.jsonl`);
  const r = await measured(() =>
    run(process.execPath, [
      CLI,
      'deploy',
      '-i',
      writeInventory(hosts),
      '--group',
      'benchtasks',
      '--plugin-path',
      PLUGINS,
      '--parallel',
      String(hosts.length),
      '--progress',
      'none',
      '--events',
      events,
      '--log-dir',
      join(work, 'logs'),
      ...statements,
    ]),
  );
  const parsed = readFileSync(events, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const ends = parsed.filter((e) => e.type === 'host-end');
  const runEnd = parsed.find((e) => e.type === 'run-end');
  const failed = ends.filter((e) => e.result !== 'installed');
  if (r.code !== 0 || failed.length > 0)
    throw new Error(
      `deploy failed (exit ${r.code}): ${failed.map((e) => `${e.host}: ${e.cause}`).join('; ')}\n${r.err}`,
    );
  const mean = (f) => ends.reduce((a, e) => a + f(e), 0) / ends.length;
  return {
    wallMs: r.wallMs,
    load: r.load,
    busy: r.busy,
    controllerCpuMs: r.controllerCpuMs,
    bytesPerHost: mean((e) => e.bytes.total),
    hostMs: mean((e) => e.durationMs),
    maxHostMs: Math.max(...ends.map((e) => e.durationMs)),
    rssKb: runEnd.engine.maxRssKb,
    engineCpuMs: runEnd.engine.userMs + runEnd.engine.systemMs,
  };
}

// ---- Ansible --------------------------------------------------------------------------------
function ensureAnsible() {
  if (spawnSync('sh', ['-c', 'command -v ansible-playbook']).status === 0) return true;
  log('ansible-playbook is missing: apt-get install -y ansible-core');
  const r = spawnSync('apt-get', ['install', '-y', '-q', 'ansible-core'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0;
}
function ansibleVersion() {
  return spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
}
async function ansible(hosts, k = 1) {
  const dir = mkdtempSync(join(work, 'ansible-'));
  const known = join(labStateDir(), 'known_hosts');
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
      // Each run starts cold (its own ControlPath folder), as each of our runs opens new connections.
      `control_path_dir = ${dir}/cp`,
      `ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o KexAlgorithms=curve25519-sha256 -o UserKnownHostsFile=${known} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`,
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'inventory.ini'),
    [
      '[bench]',
      ...hosts.map(
        (h) =>
          `${h.name} ansible_host=${h.address} ansible_port=${h.port} ansible_user=${h.user} ansible_ssh_private_key_file=${h.privateKeyPath}`,
      ),
    ].join('\n') + '\n',
  );
  const tasks = range(k).map(
    (i) => `    - ansible.builtin.copy:
        dest: ${UNIT(i)}
        mode: "0644"
        content: |
          [Unit]
          Description=otopi deploy benchmark

          [Service]
          Type=oneshot
          ExecStart=/bin/true

          [Install]
          WantedBy=multi-user.target
    - ansible.builtin.iptables:
        chain: INPUT
        protocol: tcp
        destination_port: "${PORT(i)}"
        jump: ACCEPT
        comment: ${COMMENT(i)}
    - ansible.builtin.systemd:
        name: ${SERVICE(i)}
        enabled: true
        daemon_reload: true
`,
  );
  writeFileSync(join(dir, 'play.yml'), `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks.join('')}`);
  const r = await measured(() =>
    run('ansible-playbook', ['-i', 'inventory.ini', '-f', String(hosts.length), 'play.yml'], {
      cwd: dir,
      env: { ...cleanEnv, ANSIBLE_CONFIG: join(dir, 'ansible.cfg') },
    }),
  );
  if (r.code !== 0)
    throw new Error(`ansible-playbook failed (exit ${r.code}):\n${r.out.slice(-3000)}\n${r.err.slice(-2000)}`);
  return r;
}
function labStateDir() {
  return process.env.OTOPI_LAB_STATE ?? `/var/lib/otopi-lab/${labEnv.OTOPI_LAB_NAME}`;
}

/** Removes every copy of the task set the benchmark can make. */
const RESET_TASKS = [
  ...range(Math.max(1, copies)).map(
    (i) =>
      `rm -f ${UNIT(i)}; systemctl disable ${SERVICE(i)} >/dev/null 2>&1; while iptables -D ${RULE(i)} 2>/dev/null; do :; done`,
  ),
  'systemctl daemon-reload; true',
].join('; ');
const checkScript = (k) =>
  range(k)
    .map((i) => `test -f ${UNIT(i)} && iptables -C ${RULE(i)} && systemctl is-enabled -q ${SERVICE(i)}`)
    .join(' && ');
async function checkTasks(hosts, who, k = 1) {
  const results = await hostsExec(hosts, checkScript(k));
  const bad = results.filter((r) => r.code !== 0).length;
  if (bad > 0) throw new Error(`${who}: the task set is missing on ${bad} of ${hosts.length} hosts`);
}

// ---- main -----------------------------------------------------------------------------------
const withAnsible = !values['no-ansible'] && ensureAnsible();
log(
  `machine: ${cpus().length} CPUs, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; lab instance ${labEnv.OTOPI_LAB_NAME}`,
);
log(`bringing up ${maxN} lab hosts`);
lab('down'); // leftovers of an interrupted run of this instance
lab('up', String(maxN));
const all = JSON.parse(readFileSync(join(labStateDir(), 'hosts.json'), 'utf8'));
const results = [];
const scaled = [];
try {
  for (const n of sizes) {
    const hosts = all.slice(0, n);
    log(`N=${n}: resetting hosts (empty cache, no task state)`);
    await hostsExec(hosts, `rm -rf /var/cache/otopi; ${RESET_TASKS}`);
    const first = await deploy(hosts, []);
    log(`N=${n}: first deploy ${s(first.wallMs)}`);
    const repeat = await deploy(hosts, []);
    log(`N=${n}: repeat no-op ${s(repeat.wallMs)}`);
    const ours = await deploy(hosts, ['BENCH/tasks=bool:True']);
    await checkTasks(hosts, 'otopi deploy');
    log(`N=${n}: task set, ours ${s(ours.wallMs)}`);
    let theirs;
    if (withAnsible) {
      await hostsExec(hosts, RESET_TASKS);
      theirs = await ansible(hosts);
      await checkTasks(hosts, 'ansible');
      log(`N=${n}: task set, ansible ${s(theirs.wallMs)}`);
    }
    results.push({ n, first, repeat, ours, theirs });
  }
  // The larger task set: the same three tasks K times over (3K tasks), fewer sizes.
  for (const n of copies > 1 ? copiesSizes : []) {
    const hosts = all.slice(0, n);
    // Hosts the sizes above did not reach have empty caches: fill them first, outside the timing.
    if (n > Math.max(...sizes)) await deploy(hosts, []);
    await hostsExec(hosts, RESET_TASKS);
    const ours = await deploy(hosts, ['BENCH/tasks=bool:True', `BENCH/copies=int:${copies}`]);
    await checkTasks(hosts, 'otopi deploy', copies);
    log(`N=${n}: ${3 * copies} tasks, ours ${s(ours.wallMs)}`);
    let theirs;
    if (withAnsible) {
      await hostsExec(hosts, RESET_TASKS);
      theirs = await ansible(hosts, copies);
      await checkTasks(hosts, 'ansible', copies);
      log(`N=${n}: ${3 * copies} tasks, ansible ${s(theirs.wallMs)}`);
    }
    scaled.push({ n, ours, theirs });
  }
} finally {
  if (!values.keep) lab('down');
}

const one = results.find((r) => r.n === 1);
/** One Markdown table row. */
const row = (cells) => `| ${cells.join(' | ')} |`;
const lines = [
  '',
  `otopi deploy benchmark: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), lab hosts on this machine; ${withAnsible ? ansibleVersion() : 'Ansible not run'}`,
  '',
  '| N | first deploy | bytes/host first | repeat no-op | bytes/host repeat | mean host time (repeat) | engine peak RSS | CPU busy (repeat) | task set: ours | task set: Ansible | Ansible / ours |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map((r) =>
    row([
      r.n,
      s(r.first.wallMs),
      mb(r.first.bytesPerHost),
      s(r.repeat.wallMs),
      kb(r.repeat.bytesPerHost),
      s(r.repeat.hostMs),
      `${(Math.max(r.first.rssKb, r.repeat.rssKb, r.ours.rssKb) / 1024).toFixed(0)} MB`,
      `${(r.repeat.busy * 100).toFixed(0)} %`,
      s(r.ours.wallMs),
      r.theirs === undefined ? '-' : s(r.theirs.wallMs),
      r.theirs === undefined ? '-' : `${(r.theirs.wallMs / r.ours.wallMs).toFixed(1)}×`,
    ]),
  ),
  '',
  'Controller CPU (the CLI, or ansible-playbook with its forks and ssh clients; not the hosts):',
  '',
  '| N | repeat no-op: ours | task set: ours | task set: Ansible | Ansible / ours | per host, ours | per host, Ansible |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map((r) =>
    row([
      r.n,
      s(r.repeat.controllerCpuMs),
      s(r.ours.controllerCpuMs),
      r.theirs === undefined ? '-' : s(r.theirs.controllerCpuMs),
      r.theirs === undefined ? '-' : `${(r.theirs.controllerCpuMs / Math.max(1, r.ours.controllerCpuMs)).toFixed(1)}×`,
      `${(r.ours.controllerCpuMs / r.n).toFixed(0)} ms`,
      r.theirs === undefined ? '-' : `${(r.theirs.controllerCpuMs / r.n).toFixed(0)} ms`,
    ]),
  ),
  '',
];
if (scaled.length > 0) {
  lines.push(
    `The task set ${copies} times over (${3 * copies} tasks: ${copies} units, ${copies} rules, ${copies} enabled services):`,
    '',
    '| N | ours | Ansible | Ansible / ours | controller CPU: ours | controller CPU: Ansible |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...scaled.map((r) =>
      row([
        r.n,
        s(r.ours.wallMs),
        r.theirs === undefined ? '-' : s(r.theirs.wallMs),
        r.theirs === undefined ? '-' : `${(r.theirs.wallMs / r.ours.wallMs).toFixed(1)}×`,
        s(r.ours.controllerCpuMs),
        r.theirs === undefined ? '-' : s(r.theirs.controllerCpuMs),
      ]),
    ),
    '',
  );
}
if (one !== undefined) {
  lines.push(
    `per-host time of a no-op deploy (N=1, repeat): ${s(one.repeat.hostMs)} (goal < 0.5 s); CLI wall ${s(one.repeat.wallMs)}`,
  );
  for (const r of results.filter((x) => x.n > 1)) {
    lines.push(
      `N=${r.n}: repeat no-op ${s(r.repeat.wallMs)} = ${(r.repeat.wallMs / one.repeat.wallMs).toFixed(1)}× one host (goal < 3×); ${s(r.repeat.wallMs / r.n)} per host; ` +
        `engine CPU ${s(r.repeat.controllerCpuMs)} against ${s(one.repeat.controllerCpuMs)} for one host: ` +
        `${((r.repeat.controllerCpuMs - one.repeat.controllerCpuMs) / (r.n - 1)).toFixed(0)} ms per additional host`,
    );
  }
}
lines.push(
  `load average at the start of each run: ${results.map((r) => `N=${r.n} ${r.repeat.load.toFixed(1)}`).join(', ')}`,
);
console.log(lines.join('\n'));
mkdirSync(join(root, 'test/.artifacts'), { recursive: true });
writeFileSync(
  join(root, 'test/.artifacts/bench-deploy.json'),
  `${JSON.stringify({ cpus: cpus().length, results, copies, scaled }, null, 2)}\n`,
);
if (existsSync(work)) log(`work files (logs, events, inventories) in ${work}`);
