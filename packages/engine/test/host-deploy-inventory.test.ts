// `otopi deploy --group host-deploy` from an inventory: the host-deploy fields and their errors,
// the CA and the vdsm id registry prepared before any host is contacted, and the program each
// host gets (its statements, the settings the user gave winning, the conclusion for the report).
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DialogOutcome, Displayed, Step } from '../src/dialog/driver.js';
import { EngineError } from '../src/errors.js';
import { VdsmIdRegistry } from '../src/host-deploy/id-registry.js';
import { prepareHostDeploy } from '../src/host-deploy/inventory-program.js';
import { loadInventory } from '../src/inventory/inventory.js';
import type { GroupProgram } from '../src/orchestrate/program.js';

const FP = 'SHA256:nyy4aw4uErD4+bTG3Q9CfVsy8skLJpffLdWMgett6j8';

function inventory(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'otopi-hd-inventory-'));
  writeFileSync(join(dir, 'id_ed25519'), 'not really a key\n', { mode: 0o600 });
  const file = join(dir, 'hosts.ini');
  writeFileSync(file, `[defaults]\nidentity_file = id_ed25519\nfingerprint = ${FP}\n${text}`);
  chmodSync(file, 0o600);
  return { dir, file };
}

function failure(run: () => unknown): EngineError {
  try {
    run();
  } catch (error) {
    if (error instanceof EngineError) return error;
    throw error;
  }
  throw new Error('no error');
}

const outcome = (shown: Record<string, string>, over: Partial<DialogOutcome> = {}): DialogOutcome => ({
  hostError: false,
  hostAborted: false,
  failures: [],
  terminated: true,
  lastStage: 'Termination',
  displayed: new Map<string, Displayed>(Object.entries(shown).map(([k, v]) => [k, { type: 'str', value: v }])),
  hostLogLines: 10,
  roundTrips: 3,
  ...over,
});

const context = (given: string[] = [], notes: string[] = []) => ({
  groups: ['host-deploy'],
  dryRun: false,
  log: (text: string) => notes.push(text),
  givenKeys: new Set(given),
});

const setSteps = (program: GroupProgram): Record<string, unknown> =>
  Object.fromEntries(
    (program.customization ?? []).flatMap((s: Step) => (s.kind === 'set' ? [[s.key, s.value] as const] : [])),
  );

describe('host-deploy fields in the inventory', () => {
  it('reads the engine, CA, firewall, bridge and vdsm settings, [defaults] first', () => {
    const { file } = inventory(
      [
        'engine_fqdn = engine.lab',
        'engine_address = 10.88.0.1',
        'engine_port = 8080',
        'organization = Lab',
        'ca_dir = ca',
        'check_virt_hardware = false',
        '',
        '[host h1]',
        'address = 127.0.0.1',
        'host_fqdn = h1.lab',
        'management_bridge = none',
        'correlation_id = batch-7',
        'vdsm_config = vars/fake_nics = dummy_*',
        '    irs/repository = /rhev',
      ].join('\n'),
    );
    const [h1] = loadInventory(file, { env: {} }).hosts;
    expect(h1!.hostDeploy).toEqual({
      engine_fqdn: 'engine.lab',
      engine_address: '10.88.0.1',
      engine_port: 8080,
      organization: 'Lab',
      ca_dir: 'ca',
      check_virt_hardware: false,
      host_fqdn: 'h1.lab',
      management_bridge: 'none',
      correlation_id: 'batch-7',
      vdsm_config: { 'vars/fake_nics': 'dummy_*', 'irs/repository': '/rhev' },
    });
    expect(h1!.fieldLines?.['engine_port']).toBe(6);
  });

  it('names file, line, host and field of a bad value, and suggests a misspelt field', () => {
    const port = failure(() => loadInventory(inventory('engine_port = 70000\n[host h1]\n').file, { env: {} }));
    expect(port).toMatchObject({ code: 'INVENTORY_INVALID', line: 4, field: 'engine_port', host: 'h1' });
    expect(port.message).toMatch(
      /hosts\.ini:4: host h1: engine_port: expected a port number from 1 to 65535 \(got '70000'\)$/,
    );
    const config = failure(() => loadInventory(inventory('[host h1]\nvdsm_config = ssl true\n').file, { env: {} }));
    expect(config.message).toContain(
      "vdsm_config: expected 'section/key = value' lines, e.g. 'vars/ssl = true' (got 'ssl true')",
    );
    const typo = failure(() => loadInventory(inventory('[host h1]\nengine_fdqn = engine.lab\n').file, { env: {} }));
    expect(typo).toMatchObject({
      code: 'INVENTORY_INVALID',
      field: 'engine_fdqn',
      hint: "did you mean 'engine_fqdn'?",
    });
    const bridge = failure(() =>
      loadInventory(inventory('[host h1]\nmanagement_bridge = a-very-long-bridge-name\n').file, { env: {} }),
    );
    expect(bridge.message).toContain('at most 15 characters');
  });
});

