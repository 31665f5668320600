// The host-deploy dialog program against a simulated host that speaks the machine dialect's
// command prompt (env-get, env-query, env-query-multi, install, log, quit) and enrolls a
// certificate with the host-deploy group's own key and request code. The host refuses a key
// the base and host-deploy groups do not declare (a real host only warns), so a misspelt key
// fails here.
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkChain } from '../../../plugins/host-deploy/src/_lib/pki/chain.js';
import { certificateRequest, generateHostKey, type HostKey } from '../../../plugins/host-deploy/src/_lib/pki/csr.js';
import { driveDialog, type DialogChannel } from '../src/dialog/driver.js';
import { DEFAULT_ABORT_BOUNDARY as A, DEFAULT_BOUNDARY as B } from '../src/dialog/parser.js';
import type { HostDeployConfig } from '../src/host-deploy/config.js';
import { hostDeployProgram, hostDeployStatements } from '../src/host-deploy/program.js';
import { hostDeployResult } from '../src/host-deploy/result.js';
import { CertificateAuthority } from '../src/pki/ca.js';
import { declaredKeys } from './declared-keys.js';

type Value = string | boolean | number | null | string[];

interface Host {
  readonly channel: DialogChannel;
  /** Commands the engine sent at the customization prompt. */
  readonly commands: string[];
  readonly env: Map<string, Value>;
  /** Keys the engine named that no loaded group declares. */
  readonly refused: string[];
  chain: string | undefined;
  aborted: boolean;
}

/** A host run: customization prompt, then (unless aborted) the enrollment, then the termination prompt. */
function simulatedHost(key: HostKey, initial: Record<string, Value>): Host {
  const out: string[] = [];
  const replies: string[] = [];
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const say = (line: string): void => {
    out.push(line);
    poke();
  };
  const reply = async (): Promise<string> => {
    while (replies.length === 0) await new Promise<void>((r) => (wake = r));
    return replies.shift()!;
  };
  const host: Host = {
    commands: [],
    env: new Map(Object.entries(initial)),
    refused: [],
    chain: undefined,
    aborted: false,
    channel: {
      lines: (async function* () {
        for (;;) {
          while (out.length === 0) await new Promise<void>((r) => (wake = r));
          const line = out.shift()!;
          yield line;
          if (line === '***TERMINATE') return;
        }
      })(),
      send: (line) => {
        replies.push(line);
        poke();
      },
      end: () => undefined,
    },
  };
  const show = (k: string): void => {
    const v = host.env.get(k) ?? null;
    if (Array.isArray(v)) {
      say(`***D:MULTI-STRING ${k} ${B}`);
      v.forEach(say);
      say(B);
    } else
      say(
        `***D:VALUE ${k}=${v === null ? 'none:None' : typeof v === 'boolean' ? `bool:${v ? 'True' : 'False'}` : typeof v === 'number' ? `int:${v}` : `str:${v}`}`,
      );
  };
  const prompt = async (name: string, done: string): Promise<void> => {
    for (;;) {
      say(`***Q:STRING ${name}`);
      const command = await reply();
      if (name === 'CUSTOMIZATION_COMMAND') host.commands.push(command);
      const [verb, , k] = command.split(' ');
      if (command === done) return;
      if (command === 'abort') {
        host.aborted = true;
        return;
      }
      if (verb?.startsWith('env-') === true && !isDeclared(k!)) {
        // As the host's strict keys (BASE/strictKeys) do: refused, and the run fails.
        host.refused.push(k!);
        host.env.set('BASE/error', true);
        say(`***L:ERROR Environment key '${k!}' is not declared by the loaded plugin groups`);
      } else if (verb === 'env-get') show(k!);
      else if (verb === 'env-query') {
        say(`***Q:VALUE ${k!}`);
        const m = /^VALUE ([^=]+)=([a-z-]+):(.*)$/.exec(await reply())!;
        host.env.set(
          m[1]!,
          m[2] === 'none' ? null : m[2] === 'bool' ? m[3] === 'True' : m[2] === 'int' ? Number(m[3]) : m[3]!,
        );
      } else if (verb === 'env-query-multi') {
        say(`***Q:MULTI-STRING ${k!} ${B} ${A}`);
        const lines: string[] = [];
        for (let l = await reply(); l !== B; l = await reply()) lines.push(l);
        host.env.set(k!, lines);
      } else if (verb === 'log') {
        say(`***D:MULTI-STRING LOG ${B}`);
        say('2024-01-01 host log line');
        say(B);
      }
    }
  };
  void (async () => {
    say('***CONFIRM DEPLOY_PROCEED Proceed with ovirt-host-deploy');
    if ((await reply()) !== 'CONFIRM DEPLOY_PROCEED=yes') throw new Error('not confirmed');
    say('***L:INFO Stage: Environment customization');
    await prompt('CUSTOMIZATION_COMMAND', 'install');
    if (host.aborted) host.env.set('BASE/error', true);
    else if (host.env.get('VDSM/certificateEnrollment') === 'inline') {
      say(`***D:MULTI-STRING VDSM_CERTIFICATE_REQUEST ${B}`);
      certificateRequest(key).trimEnd().split('\n').forEach(say);
      say(B);
      say(`***Q:MULTI-STRING VDSM_CERTIFICATE_CHAIN ${B} ${A}`);
      const lines: string[] = [];
      for (let l = await reply(); l !== B; l = await reply()) lines.push(l);
      host.chain = lines.join('\n');
    } else if (host.env.get('VDSM/certificateEnrollment') === 'accept') {
      // Given its chain (VDSM/certificateChain), the host still shows its pending request.
      say(`***D:MULTI-STRING VDSM_CERTIFICATE_REQUEST ${B}`);
      certificateRequest(key).trimEnd().split('\n').forEach(say);
      say(B);
    }
    say('***L:INFO Stage: Pre-termination');
    await prompt('TERMINATION_COMMAND', 'quit');
    say('***TERMINATE');
  })();
  return host;
}

