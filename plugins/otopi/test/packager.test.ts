import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transaction, isOtopiError } from '@otopi/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AptBackend, type ToolSettings } from '../src/_lib/packager/apt.js';
import { DnfBackend } from '../src/_lib/packager/dnf.js';
import { OfflineBackend } from '../src/_lib/packager/offline.js';
import { withKeepAlive } from '../src/_lib/packager/progress.js';
import { PackagerService, PackagesElement } from '../src/_lib/packager/service.js';
import { fakeRunner, fakeSystem, memoryLog, type FakeRunner } from './helpers.js';

const settings = (over: Partial<ToolSettings> = {}): ToolSettings & { slept: number[] } => {
  const slept: number[] = [];
  return {
    sleep: (ms) => (slept.push(ms), Promise.resolve()),
    keepAliveS: 0,
    lockTimeoutS: 20,
    lockRetryS: 5,
    refresh: true,
    slept,
    ...over,
  };
};

/** A dpkg database the fake apt-get changes, so snapshots before and after differ as on a host. */
function fakeDpkg(
  initial: Record<string, string>,
  configOnly: string[] = [],
): { runner: FakeRunner; db: Map<string, string> } {
  const db = new Map(Object.entries(initial));
  const rc = new Set(configOnly);
  const repo: Record<string, string[]> = {
    vdsm: ['4.50.2-1', '4.50.1-1'],
    'vdsm-client': ['4.50.2-1', '4.50.1-1'],
    'ovirt-host': ['4.5.0-1'],
  };
  const runner = fakeRunner((argv) => {
    const [prog, ...args] = [argv[0]!.slice(argv[0]!.lastIndexOf('/') + 1), ...argv.slice(1)];
    if (prog === 'dpkg-query') {
      const lines = [...db]
        .map(([n, v]) => `${n}\t${v}\tamd64\tii `)
        .concat([...rc].map((n) => `${n}\t1.0\tamd64\trc `));
      return { stdout: `${lines.join('\n')}\n` };
    }
    if (prog === 'apt-cache') {
      return {
        stdout: args
          .slice(1)
          .map(
            (n) =>
              `${n}:\n  Installed: ${db.get(n) ?? '(none)'}\n  Candidate: ${repo[n]?.[0] ?? '(none)'}\n  Version table:\n${(repo[n] ?? []).map((v) => `     ${v} 500\n        500 http://10.88.0.1:8080 ./ Packages\n`).join('')}`,
          )
          .join(''),
      };
    }
    if (prog === 'apt-get') {
      const verb = args[0];
      const names = args.filter(
        (a) => !a.startsWith('-') && !a.includes('::') && a !== verb && a !== 'Dpkg::Use-Pty=0',
      );
      if (verb === 'install') {
        for (const spec of names) {
          const [n, v] = spec.split('=') as [string, string | undefined];
          db.set(n, v ?? repo[n]![0]!);
          rc.delete(n);
          if (n === 'ovirt-host') {
            db.set('vdsm', repo['vdsm']![0]!);
            db.set('vdsm-client', repo['vdsm-client']![0]!);
          }
        }
      }
      if (verb === 'purge') {
        for (const n of names) {
          db.delete(n);
          rc.delete(n);
        }
      }
      if (verb === 'remove') for (const n of names) if (db.delete(n)) rc.add(n);
    }
    return undefined;
  });
  return { runner, db };
}

function aptService(runner: FakeRunner, s = settings()) {
  const sys = fakeSystem(runner);
  const backend = new AptBackend(sys, s);
  const elements = {
    internal: new PackagesElement(backend, sys.log, () => true, 'internal'),
    main: new PackagesElement(backend, sys.log, () => true, 'main'),
  };
  return { service: new PackagerService(backend, elements, sys.log), elements, sys };
}