describe('prepareHostDeploy', () => {
  it('refuses a host without engine_fqdn, and rules with firewall = none, before anything is contacted', async () => {
    const none = loadInventory(inventory('[host h1]\n').file, { env: {} }).hosts;
    await expect(prepareHostDeploy(none)).rejects.toMatchObject({
      code: 'INVENTORY_INVALID',
      field: 'engine_fqdn',
      hint: "add 'engine_fqdn = engine.example.com' to [defaults] or the host's section",
    });
    const { dir, file } = inventory('engine_fqdn = e.lab\n[host h1]\nfirewall = none\nfirewall_rules = rules.txt\n');
    writeFileSync(join(dir, 'rules.txt'), '-A INPUT -j ACCEPT\n');
    await expect(prepareHostDeploy(loadInventory(file, { env: {} }).hosts)).rejects.toMatchObject({
      code: 'INVENTORY_INVALID',
      line: 7,
      field: 'firewall_rules',
    });
  });

  it('creates the CA in ca_dir (0700), and gives each host a program with its statements and conclusion', async () => {
    const { dir, file } = inventory(
      [
        'engine_fqdn = engine.lab',
        'engine_port = 8080',
        'organization = Lab',
        'ca_dir = ca',
        'correlation_id = batch-7',
        'firewall_rules = rules.txt',
        '[host h1]',
        'address = 192.0.2.11',
        'offline_packager = yes',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'rules.txt'), '*filter\n-A INPUT -p tcp --dport @VDSM_PORT@ -j ACCEPT\nCOMMIT\n');
    const notes: string[] = [];
    const hosts = loadInventory(file, { env: {} }).hosts;
    const run = await prepareHostDeploy(hosts, { onNote: (t) => notes.push(t) });
    expect(run.caDirs).toEqual([join(dir, 'ca')]);
    expect(statSync(join(dir, 'ca')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'ca', 'ca.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'ca', 'ca.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(notes).toEqual([`created a CA (O=Lab) in ${join(dir, 'ca')}`]);

    const log: string[] = [];
    const program = await run.factory(hosts[0]!, context(['VDSM/enginePort'], log));
    expect(program.statements).toEqual([
      'ODEPLOY/offlinePackager=bool:True',
      'OVIRT_ENGINE/correlationId=str:batch-7',
      // Answered up front, saving a round trip; not when the inventory answers it itself.
      'QUESTION/1/DIALOG_CONFIRM/DEPLOY_PROCEED=str:yes',
    ]);
    const sets = setSteps(program);
    // The user's VDSM/enginePort (sent by the base program) wins: the program leaves it alone.
    expect(sets['VDSM/enginePort']).toBeUndefined();
    expect(sets).toMatchObject({
      'VDSM/engineHost': 'engine.lab',
      'VDSM/certificateEnrollment': 'inline',
      'NETWORK/iptablesEnable': true,
      'NETWORK/iptablesRules': ['*filter', '-A INPUT -p tcp --dport @VDSM_PORT@ -j ACCEPT', 'COMMIT'],
    });
    // No prolog: the base program already asks the log file name.
    expect(program.customization?.[0]).toEqual({ kind: 'set', key: 'SYSTEM/clockSet', value: true });

    expect(program.conclude?.(outcome({ 'VDSM/vdsmId': 'id-1' }), 'installed')).toEqual({
      details: [],
      facts: { vdsmId: 'id-1' },
    });
    expect(
      program.conclude?.(outcome({ 'VDSM/vdsmId': 'id-1', 'ODEPLOY/installIncomplete': 'True' }, {}), 'installed'),
    ).toMatchObject({ result: 'incomplete', details: ['the installation is incomplete'] });
    expect(program.conclude?.(outcome({ 'SYSTEM/reboot': 'True' }), 'installed')).toMatchObject({ result: 'reboot' });
    expect(program.conclude?.(outcome({ 'VDSM/vdsmId': 'id-1' }), 'failed')).toEqual({ facts: { vdsmId: 'id-1' } });
  });

  it('signs nothing and loads no CA with certificate = none', async () => {
    const { dir, file } = inventory('engine_fqdn = e.lab\nca_dir = ca\ncertificate = none\n[host h1]\n');
    const hosts = loadInventory(file, { env: {} }).hosts;
    const run = await prepareHostDeploy(hosts);
    expect(run.caDirs).toEqual([]);
    expect(() => statSync(join(dir, 'ca'))).toThrow();
    expect(setSteps(await run.factory(hosts[0]!, context()))['VDSM/certificateEnrollment']).toBeUndefined();
  });
});

describe('the vdsm id registry', () => {
  it('lets one host hold an id: the second claimant is told who holds it, the same host may claim again', async () => {
    const registry = VdsmIdRegistry.inMemory();
    expect(await registry.claim('id-1', 'h1')).toBeUndefined();
    expect(await registry.claim('id-1', 'h2')).toBe('h1');
    expect(await registry.claim('id-1', 'h1')).toBeUndefined();
    expect(registry.holder('id-1')).toBe('h1');
  });

  it('refuses a host whose id the registry file gives another host, and adds a host when it claims its id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otopi-ids-'));
    const file = join(dir, 'vdsm-ids');
    writeFileSync(file, '# registered\nid-old old-host\n');
    const { file: inv } = inventory('engine_fqdn = e.lab\ncertificate = none\n[host h1]\n[host h2]\n');
    const hosts = loadInventory(inv, { env: {} }).hosts;
    const run = await prepareHostDeploy(hosts, { idRegistryFile: file });
    expect(await run.registry.claim('id-old', 'h1', { persist: true })).toBe('old-host');
    expect(await run.registry.claim('id-new', 'h2', { persist: true })).toBeUndefined();
    expect(await run.registry.claim('id-new', 'h2', { persist: true })).toBeUndefined();
    expect(await run.registry.claim('id-dry', 'h1')).toBeUndefined();
    expect(readFileSync(file, 'utf8')).toBe('# registered\nid-old old-host\nid-new h2\n');

    const fresh = join(dir, 'new-registry');
    const registry = VdsmIdRegistry.load(fresh);
    await registry.record('id-a', 'h1');
    expect(readFileSync(fresh, 'utf8')).toMatch(/^# vdsm ids of deployed hosts.*\nid-a h1\n$/);
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
  });

  it('names the line of a malformed entry, and of an id listed for two hosts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otopi-ids-'));
    const file = join(dir, 'vdsm-ids');
    writeFileSync(file, 'id-1 h1\nid-2\n');
    expect(failure(() => VdsmIdRegistry.load(file))).toMatchObject({ code: 'VDSM_ID_REGISTRY', line: 2 });
    writeFileSync(file, 'id-1 h1\nid-1 h2\n');
    expect(failure(() => VdsmIdRegistry.load(file)).message).toContain(':2: id id-1 is listed for h1 and for h2');
  });
});
