/**
 * Reboot after a successful run, when SYSTEM/reboot asks and SYSTEM/rebootAllow lets it.
 * Announced at closeup; at the reboot stage (after terminate, success only) it is handed
 * to systemd as a transient timer, or to a detached process elsewhere, so it fires
 * SYSTEM/rebootDeferTime seconds later, after the manager has collected the log.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Priority, definePlugin, exec, type HandlerContext } from '@otopi/core';
import { SystemEnv } from '../_lib/keys.js';
import { COMMANDS } from '../_lib/tokens.js';

const wanted = ({ env }: HandlerContext): boolean => env.get(SystemEnv.reboot) && env.get(SystemEnv.rebootAllow);

/** A detached Node process that waits, then runs the reboot program; it outlives us and the SSH session. */
function detachedReboot(reboot: string, seconds: number): void {
  const script = `setTimeout(() => require('node:child_process').spawn(${JSON.stringify(reboot)}, { stdio: 'ignore', detached: true }).unref(), ${seconds * 1000});`;
  spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore' }).unref();
}

export default definePlugin({
  env: [SystemEnv],
  setup(plugin) {
    plugin.on({
      name: 'programs',
      stage: 'setup',
      run: ({ providers }) => {
        for (const p of ['reboot', 'systemd-run']) providers.get(COMMANDS).detect(p);
      },
    });
    plugin.on({
      name: 'announce',
      stage: 'closeup',
      priority: Priority.LAST,
      condition: wanted,
      run: ({ env, log, providers }) => {
        providers.get(COMMANDS).get('reboot'); // fails now, with the key to set, rather than after terminate
        log.info(`Reboot scheduled: the host reboots ${env.get(SystemEnv.rebootDeferTime)} s after this run ends`);
      },
    });
    plugin.on({
      name: 'reboot',
      stage: 'reboot',
      condition: wanted,
      run: async (ctx) => {
        const { env, providers, dryRun } = ctx;
        const commands = providers.get(COMMANDS);
        const reboot = commands.get('reboot');
        const seconds = env.get(SystemEnv.rebootDeferTime);
        if (dryRun) {
          ctx.log.debug(`Dry run: no reboot (would run ${reboot} in ${seconds} s)`);
          return;
        }
        const systemdRun = commands.find('systemd-run');
        if (systemdRun !== null && existsSync('/run/systemd/system')) {
          await exec(
            [
              systemdRun,
              `--on-active=${Math.max(seconds, 1)}s`,
              '--timer-property=AccuracySec=1s',
              `--unit=otopi-reboot-${Date.now()}`,
              '--description=Reboot requested by otopi',
              reboot,
            ],
            { log: ctx.log },
          );
        } else detachedReboot(reboot, seconds);
        ctx.log.debug(`Reboot handed over: ${reboot} in ${seconds} s`);
      },
    });
  },
});
