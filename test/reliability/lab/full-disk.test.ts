/**
 * Full disk: the installer, shipped as the host bundle and run over SSH, writes several files
 * through its main transaction onto a file system that is full (a 1 MiB tmpfs mounted inside
 * the lab host, filled with dd). The run must fail with a clear error naming the file and the
 * cause, leave the previous files byte-identical, and leave nothing behind: no temporary files,
 * backups, new folders, journals or lock, and the space it took given back.
 *
 * On tmpfs a commit needs no new data blocks (a rename, and a hard link for the backup), so a
 * full disk shows when the new files are written, at prepare, before anything is replaced; the
 * journal scenarios put the transaction journal on the full disk instead. A full log folder
 * does not stop the run: it warns, naming the log file, and keeps the log in memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../../lab/allocation.js';
import { labExec, labHost, type LabHost } from '../../lab/lab.js';
import { recordFigure } from '../support/figures.js';
import { buildShipment, errorsOf, runOnHost, type HostRun, type Shipment } from './support.js';
import { removeRunDirs } from '../support/cli.js';

afterAll(removeRunDirs);

const MOUNT = '/srv/full';
let host: LabHost;
let shipment: Shipment;
const results: { scenario: string; clean: boolean }[] = [];

async function sh(command: string): Promise<string> {
  return (await labExec(host, command, { check: true })).stdout;
}

/** Names, sizes, modes and SHA-256 of everything under the folders: equal means byte-identical. */
async function snapshot(...dirs: string[]): Promise<string> {
  return sh(
    dirs
      .map(
        (d) =>
          `[ -e ${d} ] && { find ${d} -printf '%p %y %s %m\\n' | sort; find ${d} -type f -exec sha256sum {} + | sort; } || echo "${d} absent"`,
      )
      .join('; '),
  );
}

async function available(): Promise<number> {
  return Number((await sh(`df -B1 --output=avail ${MOUNT} | tail -1`)).trim());
}

/** Fills the mount, leaving `leave` bytes free (rounded down to pages). */
async function fill(leave: number): Promise<void> {
  await sh(`rm -f ${MOUNT}/filler; sync`);
  const pages = Math.max(0, Math.floor(((await available()) - leave) / 4096));
  await sh(`dd if=/dev/zero of=${MOUNT}/filler bs=4096 count=${pages} 2>/dev/null || true; sync`);
}

async function oldFiles(dir: string, count: number): Promise<void> {
  await sh(
    `rm -rf ${dir} && mkdir -p ${dir} && for i in $(seq ${count}); do printf 'old %s\\n' $i > ${dir}/file-$i.conf; done`,
  );
}

function judge(scenario: string, run: HostRun, problems: string[]): void {
  const errors = errorsOf(run);
  if (run.code !== 1) problems.push(`exit code ${run.code}`);
  if (run.stderr !== '') problems.push(`stderr: ${run.stderr}`);
  if (run.lines.at(-1) !== '***TERMINATE') problems.push('no ***TERMINATE');
  if (!errors.some((e) => /no space left on device|ENOSPC/i.test(e)))
    problems.push(`no ENOSPC error: ${errors.join(' | ')}`);
  console.log(`full disk, ${scenario}: ${errors.join(' | ')}`);
  results.push({ scenario, clean: problems.length === 0 });
  expect(problems, scenario).toEqual([]);
}

async function leftovers(): Promise<string[]> {
  const problems: string[] = [];
  const journal = (await sh('ls -A /var/lib/otopi/journal 2>/dev/null || true')).trim();
  if (journal !== '') problems.push(`journal left: ${journal}`);
  if ((await labExec(host, 'test -e /var/lib/otopi/run.lock')).code === 0) problems.push('run lock left');
  return problems;
}

beforeAll(async () => {
  host = labHost(HOSTS.reliabilityFullDisk[0]);
  shipment = await buildShipment();
  await labExec(
    host,
    `umount ${MOUNT} 2>/dev/null; mkdir -p ${MOUNT} && mount -t tmpfs -o size=1m,mode=0755 tmpfs ${MOUNT}`,
    { check: true },
  );
}, 300_000);

afterAll(async () => {
  const clean = results.filter((r) => r.clean).length;
  recordFigure({
    item: 'full-disk',
    part: 'lab',
    line: `full disk: ${clean}/${results.length} clean (${results.map((r) => `${r.scenario}: ${r.clean ? 'clean' : 'NOT clean'}`).join('; ')})`,
    ok: clean,
    total: results.length,
  });
  if (host !== undefined) await labExec(host, `umount ${MOUNT}; rmdir ${MOUNT}`);
});

