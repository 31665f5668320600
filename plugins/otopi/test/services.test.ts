import { describe, expect, it } from 'vitest';
import { RecordingServices } from '../src/_lib/services/recorder.js';
import { SystemdBackend } from '../src/_lib/services/systemd.js';
import { SysvBackend } from '../src/_lib/services/sysv.js';
import type { ServiceBackend } from '../src/_lib/services/types.js';
import { fakeFs, fakeRunner, fakeSystem, memoryLog } from './helpers.js';

/** An init system in memory: per service, running and boot state; every change is logged in `calls`. */
function memoryBackend(
  initial: Record<string, { running: boolean; boot: string }>,
): ServiceBackend & { state: typeof initial; calls: string[] } {
  const state = structuredClone(initial);
  const calls: string[] = [];
  const set = (verb: string, f: (s: { running: boolean; boot: string }) => void) => (name: string) => {
    calls.push(`${verb} ${name}`);
    f(state[name]!);
    return Promise.resolve();
  };
  return {
    name: 'systemd',
    state,
    calls,
    exists: (n) => Promise.resolve(n in state),
    isRunning: (n) => Promise.resolve(state[n]?.running ?? false),
    bootState: (n) => Promise.resolve(state[n]?.boot ?? 'not-found'),
    start: set('start', (s) => (s.running = true)),
    stop: set('stop', (s) => (s.running = false)),
    restart: set('restart', (s) => (s.running = true)),
    enable: set('enable', (s) => (s.boot = 'enabled')),
    disable: set('disable', (s) => (s.boot = 'disabled')),
    restoreBootState: (n, boot) => {
      calls.push(`restore-boot ${n} ${boot}`);
      state[n]!.boot = boot;
      return Promise.resolve();
    },
    reload: () => Promise.resolve(false),
  };
}

describe('service state restore', () => {
  it('puts every changed service back as it was before the first change, newest first', async () => {
    const backend = memoryBackend({
      vdsmd: { running: false, boot: 'disabled' },
      firewalld: { running: true, boot: 'enabled' },
      sshd: { running: true, boot: 'enabled' },
    });
    const services = new RecordingServices(backend, memoryLog().log, () => false);
    await services.setEnabled('vdsmd', true);
    await services.start('vdsmd');
    await services.restart('vdsmd');
    await services.stop('firewalld');
    await services.setEnabled('firewalld', false);
    await services.start('sshd'); // already running: no change, nothing to restore
    expect(services.changed()).toEqual(['vdsmd', 'firewalld']);
    backend.calls.length = 0;
    expect(await services.restore()).toEqual([]);
    expect(backend.calls).toEqual([
      'restore-boot firewalld enabled',
      'restart firewalld',
      'restore-boot vdsmd disabled',
      'stop vdsmd',
    ]);
    expect(backend.state).toEqual({
      vdsmd: { running: false, boot: 'disabled' },
      firewalld: { running: true, boot: 'enabled' },
      sshd: { running: true, boot: 'enabled' },
    });
    expect(services.changed()).toEqual([]);
  });

  it('restarts a service it restarted, so it reads the restored configuration', async () => {
    const backend = memoryBackend({ vdsmd: { running: true, boot: 'enabled' } });
    const services = new RecordingServices(backend, memoryLog().log, () => false);
    await services.restart('vdsmd');
    backend.calls.length = 0;
    await services.restore();
    expect(backend.calls).toEqual(['restart vdsmd']);
  });

  it('restores only the services asked for, and the rest later', async () => {
    const backend = memoryBackend({ a: { running: false, boot: 'disabled' }, b: { running: false, boot: 'disabled' } });
    const services = new RecordingServices(backend, memoryLog().log, () => false);
    await services.start('a');
    await services.start('b');
    await services.restore(['b']);
    expect(backend.state['b']!.running).toBe(false);
    expect(backend.state['a']!.running).toBe(true);
    expect(services.changed()).toEqual(['a']);
  });

  it('under dry run changes nothing and says what it would do', async () => {
    const backend = memoryBackend({ vdsmd: { running: false, boot: 'disabled' } });
    const { log, text } = memoryLog();
    const services = new RecordingServices(backend, log, () => true);
    await services.start('vdsmd');
    await services.setEnabled('vdsmd', true);
    expect(backend.calls).toEqual([]);
    expect(text()).toContain('Dry run: would start service vdsmd');
    expect(text()).toContain('Dry run: would enable service vdsmd at boot');
  });

  it('keeps restoring the others when one fails, and reports it', async () => {
    const backend = memoryBackend({ a: { running: false, boot: 'disabled' }, b: { running: false, boot: 'disabled' } });
    const services = new RecordingServices(backend, memoryLog().log, () => false);
    await services.start('a');
    await services.start('b');
    backend.stop = (n) =>
      n === 'b' ? Promise.reject(new Error('stuck')) : Promise.resolve(void (backend.state[n]!.running = false));
    expect(await services.restore()).toEqual(['b']);
    expect(backend.state['a']!.running).toBe(false);
  });
});