describe('apt packager', () => {
  it('installs the queue with one apt-get call, noninteractive, and reports what changed', async () => {
    const { runner, db } = fakeDpkg({ bash: '5.2' });
    const { service, sys } = aptService(runner);
    service.install(['ovirt-host']);
    service.install(['vdsm']);
    await service.process('main', false);
    const aptCalls = runner.calls.filter((c) => c.argv[0]!.endsWith('apt-get'));
    expect(runner.commands().filter((c) => c.startsWith('apt-get'))).toEqual([
      'apt-get update -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -o Dpkg::Use-Pty=0',
      'apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -o Dpkg::Use-Pty=0 ovirt-host vdsm',
    ]);
    expect(aptCalls[1]!.env).toMatchObject({ DEBIAN_FRONTEND: 'noninteractive' });
    expect(db.get('vdsm')).toBe('4.50.2-1');
    expect(sys.logText()).toContain('Packages: installed ovirt-host 4.5.0-1, vdsm 4.50.2-1, vdsm-client 4.50.2-1');
  });

  it('says "no changes" when everything is already installed', async () => {
    const { runner } = fakeDpkg({ vdsm: '4.50.2-1' });
    const { service, sys } = aptService(runner);
    service.install(['vdsm']);
    await service.process('main', false);
    expect(sys.logText()).toContain('Packages: no changes');
  });

  it('undoes on abort: purges new packages, removes (not purges) ones whose conffiles were there, downgrades upgrades', async () => {
    const { runner, db } = fakeDpkg({ 'vdsm-client': '4.50.1-1' }, ['vdsm']);
    const { service, elements } = aptService(runner);
    service.install(['ovirt-host']);
    await service.process('main', false);
    expect(db.get('vdsm-client')).toBe('4.50.2-1');
    runner.calls.length = 0;
    await elements.main.abort();
    expect(
      runner
        .commands()
        .filter((c) => c.startsWith('apt-get'))
        .map((c) => c.replace(/ -y -q.*Dpkg::Use-Pty=0/, '')),
    ).toEqual([
      'apt-get purge ovirt-host',
      'apt-get remove vdsm',
      'apt-get install --allow-downgrades vdsm-client=4.50.1-1',
    ]);
    expect([...db]).toEqual([['vdsm-client', '4.50.1-1']]);
    // A second abort has nothing left to undo.
    runner.calls.length = 0;
    await elements.main.abort();
    expect(runner.calls).toEqual([]);
  });

  it('reports upgrades it cannot undo because the old version is gone', async () => {
    const { runner } = fakeDpkg({ vdsm: '4.49.0-1' });
    const { service, elements, sys } = aptService(runner);
    service.update(['vdsm']);
    await service.process('main', false);
    await elements.main.rollback();
    expect(sys.logText()).toContain('vdsm stays at 4.50.2-1: no repository offers 4.49.0-1 any more');
  });

  it('retries while another process holds the dpkg lock, saying so, then succeeds', async () => {
    let held = 2;
    const runner = fakeRunner((argv) =>
      argv[0]!.endsWith('apt-get') && argv[1] === 'install' && held-- > 0
        ? {
            code: 100,
            stderr: 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 777 (unattended-upgr)',
          }
        : undefined,
    );
    const s = settings({ refresh: false });
    const { service, sys } = aptService(runner, s);
    service.install(['vdsm']);
    await service.process('main', false);
    expect(s.slept).toEqual([5000, 5000]);
    expect(sys.logText()).toContain(
      'another process holds the package manager lock (process 777, unattended-upgr); retrying in 5 s (waited 0 of 20 s)',
    );
  });

  it('gives up on a lock held too long, with a hint', async () => {
    const runner = fakeRunner((argv) =>
      argv[1] === 'install'
        ? { code: 100, stderr: 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 9' }
        : undefined,
    );
    const s = settings({ refresh: false, lockTimeoutS: 12 });
    const { service } = aptService(runner, s);
    service.install(['vdsm']);
    const error = await service.process('main', false).catch((e: unknown) => e);
    expect(isOtopiError(error, 'HANDLER_FAILED')).toBe(true);
    expect((error as Error).message).toBe(
      'Installing vdsm: the package manager lock is still held (process 9) after 12 s',
    );
    expect(s.slept).toEqual([5000, 5000, 2000]);
  });

  it('after a failure that changed nothing, does not claim everything is in place', async () => {
    const runner = fakeRunner((argv) =>
      argv[1] === 'install' ? { code: 100, stderr: 'E: Unable to locate package nosuch' } : undefined,
    );
    const { service, sys } = aptService(runner, settings({ refresh: false }));
    service.install(['nosuch']);
    await expect(service.process('main', false)).rejects.toThrow();
    expect(sys.logText()).toContain('Packages: no changes (apt failed before changing anything)');
    expect(sys.logText()).not.toContain('everything requested is already in place');
  });

  it('under dry run only simulates, and the element shows it', async () => {
    const runner = fakeRunner((argv) =>
      argv.includes('-s')
        ? { stdout: 'Inst vdsm (4.50.2-1 lab:./ [amd64])\nConf vdsm (4.50.2-1 lab:./ [amd64])\n' }
        : undefined,
    );
    const { service, elements } = aptService(runner);
    service.install(['vdsm']);
    await service.process('main', true);
    expect(runner.commands().some((c) => c.startsWith('apt-get install'))).toBe(false);
    expect(elements.main.dryRun()).toBe('install vdsm 4.50.2-1\n');
  });

  it('refuses to queue after the stage has run', async () => {
    const { service } = aptService(fakeRunner(() => undefined));
    await service.process('main', false);
    expect(() => service.install(['late'])).toThrow(/Too late to install late: the packages stage has run/);
  });

  it('compares versions with dpkg rules', () => {
    const { service } = aptService(fakeRunner(() => undefined));
    expect(service.compare('1.0~rc1-1', '1.0-1')).toBe(-1);
    expect(service.compare('1:0.9-1', '2.0-1')).toBe(1);
  });
});

describe('dnf packager', () => {
  it('installs with --best and undoes with history undo of the new transactions, newest first', async () => {
    let history = [5];
    const runner = fakeRunner((argv) => {
      if (argv[1] === 'history' && argv[2] === 'list')
        return {
          stdout: `ID | Command line | Date | Action | Altered\n${history.map((id) => `  ${id} | x | 2024 | Install | 1`).join('\n')}\n`,
        };
      if (argv[1] === '-y' && argv[2] === 'install') history = [7, 6, 5];
      return undefined;
    });
    const sys = fakeSystem(runner);
    const backend = new DnfBackend('dnf', sys, settings({ refresh: false }));
    const marker = await backend.undoMarker();
    await backend.apply([{ action: 'install', packages: ['vdsm'] }]);
    expect(
      await backend.undo(
        { installed: [], upgraded: [], downgraded: [], removed: [] },
        { versions: new Map(), configOnly: new Set() },
        marker,
      ),
    ).toEqual([]);
    expect(runner.commands().filter((c) => c.startsWith('dnf -y'))).toEqual([
      'dnf -y install --best vdsm',
      'dnf -y history undo 7',
      'dnf -y history undo 6',
    ]);
  });

  it('yum uses update for updates and has no --best', async () => {
    const runner = fakeRunner(() => undefined);
    const backend = new DnfBackend('yum', fakeSystem(runner), settings({ refresh: false }));
    await backend.apply([
      { action: 'update', packages: ['vdsm'] },
      { action: 'install', packages: ['x'] },
    ]);
    expect(runner.commands().filter((c) => c.startsWith('yum'))).toEqual(['yum -y install x', 'yum -y update vdsm']);
  });

  it('updates only what is installed: dnf upgrade fails when nothing named is', async () => {
    const runner = fakeRunner((argv) =>
      argv[0]!.endsWith('rpm') && argv[1] === '-q'
        ? { code: 1, stdout: 'vdsm-4.50.1-1.noarch\npackage vdsm-client is not installed\n' }
        : undefined,
    );
    const backend = new DnfBackend('dnf', fakeSystem(runner), settings({ refresh: false }));
    await backend.apply([{ action: 'update', packages: ['vdsm', 'vdsm-client', 'ovirt-*'] }]);
    await backend.apply([{ action: 'update', packages: ['vdsm-client'] }]);
    expect(runner.commands().filter((c) => c.startsWith('dnf -y'))).toEqual(['dnf -y upgrade --best vdsm ovirt-*']);
  });

  it('dnf 4 gets exit_on_lock, so a held lock is retried and bounded as with apt', async () => {
    let held = 2;
    const runner = fakeRunner((argv) => {
      if (argv[1] === '--version') return { stdout: '4.14.0\n' };
      if (argv.includes('install') && held-- > 0)
        return {
          code: 200,
          stderr: 'RPMDB already locked by 1815\n  The application with PID 1815 is: sleep\n    State  : Sleeping\n',
        };
      return undefined;
    });
    const { log, text } = memoryLog();
    const s = settings({ refresh: false });
    const backend = new DnfBackend('dnf', { ...fakeSystem(runner), log }, s);
    await backend.apply([{ action: 'install', packages: ['vdsm'] }]);
    expect(runner.commands().filter((c) => c.includes('install'))).toEqual(
      Array(3).fill('dnf --setopt=exit_on_lock=True -y install --best vdsm'),
    );
    expect(text()).toContain('another process holds the package manager lock (process 1815, sleep); retrying in 5 s');
    expect(s.slept).toEqual([5000, 5000]);
  });

  it('dnf 5 and yum get no exit_on_lock (dnf 5 fails at once on a held lock; yum is not checked)', async () => {
    const runner = fakeRunner((argv) => (argv[1] === '--version' ? { stdout: 'dnf5 version 5.2.6.2\n' } : undefined));
    await new DnfBackend('dnf', fakeSystem(runner), settings({ refresh: false })).apply([
      { action: 'install', packages: ['vdsm'] },
    ]);
    await new DnfBackend('yum', fakeSystem(runner), settings({ refresh: false })).apply([
      { action: 'install', packages: ['vdsm'] },
    ]);
    expect(runner.commands().filter((c) => c.includes('install'))).toEqual([
      'dnf -y install --best vdsm',
      'yum -y install vdsm',
    ]);
  });

  it('dry run: the resolved transaction with the versions before, newest available versions first', async () => {
    const runner = fakeRunner((argv) => {
      if (argv.includes('--assumeno'))
        return {
          code: 1,
          stdout:
            'Dependencies resolved.\n====\n Package  Architecture Version Repository Size\n====\nInstalling:\n vdsm-client   noarch   4.50.2-1   otopi-lab   6.1 k\nUpgrading:\n vdsm   noarch   4.50.2-1   otopi-lab   6.6 k\n\nTransaction Summary\n====\n',
          stderr: 'Operation aborted.\n',
        };
      if (argv[0]!.endsWith('rpm'))
        return { code: 1, stdout: 'vdsm\t4.50.1-1\tnoarch\npackage vdsm-client is not installed\n' };
      if (argv.includes('list'))
        return {
          stdout:
            'Available Packages\nvdsm.noarch   4.50.1-1   otopi-lab\nvdsm.noarch   4.50.10-1   otopi-lab\nvdsm.noarch   4.50.2-1   otopi-lab\n',
        };
      return undefined;
    });
    const backend = new DnfBackend('dnf', fakeSystem(runner), settings({ refresh: false }));
    expect(await backend.simulate([{ action: 'install', packages: ['vdsm-client'] }])).toBe(
      'install vdsm-client.noarch 4.50.2-1\nupgrade vdsm.noarch 4.50.1-1 → 4.50.2-1',
    );
    expect((await backend.queryAvailable(['vdsm'], { allVersions: true })).map((p) => p.version)).toEqual([
      '4.50.10-1',
      '4.50.2-1',
      '4.50.1-1',
    ]);
  });

  it('check-update: exit 100 lists updates, exit 0 none', async () => {
    const runner = fakeRunner((argv) =>
      argv.includes('check-update')
        ? { code: 100, stdout: '\nvdsm.x86_64   4.50.2-1.el9   ovirt\n' }
        : argv[0]!.endsWith('rpm')
          ? { stdout: 'vdsm\t4.50.1-1.el9\tx86_64\n' }
          : undefined,
    );
    const backend = new DnfBackend('dnf', fakeSystem(runner), settings({ refresh: false }));
    expect(await backend.checkForUpdates(['vdsm'])).toEqual([
      { name: 'vdsm', installed: '4.50.1-1.el9', available: '4.50.2-1.el9' },
    ]);
  });
});

describe('offline packager', () => {
  it('installs nothing and fails naming what is missing', async () => {
    const runner = fakeRunner((argv) =>
      argv[0]!.endsWith('dpkg-query') ? { code: 1, stdout: 'vdsm\t4.50.2-1\tamd64\tii \n' } : undefined,
    );
    const sys = fakeSystem(runner);
    const offline = new OfflineBackend(new AptBackend(sys, settings()));
    await expect(offline.apply([{ action: 'install', packages: ['vdsm=4.50.2-1', 'ovirt-host'] }])).rejects.toThrow(
      'These packages are needed but not installed: ovirt-host',
    );
    // The user's to put right (install them in the image), not a failure of the work.
    await expect(offline.apply([{ action: 'install', packages: ['ovirt-host'] }])).rejects.toMatchObject({
      code: 'PREREQUISITE_MISSING',
    });
    await expect(offline.apply([{ action: 'install', packages: ['vdsm'] }])).resolves.toBeUndefined();
    expect(runner.commands().every((c) => c.startsWith('dpkg-query'))).toBe(true);
  });
});

describe('keepalive', () => {
  afterEach(() => vi.useRealTimers());

  it('logs a progress line every interval while the tool runs, with its last output', async () => {
    vi.useFakeTimers();
    const { log, text } = memoryLog();
    const done = withKeepAlive({ log, what: 'Installing vdsm', keepAliveS: 30 }, (onOutput) => {
      onOutput('Unpacking vdsm (4.50.2-1) ...\n');
      return new Promise<string>((resolve) => setTimeout(() => resolve('ok'), 65_000));
    });
    await vi.advanceTimersByTimeAsync(65_000);
    expect(await done).toBe('ok');
    const lines = text()
      .split('\n')
      .filter((l) => l.includes('still working'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('Installing vdsm: still working (30 s): Unpacking vdsm (4.50.2-1) ...');
  });
});

describe('package undo in the crash journal', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function journaled(): Promise<{
    tx: Transaction;
    undo: () => { description: string; commands: string[][] }[];
  }> {
    dir = mkdtempSync(join(tmpdir(), 'pkg-journal-'));
    const state = dir;
    const tx = new Transaction({ journalDir: state, id: 't' });
    await tx.prepare();
    const undo = (): { description: string; commands: string[][] }[] => {
      const path = join(state, 'transaction-t.journal');
      if (!existsSync(path)) return [];
      return (
        (JSON.parse(readFileSync(path, 'utf8')) as { undo?: { description: string; commands: string[][] }[] }).undo ??
        []
      );
    };
    return { tx, undo };
  }

  const ENV = '/usr/bin/env DEBIAN_FRONTEND=noninteractive APT_LISTCHANGES_FRONTEND=none NEEDRESTART_MODE=a';
  const OPTS = '-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -o Dpkg::Use-Pty=0';

  it('apt: journals the undo before installing (from a simulation), then exactly; abort clears it', async () => {
    const { runner, db } = fakeDpkg({ 'vdsm-client': '4.50.1-1' }, ['vdsm']);
    const { tx, undo } = await journaled();
    const records: string[][] = [];
    const inner = runner.run;
    const run: typeof inner = (argv, options) => {
      if (argv.includes('-s'))
        return Promise.resolve({
          argv,
          code: 0,
          signal: null,
          stdout: 'Inst ovirt-host (4.5.0-1 lab:./ [amd64])\nInst vdsm-client [4.50.1-1] (4.50.2-1 lab:./ [amd64])\n',
          stderr: '',
        } as Awaited<ReturnType<typeof inner>>);
      // What the journal says at the moment apt-get installs.
      if (argv[1] === 'install' && !argv.includes('--allow-downgrades'))
        records.push(undo().flatMap((u) => u.commands.map((c) => c.join(' '))));
      return inner(argv, options);
    };
    const sys = fakeSystem({ ...runner, run });
    const backend = new AptBackend(sys, settings({ refresh: false }));
    const main = new PackagesElement(backend, sys.log, () => true, 'main', tx);
    const service = new PackagerService(
      backend,
      { internal: new PackagesElement(backend, sys.log, () => true, 'internal'), main },
      sys.log,
    );
    await tx.append(main);
    service.install(['ovirt-host']);
    await service.process('main', false);
    expect(records).toEqual([
      [
        `${ENV} /usr/bin/apt-get purge ${OPTS} ovirt-host`,
        `${ENV} /usr/bin/apt-get install ${OPTS} --allow-downgrades vdsm-client=4.50.1-1`,
      ],
    ]);
    // After the install: what really changed (vdsm had its conffiles: removed, not purged).
    expect(undo().flatMap((u) => u.commands.map((c) => c.join(' ')))).toEqual([
      `${ENV} /usr/bin/apt-get purge ${OPTS} ovirt-host`,
      `${ENV} /usr/bin/apt-get remove ${OPTS} vdsm`,
      `${ENV} /usr/bin/apt-get install ${OPTS} --allow-downgrades vdsm-client=4.50.1-1`,
    ]);
    await tx.abort();
    expect([...db]).toEqual([['vdsm-client', '4.50.1-1']]);
    expect(undo()).toEqual([]);
  });

  it('dnf: journals history undo of the new transactions once the install returned', async () => {
    let history = [5];
    const runner = fakeRunner((argv) => {
      if (argv[1] === 'history' && argv[2] === 'list')
        return {
          stdout: `ID | Command line | Date | Action | Altered\n${history.map((id) => `  ${id} | x | 2024 | Install | 1`).join('\n')}\n`,
        };
      if (argv[0]!.endsWith('rpm') && argv[1] === '-qa' && history.length > 1)
        return { stdout: 'vdsm\t4.50.2-1\tx86_64\n' };
      if (argv[1] === '-y' && argv[2] === 'install') history = [7, 6, 5];
      return undefined;
    });
    const { tx, undo } = await journaled();
    const sys = fakeSystem(runner);
    const backend = new DnfBackend('dnf', sys, settings({ refresh: false }));
    const main = new PackagesElement(backend, sys.log, () => true, 'main', tx);
    const service = new PackagerService(
      backend,
      { internal: new PackagesElement(backend, sys.log, () => true, 'internal'), main },
      sys.log,
    );
    await tx.append(main);
    service.install(['vdsm']);
    await service.process('main', false);
    expect(undo().flatMap((u) => u.commands.map((c) => c.join(' ')))).toEqual([
      '/usr/bin/dnf -y history undo 7',
      '/usr/bin/dnf -y history undo 6',
    ]);
    await tx.commit();
    expect(undo()).toEqual([]);
  });

  it('records nothing when PACKAGER/rollback is off', async () => {
    const { runner } = fakeDpkg({});
    const { tx, undo } = await journaled();
    const sys = fakeSystem(runner);
    const backend = new AptBackend(sys, settings({ refresh: false }));
    const main = new PackagesElement(backend, sys.log, () => false, 'main', tx);
    const service = new PackagerService(
      backend,
      { internal: new PackagesElement(backend, sys.log, () => false, 'internal'), main },
      sys.log,
    );
    service.install(['vdsm']);
    await service.process('main', false);
    expect(undo()).toEqual([]);
    expect(runner.commands().some((c) => c.includes(' -s '))).toBe(false);
  });
});
