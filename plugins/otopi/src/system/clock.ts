/**
 * Clock synchronisation at misc, only when SYSTEM/clockSet is True: wait for chrony when
 * it runs (`chronyc waitsync`), else step the clock once with ntpdate, then save it to the
 * hardware clock. A clock that cannot be synchronised is a warning, as in otopi.
 */
import { definePlugin } from '@otopi/core';
import { SystemEnv } from '../_lib/keys.js';
import { systemRunner, type SystemAccess } from '../_lib/runner.js';
import { COMMANDS } from '../_lib/tokens.js';

async function chronySync(sys: SystemAccess, chronyc: string, maxWait: number): Promise<boolean> {
  // Is chronyd there to ask? (`tracking` fails at once when it is not.)
  const tracking = await sys.run([chronyc, '-n', 'tracking'], { log: sys.log, allowFailure: true, timeoutMs: 10_000 });
  if (tracking.code !== 0) return false;
  // waitsync <tries> <max correction s> <max skew ppm, 0 = any> <interval s>
  const r = await sys.run([chronyc, 'waitsync', String(maxWait), '0.1', '0', '1'], {
    log: sys.log,
    allowFailure: true,
    timeoutMs: (maxWait + 10) * 1000,
  });
  return r.code === 0;
}

export default definePlugin({
  env: [SystemEnv],
  setup(plugin) {
    plugin.on({
      name: 'programs',
      stage: 'setup',
      run: ({ providers }) => {
        for (const p of ['chronyc', 'ntpdate', 'hwclock']) providers.get(COMMANDS).detect(p);
      },
    });
    plugin.on({
      name: 'setClock',
      stage: 'misc',
      condition: ({ env }) => env.get(SystemEnv.clockSet),
      run: async ({ env, log, providers, dryRun }) => {
        const commands = providers.get(COMMANDS);
        const sys: SystemAccess = { run: systemRunner, log, which: (n) => commands.find(n) };
        const maxWait = env.get(SystemEnv.clockMaxWait);
        const chronyc = commands.find('chronyc');
        const ntpdate = commands.find('ntpdate');
        if (dryRun) {
          log.info(
            `Dry run: would synchronise the clock with ${chronyc !== null ? 'chrony' : ntpdate !== null ? 'ntpdate' : 'nothing (neither chrony nor ntpdate is installed)'}`,
          );
          return;
        }
        let synced = false;
        let how = '';
        if (chronyc !== null && (await chronySync(sys, chronyc, maxWait))) {
          synced = true;
          how = 'chrony';
        } else if (ntpdate !== null) {
          const servers = env.get(SystemEnv.clockServers);
          const r = await sys
            .run([ntpdate, '-u', '-b', ...servers], { log, allowFailure: true, timeoutMs: maxWait * 1000 })
            .catch(() => null);
          synced = r?.code === 0;
          how = `ntpdate (${servers.join(', ')})`;
        }
        if (!synced) {
          log.warn(
            chronyc === null && ntpdate === null
              ? 'Cannot synchronise the clock: neither chrony nor ntpdate is installed'
              : `Could not synchronise the clock within ${maxWait} s${how === '' ? ' (chronyd is not running)' : ` with ${how}`}`,
          );
          return;
        }
        log.info(`Clock synchronised with ${how}`);
        const hwclock = commands.find('hwclock');
        if (hwclock !== null) {
          const r = await sys.run([hwclock, '--systohc'], { log, allowFailure: true });
          if (r.code !== 0) log.warn('Could not save the time to the hardware clock (hwclock --systohc failed)');
        }
      },
    });
  },
});
