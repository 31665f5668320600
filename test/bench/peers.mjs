// The host-deploy job as the benchmark's peers do it, on the same lab hosts as ours:
//   - Ansible (Debian's ansible-core): a playbook;
//   - the floor: one SSH session running a shell script that does the job with cheap checks first.
// The job: vdsm from the lab repo (ovirt-host), /etc/vdsm/vdsm.conf with a backup of the previous
// one, the oVirt default iptables rules persistent (a file and a unit that loads it at boot) and
// live, a host key and a request made on the host and signed by the engine's CA (the CA folder of
// `otopi deploy --ca-dir`), vdsmd enabled and running. Every step is skipped when already done.
import { Buffer } from 'node:buffer';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const VDSM_CONF =
  '[vars]\nssl = true\nssl_excludes = OP_NO_TLSv1,OP_NO_TLSv1_1\n\n[addresses]\nmanagement_port = 54321\n';
const PORTS = [
  'tcp 54321',
  'tcp 54322',
  'tcp 111',
  'udp 111',
  'tcp 22',
  'udp 161',
  'tcp 9090',
  'tcp 16514',
  'tcp 2223',
  'tcp 5900:6923',
  'tcp 49152:49216',
];
export const RULES = [
  '*filter',
  ':INPUT ACCEPT [0:0]',
  ':FORWARD ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  '-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT',
  '-A INPUT -p icmp -j ACCEPT',
  '-A INPUT -i lo -j ACCEPT',
  ...PORTS.map((p) => `-A INPUT -p ${p.split(' ')[0]} -m ${p.split(' ')[0]} --dport ${p.split(' ')[1]} -j ACCEPT`),
  '-A INPUT -j REJECT --reject-with icmp-host-prohibited',
  '-A FORWARD -m physdev ! --physdev-is-bridged -j REJECT --reject-with icmp-host-prohibited',
  'COMMIT',
  '',
].join('\n');
const UNIT = `[Unit]
Description=Load the iptables rules
DefaultDependencies=no
Before=network-pre.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/iptables-restore /etc/iptables/rules.v4
[Install]
WantedBy=multi-user.target
`;