let ca: CertificateAuthority;
let key: HostKey;
let isDeclared: (key: string) => boolean;
beforeAll(async () => {
  [ca, key, isDeclared] = await Promise.all([
    CertificateAuthority.create({ organization: 'Lab' }),
    generateHostKey(2048),
    declaredKeys(['host-deploy']),
  ]);
}, 60_000);

const base = (over: Partial<HostDeployConfig> = {}): HostDeployConfig => ({
  host: { name: 'h1.lab', address: '10.88.0.11' },
  engine: { fqdn: 'engine.lab', address: '10.88.0.1', port: 8080, sshPublicKey: 'ssh-ed25519 AAAAC3Nz engine' },
  pki: { ca },
  firewall: 'default',
  kdump: {},
  correlationId: 'corr-1',
  ...over,
});

const HOST_ENV = {
  'CORE/logFileName': '/tmp/ovirt-host-deploy-1.log',
  'VDSM/vdsmId': 'ID-1',
  'VDSM/ovirt-node': false,
  'VDSM/ovirt-legacy-node': false,
  'KDUMP/supported': false,
  'BASE/error': false,
  'BASE/aborted': false,
  'ODEPLOY/installIncomplete': false,
  'SYSTEM/reboot': false,
};

describe('the host-deploy program', () => {
  it('sends the 4.x customization in order, signs the request, and reads the outcome', async () => {
    const host = simulatedHost(key, HOST_ENV);
    const audit: string[] = [];
    const outcome = await driveDialog(
      host.channel,
      hostDeployProgram(base({ onLog: (level, text) => audit.push(`${level} ${text}`) })),
    );
    expect(host.commands).toEqual([
      'env-get -k CORE/logFileName',
      'env-query -k OVIRT_ENGINE/correlationId',
      'env-query -k SYSTEM/clockSet',
      'env-query -k NETWORK/sshEnable',
      'env-query -k NETWORK/sshUser',
      'env-query -k NETWORK/sshKey',
      'noop',
      'env-query -k GLUSTER/enable',
      'noop',
      'env-get -k VDSM/ovirt-node',
      'env-get -k VDSM/ovirt-legacy-node',
      'env-get -k VDSM/vdsmId',
      'env-query -k VDSM_CONFIG/vars/ssl',
      'env-query -k VDSM_CONFIG/vars/ssl_excludes',
      'noop',
      'noop',
      'env-query -k VDSM_CONFIG/addresses/management_port',
      'env-query -k VDSM/engineHost',
      'env-query -k VDSM/engineAddress',
      'env-query -k VDSM/enginePort',
      'env-query -k VDSM/managementBridgeName',
      'noop',
      'noop',
      'env-query -k VDSM/vdsmMinimumVersion',
      'env-query -k VDSM/checkVirtHardware',
      'env-query -k VIRT/enable',
      'env-query -k VDSM/certificateEnrollment',
      // What the engine would issue: a redeploy keeps a certificate that already is that.
      'env-query -k VDSM/engineCaFingerprint',
      'env-query -k VDSM/certificateNames',
      'env-get -k KDUMP/supported',
      'env-query -k KDUMP/enable',
      'noop',
      'noop',
      'noop',
      'noop',
      'noop',
      'env-query -k NETWORK/iptablesEnable',
      'install',
    ]);
    expect(host.env.get('VDSM_CONFIG/vars/ssl')).toBe('true');
    expect(host.env.get('VDSM/enginePort')).toBe(8080);
    expect(host.env.get('KDUMP/enable')).toBe(false);
    expect(host.env.get('VDSM/managementBridgeName')).toBe('ovirtmgmt');
    // The chain is the CA first, then a certificate for the host's own key.
    const chain = checkChain(host.chain!, key.privateKey);
    expect(new X509Certificate(chain.host).subjectAltName).toBe('DNS:h1.lab, IP Address:10.88.0.11');
    expect(chain.ca.trim()).toBe(ca.pem.trim());
    const result = hostDeployResult(outcome);
    expect(result).toEqual({
      status: 'installed',
      vdsmId: 'ID-1',
      logFile: '/tmp/ovirt-host-deploy-1.log',
      incompleteReasons: [],
      errors: [],
    });
    expect(audit).toContain("INFO Logs at host located at: '/tmp/ovirt-host-deploy-1.log'");
    expect(audit).toContain('WARNING Disabling Kdump integration: the host does not support it');
    expect(host.refused).toEqual([]);
  });

  it('enables kdump only when the host supports it, and sends the engine rules', async () => {
    const host = simulatedHost(key, { ...HOST_ENV, 'KDUMP/supported': true });
    await driveDialog(
      host.channel,
      hostDeployProgram(base({ firewall: { iptablesRules: ['*filter', 'COMMIT'] }, pki: undefined as never })),
    );
    expect(host.env.get('KDUMP/enable')).toBe(true);
    expect(host.env.get('KDUMP/destinationAddress')).toBe('engine.lab');
    expect(host.env.get('KDUMP/destinationPort')).toBe(7410);
    expect(host.env.get('NETWORK/iptablesRules')).toEqual(['*filter', 'COMMIT']);
  });

  it('decides kdump and the firewall in one round trip: later decisions read answers already in', async () => {
    const trips = async (config: HostDeployConfig, env = HOST_ENV): Promise<number> => {
      const host = simulatedHost(key, env);
      const outcome = await driveDialog(host.channel, { ...hostDeployProgram(config), pipeline: true });
      expect(outcome.failures).toEqual([]);
      return outcome.roundTrips;
    };
    const { kdump: _kdump, firewall: _firewall, ...bare } = base();
    const rules = { iptablesRules: ['*filter', 'COMMIT'] };
    const kdump = { ...HOST_ENV, 'KDUMP/supported': true };
    const neither = await trips(bare);
    // kdump's first decision waits for KDUMP/supported; its other three, and the firewall's (on
    // VDSM/ovirt-legacy-node, asked before), go in the same burst.
    expect(await trips(base({ firewall: 'default' }), kdump)).toBe(neither + 1);
    // Without kdump, the firewall's decision waits itself.
    expect(await trips({ ...bare, firewall: 'default' })).toBe(neither + 1);
    // The engine's rules are a list: its lines follow its own question, one more round trip.
    expect(await trips(base({ firewall: rules }), kdump)).toBe(neither + 2);
    expect(await trips({ ...bare, firewall: rules })).toBe(neither + 2);
  });

  it('leaves the firewall of a vintage oVirt Node alone, and says so', async () => {
    const host = simulatedHost(key, { ...HOST_ENV, 'VDSM/ovirt-legacy-node': true });
    const audit: string[] = [];
    await driveDialog(
      host.channel,
      hostDeployProgram(
        base({
          firewall: { iptablesRules: ['*filter', 'COMMIT'] },
          onLog: (level, text) => audit.push(`${level} ${text}`),
        }),
      ),
    );
    expect(host.commands.filter((c) => c.includes('NETWORK/iptables'))).toEqual([]);
    expect(audit).toContain('INFO Host is a vintage oVirt Node (read-only root)');
    expect(audit).toContain('WARNING The host firewall is not configured on a vintage oVirt Node');
  });

  it('lets a host given its chain show its request without a CA, and fails one that was not given it', async () => {
    const accept = { ...HOST_ENV, 'VDSM/certificateEnrollment': 'accept' };
    const given = await driveDialog(
      simulatedHost(key, accept).channel,
      hostDeployProgram(base({ pki: undefined as never, given: new Set(['VDSM/certificateChain']) })),
    );
    expect(hostDeployResult(given).status).toBe('installed');
    const bare = await driveDialog(
      simulatedHost(key, accept).channel,
      hostDeployProgram(base({ pki: undefined as never })),
    );
    expect(hostDeployResult(bare)).toMatchObject({ status: 'failed' });
    expect(hostDeployResult(bare).errors.join('\n')).toContain(
      'The host asked for a certificate, but this deploy has no CA',
    );
  });

  it('aborts the deploy when another host has the same unique id', async () => {
    const host = simulatedHost(key, HOST_ENV);
    const seen: string[] = [];
    const outcome = await driveDialog(
      host.channel,
      hostDeployProgram(
        base({
          checkUniqueId: async (id) => {
            seen.push(id);
            return Promise.resolve('h2.lab');
          },
        }),
      ),
    );
    expect(seen).toEqual(['ID-1']);
    expect(host.aborted).toBe(true);
    expect(host.commands.at(-1)).toBe('abort');
    expect(host.commands).not.toContain('install');
    const result = hostDeployResult(outcome);
    expect(result.status).toBe('failed');
    expect(result.errors).toEqual(['Host h1.lab reports unique id ID-1 which already registered for h2.lab']);
  });

  it('reports an incomplete install with its reasons, and a reboot', async () => {
    const incomplete = simulatedHost(key, {
      ...HOST_ENV,
      'ODEPLOY/installIncomplete': true,
      'ODEPLOY/installIncompleteReasons': ['Certificate enrollment required'],
    });
    const a = hostDeployResult(await driveDialog(incomplete.channel, hostDeployProgram(base())));
    expect(a).toMatchObject({ status: 'incomplete', incompleteReasons: ['Certificate enrollment required'] });
    const reboot = simulatedHost(key, { ...HOST_ENV, 'SYSTEM/reboot': true });
    expect(hostDeployResult(await driveDialog(reboot.channel, hostDeployProgram(base({ reboot: true })))).status).toBe(
      'reboot',
    );
    expect(reboot.env.get('ODEPLOY/forceReboot')).toBe(true);
    const failed = simulatedHost(key, { ...HOST_ENV, 'BASE/error': true });
    expect(hostDeployResult(await driveDialog(failed.channel, hostDeployProgram(base())))).toMatchObject({
      status: 'failed',
      errors: ['Installation failed, please refer to installation logs'],
    });
  });

  it('puts what the host needs before the dialog on the command line', () => {
    expect(hostDeployStatements({ offlinePackager: true, correlationId: 'c-1' })).toEqual([
      'APPEND:BASE/pluginGroups=str:host-deploy',
      'ODEPLOY/offlinePackager=bool:True',
      'OVIRT_ENGINE/correlationId=str:c-1',
    ]);
    expect(hostDeployStatements({})).toEqual(['APPEND:BASE/pluginGroups=str:host-deploy']);
  });

  it('fails when the host has no id', async () => {
    const host = simulatedHost(key, { ...HOST_ENV, 'VDSM/vdsmId': null });
    const result = hostDeployResult(await driveDialog(host.channel, hostDeployProgram(base())));
    expect(result.errors).toEqual(['Cannot acquire node id']);
    expect(host.aborted).toBe(true);
  });

  it('sends only keys the groups declare: a misspelt key is refused and the deploy fails', async () => {
    // Every key of a full customization (kdump supported, rules, kernel, every cluster setting).
    const full = simulatedHost(key, { ...HOST_ENV, 'KDUMP/supported': true });
    const config = base({
      firewall: { iptablesRules: ['*filter', 'COMMIT'] },
      kernel: { cmdlineNew: 'a=1', cmdlineOld: 'b=2' },
      reboot: true,
      connection: { timeoutS: 5, retries: 3 },
      cluster: { tunedProfile: 'virtual-host', sslCiphers: 'HIGH', nmstate: true, vdsmConfig: { 'vars/x': '1' } },
      settings: [{ key: 'ODEPLOY/forceFailStage', value: 'misc' }],
    });
    await driveDialog(full.channel, hostDeployProgram(config));
    expect(full.refused).toEqual([]);
    const misspelt = simulatedHost(key, HOST_ENV);
    const outcome = await driveDialog(
      misspelt.channel,
      hostDeployProgram(base({ settings: [{ key: 'VDSM/engineHots', value: 'engine.lab' }] })),
    );
    expect(misspelt.refused).toEqual(['VDSM/engineHots']);
    expect(hostDeployResult(outcome).status).toBe('failed');
  });
});
