// The base group's systemd provider on a real host: the fixture group enables and starts
// the fake vdsmd through it, and a failed run puts vdsmd back as it was. Also the reboot
// scheduling, with a stand-in reboot program. Host state is read with labExec.
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, hostRootPath, labExec, labHost } from '../lab/lab.js';
import { installCli, runOtopi, type RemoteRun } from './support/remote-cli.js';

const state = async (host: LabHost): Promise<string> => {
  const active = (await labExec(host, ['systemctl', 'is-active', 'vdsmd'])).stdout.trim();
  const enabled = (await labExec(host, ['systemctl', 'is-enabled', 'vdsmd'])).stdout.trim();
  return `${active} ${enabled}`;
};
const ok = (run: RemoteRun): void => expect(run.code, `${run.stdout}\n${run.stderr}\n${run.log.slice(-3000)}`).toBe(0);

describe('services on a lab host (systemd)', () => {
  let h2: LabHost;
  beforeAll(async () => {
    h2 = labHost(HOSTS.baseServices[0]);
    await installCli(h2);
    // vdsm's postinst enables and starts vdsmd; start these tests from stopped and disabled.
    await labExec(
      h2,
      'apt-get -q update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -qy install vdsm >/dev/null && systemctl disable --now vdsmd',
      { check: true },
    );
  });

  it('enables and starts vdsmd', async () => {
    expect(await state(h2)).toBe('inactive disabled');
    const run = await runOtopi(h2, ['BASETEST/serviceUp=multi-str:vdsmd'], { groups: ['basetest'] });
    ok(run);
    expect(run.stdout).toContain('Enabling service vdsmd at boot');
    expect(run.stdout).toContain('Starting service vdsmd');
    expect(await state(h2)).toBe('active enabled');
  });

  it('a second run changes nothing', async () => {
    const run = await runOtopi(h2, ['BASETEST/serviceUp=multi-str:vdsmd'], { groups: ['basetest'] });
    ok(run);
    expect(run.stdout).not.toMatch(/Starting service|Enabling service/);
    expect(await state(h2)).toBe('active enabled');
  });

  it('a failed run puts vdsmd back: stopped and disabled again', async () => {
    await labExec(h2, 'systemctl disable --now vdsmd', { check: true });
    const run = await runOtopi(h2, ['BASETEST/serviceUp=multi-str:vdsmd', 'BASETEST/failAt=str:closeup'], {
      groups: ['basetest'],
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('The run failed: restoring services vdsmd');
    expect(await state(h2)).toBe('inactive disabled');
  });

  it('and a failed stop is undone the other way: running and enabled again', async () => {
    await labExec(h2, 'systemctl enable --now vdsmd', { check: true });
    const run = await runOtopi(h2, ['BASETEST/serviceDown=multi-str:vdsmd', 'BASETEST/failAt=str:misc'], {
      groups: ['basetest'],
    });
    expect(run.code).toBe(1);
    expect(await state(h2)).toBe('active enabled');
  });

  it('rereads unit files only when systemd has an older copy: a new unit starts without one, a changed one gets one', async () => {
    const unit = 'otopi-reload-test.service';
    const writeUnit = (word: string) =>
      writeFile(
        hostRootPath(h2, `etc/systemd/system/${unit}`),
        `[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'echo ${word} > /run/otopi-reload-test'\n`,
      );
    const args = [`BASETEST/serviceReload=multi-str:${unit}`, `BASETEST/serviceStart=multi-str:${unit}`];
    const needsReload = async () =>
      (await labExec(h2, ['systemctl', 'show', '-p', 'NeedDaemonReload', unit])).stdout.trim();
    // Logged under the handler that asked, though the service manager was made at detection.
    const reloads = /basetest\.basetest services \(misc\): execute: \S*systemctl daemon-reload/;

    // systemd has never loaded this unit: it reads it from disk when asked to start it.
    await writeUnit('first');
    const fresh = await runOtopi(h2, args, { groups: ['basetest'] });
    ok(fresh);
    expect(fresh.stdout).toContain(`reload ${unit}: not needed`);
    expect(fresh.log).not.toMatch(/execute: \S*systemctl daemon-reload/);
    expect((await labExec(h2, ['cat', '/run/otopi-reload-test'])).stdout.trim()).toBe('first');

    // Now it is loaded (active, remaining after exit), and its file changes under it.
    await writeUnit('second');
    expect(await needsReload()).toBe('NeedDaemonReload=yes');
    const changed = await runOtopi(h2, args, { groups: ['basetest'] });
    ok(changed);
    expect(changed.stdout).toContain(`reload ${unit}: reread`);
    expect(changed.log).toMatch(reloads);
    expect(await needsReload()).toBe('NeedDaemonReload=no');
    await labExec(
      h2,
      `systemctl stop ${unit}; rm -f /etc/systemd/system/${unit} /run/otopi-reload-test; systemctl daemon-reload`,
    );
  });

  it('clock sync is asked for, but the host has neither chrony nor ntpdate: a warning, and the run goes on', async () => {
    const run = await runOtopi(h2, ['SYSTEM/clockSet=bool:True']);
    ok(run);
    expect(run.stdout).toContain('Cannot synchronise the clock: neither chrony nor ntpdate is installed');
  });

  it('schedules the reboot after the run, only on success, deferred, detached from the session', async () => {
    await writeFile(hostRootPath(h2, 'usr/local/sbin/fake-reboot'), '#!/bin/sh\ndate +%s.%N > /root/rebooted\n', {
      mode: 0o755,
    });
    const failed = await runOtopi(
      h2,
      [
        'SYSTEM/reboot=bool:True',
        'SYSTEM/rebootDeferTime=int:1',
        'COMMAND/reboot=str:/usr/local/sbin/fake-reboot',
        'BASETEST/failAt=str:misc',
      ],
      {
        groups: ['basetest'],
      },
    );
    expect(failed.code).toBe(1);
    await sleep(1500);
    expect((await labExec(h2, ['test', '-e', '/root/rebooted'])).code, 'a failed run must not reboot').toBe(1);
    const run = await runOtopi(
      h2,
      ['SYSTEM/reboot=bool:True', 'SYSTEM/rebootDeferTime=int:2', 'COMMAND/reboot=str:/usr/local/sbin/fake-reboot'],
      { groups: ['basetest'] },
    );
    ok(run);
    const ended = Date.now() / 1000;
    expect(run.stdout).toContain('Reboot scheduled: the host reboots 2 s after this run ends');
    // The SSH session is closed by now; the reboot still comes, and not before its time.
    expect((await labExec(h2, ['test', '-e', '/root/rebooted'])).code).toBe(1);
    let at = '';
    for (let i = 0; i < 50 && at === ''; i++) {
      await sleep(200);
      at = (await labExec(h2, 'cat /root/rebooted 2>/dev/null')).stdout.trim();
    }
    expect(at).not.toBe('');
    expect(Number(at)).toBeGreaterThan(ended + 1);
  });
});
