/**
 * One event schema for a local run and a deploy: the events `otopi --events -` and
 * `otopi deploy --events -` really write validate against the published docs/events.schema.json
 * (checked with ajv, a JSON Schema validator independent of the zod schema it is generated from),
 * and the published file is the generated one.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { eventsJsonSchema } from '../../packages/engine/src/orchestrate/event-schema.js';
import { CLI, ROOT, demoArgs, runCli, tempDir } from './helpers.js';

const published = readFileSync(join(ROOT, 'docs/events.schema.json'), 'utf8');
const validate = new Ajv({ allErrors: true }).compile(JSON.parse(published) as object);

function check(lines: string): Record<string, unknown>[] {
  const events = lines
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const event of events) {
    const ok = validate(event);
    expect(ok, `${JSON.stringify(event)}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
  }
  return events;
}

describe('the event stream', () => {
  it('docs/events.schema.json is the generated schema (npm run docs:events)', () => {
    expect(published).toBe(eventsJsonSchema());
  });

  it('otopi --events - writes schema events to standard output, the dialog to standard error', () => {
    const run = runCli(['--events', '-', ...demoArgs('DEMO/name=str:Ada')]);
    expect(run.code, run.stderr).toBe(0);
    const events = check(run.stdout);
    expect(events[0]).toMatchObject({ type: 'run-start', schemaVersion: 1 });
    expect(events.at(-1)).toMatchObject({ type: 'run-end', exitCode: 0, durationMs: expect.any(Number) });
    expect(events.some((e) => e.type === 'handler-end' && typeof e.durationMs === 'number')).toBe(true);
    expect(run.stderr).toContain('Stage: Environment setup');
  });

  it('otopi deploy --events - (the documented form) writes schema events to standard output', () => {
    const dir = tempDir();
    const key = join(dir, 'id_test');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const inventory = join(dir, 'hosts.ini');
    // Port 1 on the loopback: nothing listens there, the host fails at the SSH connection at once.
    writeFileSync(
      inventory,
      `[host nowhere]\naddress = 127.0.0.1\nport = 1\nidentity_file = ${key}\nfingerprint = SHA256:${'A'.repeat(43)}\n`,
      { mode: 0o600 },
    );
    const run = spawnSync(
      process.execPath,
      [CLI, 'deploy', '-i', inventory, '--events', '-', '--log-dir', join(dir, 'logs'), '--progress', 'plain'],
      { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir }, timeout: 60_000 },
    );
    expect(run.status, run.stderr).toBe(1);
    const events = check(run.stdout);
    expect(events.map((e) => e.type)).toEqual(['run-start', 'host-start', 'host-end', 'run-end']);
    expect(events[0]).toMatchObject({ schemaVersion: 1 });
    expect(run.stderr).toContain('nowhere: FAILED at SSH connection');
  });
});
