#!/usr/bin/env node
// The deploy part of `npm run demo` (test/demo/run.sh prepares everything first): writes an inventory
// for the demo's lab host from the lab's hosts.json, runs `otopi deploy --group host-deploy` as a
// user would (live progress on this terminal), then reads back from the host, through the lab's
// exec helper (nsenter, not the SSH path the deploy used), what it got.
// Usage: node test/demo/demo.mjs OUT_DIR [START_SECONDS]
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const out = resolve(process.argv[2] ?? join(root, 'test/demo/.out'));
const shellStarted = Number(process.argv[3] ?? 0);
const started = performance.now();
const elapsed = () => `${(shellStarted + (performance.now() - started) / 1000).toFixed(0)}s`;
const bold = (t) => (process.stdout.isTTY ? `\x1b[1m${t}\x1b[0m` : t);
const step = (t) => console.log(`\n${bold(`== ${t}`)} (${elapsed()})`);
const lab = process.env.OTOPI_LAB_NAME ?? 'demo';
const state = process.env.OTOPI_LAB_STATE ?? `/var/lib/otopi-lab/${lab}`;
const [host] = JSON.parse(readFileSync(join(state, 'hosts.json'), 'utf8'));
const ENGINE = { fqdn: 'engine.demo', address: '10.88.0.1', port: 8080 };

/** Runs a command inside the lab host (test/lab/exec.sh: nsenter, no SSH). */
function onHost(cmd) {
  const r = spawnSync('bash', [join(root, 'test/lab/exec.sh'), String(host.index), 'sh', '-c', cmd], {
    encoding: 'utf8',
  });
  return `${r.stdout}${r.stderr}`.trimEnd();
}
const indent = (text) =>
  text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

step(`inventory for ${host.name} (${host.address}, ${host.labAddress} on the lab switch)`);
// The lab host stands in for a Debian server whose network is configured with ifupdown, so the
// management bridge is made persistent there too.
onHost(
  `test -s /etc/network/interfaces || { mkdir -p /etc/network && printf 'auto lo\\niface lo inet loopback\\n\\nauto eth0\\niface eth0 inet static\\n    address ${host.labAddress}/24\\n' > /etc/network/interfaces; }`,
);
mkdirSync(out, { recursive: true });
const inventory = join(out, 'inventory.ini');
writeFileSync(
  inventory,
  `# Written by npm run demo from ${join(state, 'hosts.json')}. docs/deploy.md and docs/host-deploy.md explain every field.
[defaults]
identity_file = ${host.privateKeyPath}
# The "engine": the lab switch. The host's management bridge is made towards it, and after the
# bridge is up the host checks the engine still answers on this port (the lab's package server).
engine_fqdn = ${ENGINE.fqdn}
engine_address = ${ENGINE.address}
engine_port = ${ENGINE.port}
# The demo CA signs the host's certificate (created on the first run).
organization = otopi demo
ca_dir = ca
# The oVirt default firewall rules, and the default management bridge.
firewall = default
management_bridge = ovirtmgmt
# Lab hosts are containers: no /dev/kvm.
check_virt_hardware = false

[host ${host.name}]
address = ${host.address}
fingerprint = ${host.hostKeyFingerprint}
host_fqdn = ${host.name}.demo
correlation_id = demo-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}
`,
);
chmodSync(inventory, 0o600);
console.log(indent(readFileSync(inventory, 'utf8').trimEnd()));

const args = [
  join(root, 'packages/cli/dist/otopi.js'),
  'deploy',
  '--inventory',
  inventory,
  '--group',
  'host-deploy',
  '--bundle',
  join(out, 'bundle'),
  '--log-dir',
  join(out, 'logs'),
  '--vdsm-id-registry',
  join(out, 'vdsm-ids'),
  '--events',
  join(out, 'events.jsonl'),
];
step(`otopi deploy --inventory ${inventory} --group host-deploy --bundle ${join(out, 'bundle')} ...`);
const deploy = spawnSync(process.execPath, args, { stdio: 'inherit' });
const events = existsSync(join(out, 'events.jsonl'))
  ? readFileSync(join(out, 'events.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l))
  : [];
const report = events.find((e) => e.type === 'host-end' && e.host === host.name);

step(`what ${host.name} got (read back through the lab's exec helper, not SSH)`);
const show = (title, cmd) => console.log(`  ${bold(title)}\n${indent(onHost(cmd))}`);
show('packages', "dpkg-query -W -f '${Package} ${Version}\\n' ovirt-host vdsm vdsm-client ovirt-imageio-daemon 2>&1");
show(
  'files',
  'ls -l /etc/vdsm/vdsm.conf /etc/vdsm/vdsm.id /etc/pki/vdsm/certs/*.pem /etc/pki/vdsm/keys/vdsmkey.pem /etc/pki/libvirt/clientcert.pem /etc/iptables/rules.v4 /etc/network/interfaces 2>&1 | sed "s/^\\([^ ]* \\)[^ ]* /\\1/"; echo; echo "/etc/vdsm/vdsm.conf:"; cat /etc/vdsm/vdsm.conf',
);
show(
  'management bridge',
  'ip -br addr show ovirtmgmt; ip -o link show master ovirtmgmt | cut -d" " -f2-3; grep -A4 "iface ovirtmgmt" /etc/network/interfaces',
);
show('firewall (iptables -S INPUT)', 'iptables -S INPUT');
show(
  'certificates',
  'openssl verify -CAfile /etc/pki/vdsm/certs/cacert.pem /etc/pki/vdsm/certs/vdsmcert.pem; openssl x509 -noout -subject -issuer -enddate -ext subjectAltName -in /etc/pki/vdsm/certs/vdsmcert.pem | grep -v "X509v3"; stat -c "%n %a %U:%G" /etc/pki/vdsm/keys/vdsmkey.pem',
);
show('vdsmd', 'echo "$(systemctl is-enabled vdsmd), $(systemctl is-active vdsmd)"; vdsm-client 2>&1');

step('where things are');
const logDir = join(out, 'logs');
console.log(
  [
    `  result           ${report === undefined ? 'unknown (no host-end event)' : `${report.result} at ${report.stage}${report.cause === undefined ? '' : `: ${report.cause}`}`}`,
    `  deploy log       ${report?.log ?? logDir}  (the dialog transcript, then the host's own log)`,
    `  host's log       ${report?.hostLogFile ?? '-'} on ${host.name} (fetched into the deploy log, then removed there)`,
    `  event stream     ${join(out, 'events.jsonl')}`,
    `  demo CA          ${join(out, 'ca')}  (ca.pem, ca.key: sign by hand with otopi ca sign --ca-dir ${join(out, 'ca')} --host NAME < request.pem)`,
    `  vdsm ids         ${join(out, 'vdsm-ids')}`,
    `  the host         ssh -F ${join(state, 'ssh_config')} ${host.name}`,
    '',
    '  The warnings are those of a lab container: no SMBIOS UUID, no tuned, no chrony (docs/host-deploy.md).',
    `  Run it again (npm run demo): the second deploy finds everything in place and changes nothing.`,
    `  Tear the lab host down: npm run demo -- --down`,
    `    (or: OTOPI_LAB_NAME=${lab} OTOPI_LAB_LO_PREFIX=${process.env.OTOPI_LAB_LO_PREFIX ?? '127.42.20'} npm run lab -- down)`,
    `  The demo took ${elapsed()}.`,
  ].join('\n'),
);
process.exitCode = deploy.status ?? 1;