/** Signs a request with the CA of `otopi deploy --ca-dir` (openssl on the managing machine). */
export function signWithCa(caDir, csrPem, name, work) {
  const dir = mkdtempSync(join(work, 'sign-'));
  writeFileSync(join(dir, 'req.pem'), csrPem);
  writeFileSync(join(dir, 'ext'), `subjectAltName=DNS:${name}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      join(dir, 'req.pem'),
      '-CA',
      join(caDir, 'ca.pem'),
      '-CAkey',
      join(caDir, 'ca.key'),
      '-CAcreateserial',
      '-CAserial',
      join(dir, 'serial'),
      '-days',
      '398',
      '-subj',
      `/O=otopi bench/CN=${name}`,
      '-extfile',
      join(dir, 'ext'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  return readFileSync(join(dir, 'cert.pem'), 'utf8');
}

/** The floor's script: the job with cheap checks first; the request goes out and the chain comes back on the same session. */
export function floorScript(name) {
  const b64 = (s) => Buffer.from(s).toString('base64');
  return `set -e
export DEBIAN_FRONTEND=noninteractive
if ! dpkg-query -W -f='\${Status}' ovirt-host 2>/dev/null | grep -q 'ok installed'; then
  apt-get update -q >/dev/null && apt-get install -y -q ovirt-host >/dev/null
fi
changed=
mkdir -p /etc/vdsm /etc/iptables
echo ${b64(VDSM_CONF)} | base64 -d > /tmp/vdsm.conf.new
if ! cmp -s /tmp/vdsm.conf.new /etc/vdsm/vdsm.conf; then
  [ -e /etc/vdsm/vdsm.conf ] && cp -p /etc/vdsm/vdsm.conf /etc/vdsm/vdsm.conf.$(date +%s)
  mv /tmp/vdsm.conf.new /etc/vdsm/vdsm.conf; changed=1
fi
echo ${b64(RULES)} | base64 -d > /tmp/rules.new
if ! cmp -s /tmp/rules.new /etc/iptables/rules.v4; then
  install -m 600 /tmp/rules.new /etc/iptables/rules.v4; iptables-restore < /etc/iptables/rules.v4
fi
echo ${b64(UNIT)} | base64 -d > /tmp/unit.new
if ! cmp -s /tmp/unit.new /etc/systemd/system/otopi-iptables.service; then
  mv /tmp/unit.new /etc/systemd/system/otopi-iptables.service; systemctl daemon-reload; systemctl enable -q otopi-iptables
fi
d=/etc/pki/vdsm
if ! openssl x509 -checkend 2592000 -noout -in $d/certs/vdsmcert.pem >/dev/null 2>&1; then
  mkdir -p $d/keys $d/certs
  [ -s $d/keys/vdsmkey.pem ] || openssl genrsa -out $d/keys/vdsmkey.pem 2048 2>/dev/null
  openssl req -new -key $d/keys/vdsmkey.pem -subj /CN=${name}
  echo END-REQUEST
  : > /tmp/chain.pem
  while IFS= read -r line && [ "$line" != END-CHAIN ]; do echo "$line" >> /tmp/chain.pem; done
  openssl x509 -in /tmp/chain.pem -out $d/certs/cacert.pem
  sed -n '/BEGIN/h; /BEGIN/,/END/{/BEGIN/!H}; \${x;p}' /tmp/chain.pem > $d/certs/vdsmcert.pem
  changed=1
fi
systemctl is-enabled -q vdsmd || systemctl enable -q vdsmd
if ! systemctl is-active -q vdsmd; then systemctl start vdsmd; elif [ -n "$changed" ]; then systemctl restart vdsmd; fi
echo DONE
`;
}

/** Runs the floor on one host: one ssh, the script as its command, the chain answered on its stdin. */
export function floor(sshArgs, name, caDir, work, env) {
  return new Promise((done) => {
    const script = floorScript(name);
    const child = spawn(
      'ssh',
      [...sshArgs, `echo ${Buffer.from(script).toString('base64')} | base64 -d > /tmp/floor.sh && sh /tmp/floor.sh`],
      { env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      const end = out.indexOf('END-REQUEST\n');
      if (end >= 0 && !out.includes('\u0000sent')) {
        const csr = out.slice(out.indexOf('-----BEGIN'), end);
        out += '\u0000sent';
        const cert = signWithCa(caDir, csr, name, work);
        child.stdin.write(`${readFileSync(join(caDir, 'ca.pem'), 'utf8').trim()}\n${cert.trim()}\nEND-CHAIN\n`);
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => done({ code, ok: code === 0 && out.includes('DONE'), out, err }));
  });
}

/** The same job as an Ansible playbook; the request is signed on the controller (delegate_to localhost). */
export function ansiblePlay(caDir) {
  const indent = (s, n) =>
    s
      .trimEnd()
      .split('\n')
      .map((l) => `${' '.repeat(n)}${l}`)
      .join('\n');
  return `- hosts: all
  gather_facts: false
  tasks:
    # The hosts have no python3-apt (only the lab repo), which ansible.builtin.apt needs.
    - ansible.builtin.shell: |
        dpkg-query -W -f='\${Status}' ovirt-host 2>/dev/null | grep -q 'ok installed' && exit 0
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ovirt-host && echo changed
      register: pkg
      changed_when: "'changed' in pkg.stdout"
    - ansible.builtin.copy:
        dest: /etc/vdsm/vdsm.conf
        backup: true
        content: |
${indent(VDSM_CONF, 10)}
      register: conf
    - ansible.builtin.file: { path: /etc/iptables, state: directory }
    - ansible.builtin.copy:
        dest: /etc/iptables/rules.v4
        mode: "0600"
        content: |
${indent(RULES, 10)}
      register: rules
    - ansible.builtin.shell: iptables-restore < /etc/iptables/rules.v4
      when: rules.changed
    - ansible.builtin.copy:
        dest: /etc/systemd/system/otopi-iptables.service
        content: |
${indent(UNIT, 10)}
    - ansible.builtin.systemd: { name: otopi-iptables, enabled: true, daemon_reload: true }
    - ansible.builtin.command: openssl x509 -checkend 2592000 -noout -in /etc/pki/vdsm/certs/vdsmcert.pem
      register: valid
      failed_when: false
      changed_when: false
    - when: valid.rc != 0
      block:
        - ansible.builtin.file: { path: /etc/pki/vdsm/keys, state: directory }
        - ansible.builtin.file: { path: /etc/pki/vdsm/certs, state: directory }
        - ansible.builtin.shell: test -s /etc/pki/vdsm/keys/vdsmkey.pem || openssl genrsa -out /etc/pki/vdsm/keys/vdsmkey.pem 2048
        - ansible.builtin.command: openssl req -new -key /etc/pki/vdsm/keys/vdsmkey.pem -subj /CN={{ inventory_hostname }}
          register: csr
        - ansible.builtin.shell: |
            d=$(mktemp -d); printf '%s\\n' "$CSR" > $d/req.pem
            printf 'subjectAltName=DNS:{{ inventory_hostname }}\\nextendedKeyUsage=serverAuth,clientAuth\\n' > $d/ext
            openssl x509 -req -in $d/req.pem -CA ${caDir}/ca.pem -CAkey ${caDir}/ca.key -CAcreateserial -CAserial $d/serial -days 398 -subj '/O=otopi bench/CN={{ inventory_hostname }}' -extfile $d/ext 2>/dev/null
          environment: { CSR: "{{ csr.stdout }}" }
          delegate_to: localhost
          register: cert
        - ansible.builtin.copy: { dest: /etc/pki/vdsm/certs/vdsmcert.pem, content: "{{ cert.stdout }}\\n" }
        - ansible.builtin.copy: { dest: /etc/pki/vdsm/certs/cacert.pem, src: ${caDir}/ca.pem }
    - ansible.builtin.systemd: { name: vdsmd, enabled: true, state: started }
    - ansible.builtin.systemd: { name: vdsmd, state: restarted }
      when: conf.changed or (valid.rc != 0)
`;
}
