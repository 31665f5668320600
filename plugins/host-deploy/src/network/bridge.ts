/**
 * The management bridge (VDSM/managementBridgeName, default ovirtmgmt) on the device that
 * carries the traffic to the engine. Planned at validation, while the network is still as it
 * was: the engine's address is resolved and tried there. At misc the persistent files and the
 * live change join the main transaction; the commit checks that the engine still answers and
 * rolls everything back when it does not.
 */
import { lookup } from 'node:dns/promises';
import { existsSync, readdirSync } from 'node:fs';
import { FileTransaction, OtopiError, definePlugin, type HandlerContext } from '@otopi/core';
import { VdsmEnv } from '../_lib/keys.js';
import { ManagementBridge } from '../_lib/network/bridge-element.js';
import { describePlan, planBridge, type BridgePlan } from '../_lib/network/discover.js';
import { INTERFACES_D } from '../_lib/network/ifupdown.js';
import { tcpConnect } from '../_lib/network/reach.js';
import { realSystem } from '../_lib/system.js';
import { COMMANDS } from '../_lib/tokens.js';

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** The engine's address: VDSM/engineAddress, else the first address of VDSM/engineHost that answers. */
async function engineAddress(ctx: HandlerContext): Promise<{ address: string; reachable: boolean } | null> {
  const { env, log } = ctx;
  const port = env.get(VdsmEnv.enginePort);
  const timeoutMs = env.get(VdsmEnv.connectionTimeout) * 1000;
  const given = env.get(VdsmEnv.engineAddress);
  const host = env.get(VdsmEnv.engineHost);
  let candidates: string[];
  if (given !== null && given !== '') candidates = [given];
  else if (host !== null && host !== '') {
    try {
      candidates = (await lookup(host, { all: true })).map((a) => a.address);
    } catch (error) {
      throw new OtopiError('ENV_BAD_VALUE', `Cannot resolve the engine host '${host}': ${(error as Error).message}`, {
        key: VdsmEnv.engineHost.key,
      });
    }
  } else return null;
  for (const address of candidates) {
    const result = await tcpConnect(address, port, timeoutMs);
    if (result === 'ok') return { address, reachable: true };
    log.debug(`engine address ${address}:${port}: ${result}`);
  }
  log.warn(
    `The engine (${candidates.join(', ')}) does not answer on port ${port}: the bridge is made without checking the engine afterwards`,
  );
  return { address: candidates[0]!, reachable: false };
}

export default definePlugin({
  env: [VdsmEnv],
  setup(plugin) {
    let plan: BridgePlan | null = null;
    let checkAfter = false;
    plugin.on({
      name: 'programs',
      stage: 'setup',
      run: ({ providers }) => {
        for (const p of ['ip', 'nmcli']) providers.get(COMMANDS).detect(p);
      },
    });
    plugin.on({
      name: 'validation',
      stage: 'validation',
      condition: ({ env }) => (env.get(VdsmEnv.managementBridgeName) ?? '') !== '',
      run: async (ctx) => {
        const { env, log, providers } = ctx;
        const bridge = env.get(VdsmEnv.managementBridgeName)!;
        if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge))
          throw new OtopiError(
            'ENV_BAD_VALUE',
            `'${bridge}' is not a valid interface name (1-15 letters, digits, _ . -)`,
            { key: VdsmEnv.managementBridgeName.key },
          );
        const engine = await engineAddress(ctx);
        if (engine === null) {
          log.info(`No VDSM/engineHost or VDSM/engineAddress: the management bridge ${bridge} is not made`);
          return;
        }
        env.set(VdsmEnv.engineAddress, engine.address);
        checkAfter = engine.reachable;
        const commands = providers.get(COMMANDS);
        const sys = realSystem(log, (n) => commands.find(n));
        if (sys.which('ip') === null)
          throw new OtopiError('COMMAND_MISSING', 'The management bridge needs iproute2 (ip)', {
            hint: 'Install iproute2 (iproute on EL).',
          });
        const result = await planBridge({ sys, bridge, engineAddress: engine.address, list, exists: existsSync });
        if (result.kind === 'skip') {
          log.info(`Management bridge: ${result.reason}`);
          return;
        }
        plan = result.plan;
        log.info(describePlan(plan));
        if (plan.persistence === 'none')
          log.warn(
            `The bridge ${bridge} will not survive a reboot: no NetworkManager, ifcfg or ifupdown configuration of ${plan.nic.name} was found`,
          );
        if (plan.addresses.some((a) => a.dynamic))
          log.warn(
            `${plan.nic.name} has addresses from DHCP or SLAAC: they move as they are; the persistent configuration asks for them again on ${bridge}`,
          );
      },
    });
    plugin.on({
      name: 'configure',
      stage: 'misc',
      condition: () => plan !== null,
      run: async ({ env, log, providers, transaction }) => {
        const p = plan!;
        for (const file of p.files)
          await transaction.append(
            new FileTransaction({
              path: file.path,
              content: file.content,
              mode: 0o644,
              // A backup left in interfaces.d would be read at the next boot, with the stanzas
              // it replaced: ifup then fails on the interface both files define.
              backup: !file.path.startsWith(`${INTERFACES_D}/`),
              log,
            }),
          );
        const commands = providers.get(COMMANDS);
        const reach = checkAfter
          ? {
              port: env.get(VdsmEnv.enginePort),
              timeoutS: env.get(VdsmEnv.connectionTimeout),
              attempts: env.get(VdsmEnv.connectionRetries),
              connect: tcpConnect,
            }
          : null;
        await transaction.append(
          new ManagementBridge(
            p,
            realSystem(log, (n) => commands.find(n)),
            reach,
            transaction,
          ),
        );
      },
    });
  },
});
