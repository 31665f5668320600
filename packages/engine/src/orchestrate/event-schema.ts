/**
 * The schema of the JSON-lines event stream of both `otopi --events` (a local run: stages and
 * handlers) and `otopi deploy --events` (hosts), published as docs/events.schema.json
 * (`npm run docs:events`). One set of field names: every event has `type` and `at` (ISO 8601
 * time); durations are `durationMs`; `run-start` carries `schemaVersion`. Fields may be added
 * within a version; a renamed or removed field raises it.
 */
import { EVENTS_SCHEMA_VERSION, STAGES } from '@otopi/core';
import { z } from 'zod';
import { HOST_RESULT_KINDS } from './events.js';

const at = z.string().describe('ISO 8601 time of the event');
const ms = z.number().int().nonnegative();
const version = z.literal(EVENTS_SCHEMA_VERSION).describe('the version of this schema');
const host = z.string().describe('the host, as the inventory names it');
const artifacts = z.array(z.enum(['bundle', 'runtime']));
const hostResult = z.enum(HOST_RESULT_KINDS as ['installed', 'incomplete', 'reboot', 'failed', 'aborted']);
const stage = z.enum(STAGES);

/** A local run (`otopi --events`): the stages and handlers of one installer run. */
const localEvents = [
  z.object({ type: z.literal('run-start'), at, schemaVersion: version, handlers: ms }).strict(),
  z.object({ type: z.literal('stage-start'), at, stage, description: z.string() }).strict(),
  z.object({ type: z.literal('stage-end'), at, stage, durationMs: ms }).strict(),
  z.object({ type: z.literal('stage-skip'), at, stage }).strict(),
  z.object({ type: z.literal('handler-start'), at, stage, handler: z.string() }).strict(),
  z
    .object({
      type: z.literal('handler-end'),
      at,
      stage,
      handler: z.string(),
      result: z.enum(['ok', 'skipped', 'failed', 'aborted']),
      durationMs: ms,
      error: z.object({ code: z.string(), message: z.string() }).strict().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('run-end'),
      at,
      exitCode: z.number().int(),
      error: z.boolean(),
      aborted: z.boolean(),
      durationMs: ms,
      failure: z
        .object({ code: z.string(), message: z.string() })
        .strict()
        .optional()
        .describe('why a run ended before it started (bad statements, a missing group)'),
    })
    .strict(),
] as const;

const bytes = z.object({ command: ms, payload: ms, dialog: ms, total: ms }).strict();

/** A deploy (`otopi deploy --events`): hosts, their stages, log lines and reports. */
const deployEvents = [
  z
    .object({
      type: z.literal('run-start'),
      at,
      schemaVersion: version,
      correlationId: z.string().describe("the run's correlation id; it names the logs of hosts given none"),
      hosts: z.array(host),
      parallel: ms,
      dryRun: z.boolean(),
      groups: z.array(z.string()),
      bundle: z.object({ sha256: z.string(), size: ms }).strict(),
      runtime: z.object({ sha256: z.string(), size: ms, nodeVersion: z.string() }).strict().optional(),
      logDir: z.string(),
    })
    .strict(),
  z.object({ type: z.literal('host-start'), at, host, address: z.string() }).strict(),
  z
    .object({
      type: z.literal('connected'),
      at,
      host,
      keyType: z.string(),
      fingerprint: z.string(),
      learnt: z.boolean(),
    })
    .strict(),
  z.object({ type: z.literal('shipped'), at, host, artifacts, bytes: ms }).strict(),
  z.object({ type: z.literal('stage'), at, host, stage: z.string() }).strict(),
  z.object({ type: z.literal('log'), at, host, level: z.string(), text: z.string() }).strict(),
  z
    .object({
      type: z.literal('host-end'),
      at,
      host,
      address: z.string(),
      result: hostResult,
      stage: z.string(),
      lastHandler: z.string().optional(),
      cause: z.string().optional(),
      details: z.array(z.string()),
      exitCode: z.number().int().nullable(),
      durationMs: ms,
      bytes,
      roundTrips: ms.optional().describe('round trips of the machine dialog (undefined when it never started)'),
      shipped: artifacts.optional(),
      hostKey: z.object({ type: z.string(), fingerprint: z.string(), learnt: z.boolean() }).strict().optional(),
      log: z.string().optional(),
      hostLogFile: z.string().optional(),
      facts: z.record(z.string(), z.string()).optional(),
      changed: z.boolean().optional().describe('whether the host changed (or in a dry run would change) anything'),
      changes: z.array(z.string()).optional().describe('what changed, one line each; in a dry run what would'),
      diff: z.string().optional().describe('dry run: what would change, with unified diffs of files'),
    })
    .strict(),
  z
    .object({
      type: z.literal('run-end'),
      at,
      ok: z.boolean(),
      counts: z.object(Object.fromEntries(HOST_RESULT_KINDS.map((k) => [k, ms]))).strict(),
      changed: ms.describe('hosts that changed something (in a dry run: would)'),
      durationMs: ms,
      engine: z.object({ maxRssKb: ms, userMs: ms, systemMs: ms }).strict(),
    })
    .strict(),
] as const;

/** Any event of either stream. */
export const eventSchema = z.union([...localEvents, ...deployEvents]);

/** The JSON Schema of the event stream, as docs/events.schema.json holds it. */
export function eventsJsonSchema(): string {
  const schema = z.toJSONSchema(eventSchema, { target: 'draft-7' });
  return `${JSON.stringify(
    {
      ...schema,
      $id: `urn:otopi-ts:events:v${EVENTS_SCHEMA_VERSION}`,
      title: `otopi event stream, version ${EVENTS_SCHEMA_VERSION}`,
      description:
        'One JSON object per line, from `otopi --events` (a local run) and `otopi deploy --events` (hosts). ' +
        'Every event has `type` and `at`; `run-start` carries `schemaVersion`.',
    },
    null,
    2,
  )}\n`;
}