describe('systemd backend', () => {
  it('reads LoadState, is-active and is-enabled; puts a masked unit back by masking it', async () => {
    let boot = 'enabled';
    const runner = fakeRunner((argv) => {
      const verb = argv[1];
      if (verb === 'show') return { stdout: argv[4] === 'vdsmd' ? 'LoadState=loaded\n' : 'LoadState=not-found\n' };
      if (verb === 'is-active') return { code: 3 };
      if (verb === 'is-enabled') return { stdout: `${boot}\n`, code: boot === 'enabled' ? 0 : 1 };
      if (verb === 'unmask') boot = 'disabled';
      if (verb === 'mask') boot = 'masked';
      return undefined;
    });
    const systemd = new SystemdBackend(fakeSystem(runner));
    expect(await systemd.exists('vdsmd')).toBe(true);
    expect(await systemd.exists('nosuch')).toBe(false);
    expect(await systemd.isRunning('vdsmd')).toBe(false);
    expect(await systemd.bootState('vdsmd')).toBe('enabled');
    await systemd.restoreBootState('vdsmd', 'masked');
    expect(runner.commands().slice(-1)).toEqual(['systemctl mask vdsmd']);
  });

  it('rereads unit files for named units only when systemd has an older copy of one of them', async () => {
    let stale = new Set<string>();
    const runner = fakeRunner((argv) =>
      argv[1] === 'show'
        ? {
            stdout: argv
              .slice(4)
              .map((u) => `NeedDaemonReload=${stale.has(u) ? 'yes' : 'no'}\n`)
              .join('\n'),
          }
        : undefined,
    );
    const systemd = new SystemdBackend(fakeSystem(runner));
    expect(await systemd.reload(['new.service', 'other.service'])).toBe(false);
    stale = new Set(['other.service']);
    expect(await systemd.reload(['new.service', 'other.service'])).toBe(true);
    expect(await systemd.reload([])).toBe(false);
    expect(await systemd.reload()).toBe(true);
    expect(runner.commands()).toEqual([
      'systemctl show --property=NeedDaemonReload -- new.service other.service',
      'systemctl show --property=NeedDaemonReload -- new.service other.service',
      'systemctl daemon-reload',
      'systemctl daemon-reload',
    ]);
  });

  it('rereads anyway when systemd cannot say whether a unit changed', async () => {
    const runner = fakeRunner((argv) =>
      argv[1] === 'show' ? { code: 1, stderr: 'Failed to connect to bus' } : undefined,
    );
    const systemd = new SystemdBackend(fakeSystem(runner));
    expect(await systemd.reload(['x.service'])).toBe(true);
    expect(runner.commands().at(-1)).toBe('systemctl daemon-reload');
  });

  it('names the service and where to look when a change fails', async () => {
    const runner = fakeRunner((argv) =>
      argv[1] === 'start'
        ? { code: 1, stderr: 'Job for vdsmd.service failed because the control process exited with error code.' }
        : undefined,
    );
    await expect(new SystemdBackend(fakeSystem(runner)).start('vdsmd')).rejects.toThrow(
      "Failed to start service 'vdsmd': Job for vdsmd.service failed because the control process exited with error code.",
    );
  });
});

describe('SysV backend', () => {
  it('works without initctl and chkconfig: service to run, update-rc.d for boot links', async () => {
    const runner = fakeRunner((argv) => (argv.includes('status') ? { code: 3 } : undefined));
    const sys = fakeSystem(runner, ['initctl', 'chkconfig']);
    const fs = fakeFs({ '/etc/init.d': ['vdsmd'], '/etc/rc2.d': ['K01vdsmd'], '/etc/rc3.d': [] }, [
      '/etc/init.d/vdsmd',
    ]);
    const sysv = new SysvBackend(sys, fs);
    expect(await sysv.exists('vdsmd')).toBe(true);
    expect(await sysv.isRunning('vdsmd')).toBe(false);
    expect(await sysv.bootState('vdsmd')).toBe('disabled');
    await sysv.start('vdsmd');
    await sysv.enable('vdsmd');
    expect(runner.commands()).toEqual([
      'service vdsmd status',
      'service vdsmd start',
      'update-rc.d vdsmd defaults',
      'update-rc.d vdsmd enable',
    ]);
  });

  it('runs the script directly when there is no service command, and uses chkconfig on EL', async () => {
    const runner = fakeRunner(() => undefined);
    const sys = fakeSystem(runner, ['initctl', 'service', 'update-rc.d']);
    const fs = fakeFs({ '/etc/rc.d/init.d': ['vdsmd'], '/etc/rc.d/rc3.d': ['S50vdsmd'] }, ['/etc/rc.d/init.d/vdsmd']);
    const sysv = new SysvBackend(sys, fs);
    expect(await sysv.bootState('vdsmd')).toBe('enabled');
    await sysv.stop('vdsmd');
    await sysv.disable('vdsmd');
    expect(runner.commands()).toEqual(['vdsmd stop', 'chkconfig vdsmd off']);
  });

  it('says what to install when it cannot change boot links', async () => {
    const sysv = new SysvBackend(
      fakeSystem(
        fakeRunner(() => undefined),
        ['update-rc.d', 'chkconfig', 'initctl'],
      ),
      fakeFs({}, ['/etc/init.d/x']),
    );
    await expect(sysv.enable('x')).rejects.toThrow(
      "Cannot enable service 'x' at boot: neither update-rc.d nor chkconfig is installed",
    );
  });
});