describe('a commit onto a full file system', () => {
  it('fails with ENOSPC and leaves every file as it was when the disk is full', async () => {
    const dir = `${MOUNT}/conf`;
    await oldFiles(dir, 4);
    await fill(0);
    const before = await snapshot(dir);
    const free = await available();
    const run = await runOnHost(host, shipment, [
      `CANARY/dir=str:${dir}`,
      'CANARY/files=int:4',
      'CANARY/bytes=int:65536',
    ]);
    const problems = await leftovers();
    if ((await snapshot(dir)) !== before) problems.push('the files changed');
    if ((await available()) !== free) problems.push(`free space ${free} → ${await available()}`);
    judge('full', run, problems);
  });

  it('cleans up the files it wrote when the disk fills half way through', async () => {
    const dir = `${MOUNT}/conf`;
    await oldFiles(dir, 4);
    // Room for two of the four new files.
    await fill(150 * 1024);
    const before = await snapshot(dir);
    const free = await available();
    const run = await runOnHost(host, shipment, [
      `CANARY/dir=str:${dir}`,
      'CANARY/files=int:4',
      'CANARY/bytes=int:65536',
    ]);
    const problems = await leftovers();
    if ((await snapshot(dir)) !== before) problems.push('the files changed');
    if ((await available()) !== free) problems.push(`free space ${free} → ${await available()}, temporary files left`);
    judge('half way', run, problems);
  });

  it('removes the folders it created for new files', async () => {
    await fill(0);
    const before = await snapshot(MOUNT);
    const run = await runOnHost(host, shipment, [
      `CANARY/dir=str:${MOUNT}/new/deeper`,
      'CANARY/files=int:2',
      'CANARY/bytes=int:65536',
    ]);
    const problems = await leftovers();
    if ((await snapshot(MOUNT)) !== before) problems.push(`the mount changed: ${await sh(`find ${MOUNT}`)}`);
    judge('new folders', run, problems);
  });

  it('cleans up what was prepared when the journal fills after the first file', async () => {
    const dir = '/srv/roomy/conf';
    await oldFiles(dir, 4);
    await sh(`mkdir -p ${MOUNT}/journal; rm -f ${MOUNT}/journal/*`);
    // One page: the first journal write fits, the second (written beside it, then renamed) does not.
    await fill(4096);
    const before = await snapshot(dir);
    const run = await runOnHost(host, shipment, [
      `CANARY/dir=str:${dir}`,
      'CANARY/files=int:4',
      'CANARY/bytes=int:65536',
      `CORE/journalDir=str:${MOUNT}/journal`,
    ]);
    const problems = await leftovers();
    if ((await snapshot(dir)) !== before) problems.push(`files changed: ${await sh(`ls -A ${dir}`)}`);
    const journal = (await sh(`ls -A ${MOUNT}/journal`)).trim();
    if (journal !== '') problems.push(`journal left: ${journal}`);
    judge('journal half way', run, problems);
  });

  it('goes on with the log in memory, and says so, when the log folder is on the full disk', async () => {
    const dir = '/srv/roomy/conf';
    await oldFiles(dir, 2);
    await sh(`mkdir -p ${MOUNT}/log`);
    await fill(0);
    const run = await runOnHost(host, shipment, [
      `CORE/logDir=str:${MOUNT}/log`,
      `CANARY/dir=str:${dir}`,
      'CANARY/files=int:2',
      'CANARY/bytes=int:64',
    ]);
    const problems = await leftovers();
    const warning = run.lines.find((l) => l.startsWith('***L:WARNING Cannot write the log file')) ?? '';
    console.log(`full disk, log folder: ${warning}`);
    if (run.code !== 0 || run.stderr !== '' || run.lines.at(-1) !== '***TERMINATE')
      problems.push(`exit ${run.code}, stderr ${run.stderr}`);
    if (!warning.includes(`${MOUNT}/log/`) || !/ENOSPC/.test(warning))
      problems.push(`no warning naming the log file and ENOSPC: ${warning}`);
    if (!(await sh(`head -qc3 ${dir}/file-1.conf ${dir}/file-2.conf`)).startsWith('newnew'))
      problems.push('the run did not finish its work');
    results.push({ scenario: 'log folder', clean: problems.length === 0 });
    expect(problems).toEqual([]);
  });

  it('fails before replacing anything when the journal cannot be written', async () => {
    const dir = '/srv/roomy/conf';
    await oldFiles(dir, 4);
    await sh(`mkdir -p ${MOUNT}/journal`);
    await fill(0);
    const before = await snapshot(dir, MOUNT);
    const run = await runOnHost(host, shipment, [
      `CANARY/dir=str:${dir}`,
      'CANARY/files=int:4',
      'CANARY/bytes=int:65536',
      `CORE/journalDir=str:${MOUNT}/journal`,
    ]);
    const problems = await leftovers();
    if ((await snapshot(dir, MOUNT)) !== before) problems.push(`files changed: ${await sh(`find ${dir} ${MOUNT}`)}`);
    judge('journal', run, problems);
  });
});
