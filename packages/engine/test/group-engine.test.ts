// A plugin group's engine-side program, found in the group's folder (its package.json), as
// otopi deploy loads it; and the host bundle, which leaves it out. The group is the 'stamp'
// fixture of the deploy tests (test/integration/fixtures/plugins/stamp), whose lab test deploys it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectBundleFiles } from '../src/bundle/build.js';
import { driveDialog } from '../src/dialog/driver.js';
import { EngineError } from '../src/errors.js';
import type { InventoryHost } from '../src/inventory/inventory.js';
import { ENGINE_API } from '../src/orchestrate/engine-api.js';
import {
  engineOnlyPaths,
  groupProgramEntry,
  loadGroupProgram,
  prepareGroupPrograms,
} from '../src/orchestrate/group-engine.js';
import { snapshotBuild } from './build-snapshot.js';

const STAMP = fileURLToPath(new URL('../../../test/integration/fixtures/plugins/stamp', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../../../test/integration/fixtures/plugins/sample', import.meta.url));

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'otopi-group-engine-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const host = { name: 'h1.lab', address: '10.88.0.11', answers: {} } as unknown as InventoryHost;
const run = (groups: string[]) => ({ groups, hosts: [host], options: {}, note: () => undefined, engine: ENGINE_API });

describe("a group's engine program", () => {
  it('is the module its package.json names, found from the group folder', async () => {
    expect(groupProgramEntry('stamp', STAMP)).toBe(join(STAMP, '_engine', 'program.mjs'));
    // A group without a package.json, or one that names none, has none: the base program only.
    expect(groupProgramEntry('sample', SAMPLE)).toBeUndefined();
    expect(await loadGroupProgram('sample', SAMPLE)).toBeUndefined();
    const notes: string[] = [];
    const factories = await prepareGroupPrograms(
      { stamp: STAMP, sample: SAMPLE },
      { ...run(['stamp', 'sample']), note: (text) => notes.push(text) },
    );
    expect(Object.keys(factories)).toEqual(['stamp']);
    expect(notes).toEqual(['stamp: stamping 1 host(s)']);
  });

  it("drives the host's dialog with the group's keys and answers its question", async () => {
    const factories = await prepareGroupPrograms({ stamp: STAMP }, run(['stamp']));
    const program = await factories['stamp']!(host, {
      groups: ['stamp'],
      dryRun: false,
      log: () => undefined,
      givenKeys: new Set(),
    });
    const sent: string[] = [];
    const out = [
      '***Q:STRING CUSTOMIZATION_COMMAND',
      '***D:VALUE STAMP/hostId=str:node-7',
      '***Q:STRING CUSTOMIZATION_COMMAND',
      '***Q:VALUE STAMP/text',
      '***Q:STRING CUSTOMIZATION_COMMAND',
      '***Q:STRING STAMP_SIGNATURE',
      '***Q:STRING TERMINATION_COMMAND',
      '***TERMINATE',
    ];
    const outcome = await driveDialog(
      {
        lines: (async function* () {
          for (const line of out) {
            await Promise.resolve();
            yield line;
          }
        })(),
        send: (line) => sent.push(line),
        end: () => undefined,
      },
      { ...program, pipeline: false },
    );
    expect(sent.slice(0, 4)).toEqual([
      'env-get -k STAMP/hostId',
      'env-query -k STAMP/text',
      'VALUE STAMP/text=str:stamped by the engine for h1.lab',
      'install',
    ]);
    expect(sent).toContain('signed:node-7');
    expect(program.conclude?.(outcome, 'installed')).toEqual({
      details: ['stamped node-7'],
      facts: { stampHostId: 'node-7' },
    });
  });

  it('refuses a package.json that does not read, a missing module and one that exports no program', async () => {
    const bad = (name: string, manifest: string, module?: string): string => {
      const dir = join(work, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'package.json'), manifest);
      if (module !== undefined) writeFileSync(join(dir, 'engine.mjs'), module);
      return dir;
    };
    const refused = async (dir: string): Promise<string> => {
      const error = await loadGroupProgram('bad', dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe('GROUP_PROGRAM_INVALID');
      return (error as EngineError).message;
    };
    expect(await refused(bad('syntax', '{ "otopi": '))).toContain('cannot read');
    expect(await refused(bad('number', '{ "otopi": { "engineProgram": 7 } }'))).toContain('is not a path');
    expect(await refused(bad('missing', '{ "otopi": { "engineProgram": "./engine.mjs" } }'))).toContain('is missing');
    expect(
      await refused(bad('empty', '{ "otopi": { "engineProgram": "./engine.mjs" } }', 'export default { run() {} };\n')),
    ).toContain('exports no engine program');
  });
});

describe('the host bundle of a group with an engine program', () => {
  it('carries its plugins and contract, never its package.json or engine program', () => {
    const root = snapshotBuild(join(work, 'root'));
    expect(engineOnlyPaths('stamp', STAMP)).toEqual(['package.json', '_engine']);
    const { files } = collectBundleFiles({
      root,
      outDir: join(work, 'out'),
      groups: ['stamp'],
      groupDirs: { stamp: STAMP },
    });
    const stamp = [...files.keys()].filter((f) => f.startsWith('plugins/stamp/')).sort();
    expect(stamp).toEqual(['plugins/stamp/_lib/contract.mjs', 'plugins/stamp/stamp.mjs']);
  });
});
