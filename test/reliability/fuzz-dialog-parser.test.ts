/**
 * Fuzzing the engine's machine-dialog parser (packages/engine/src/dialog/parser.ts), which
 * reads what a host's run prints.
 *
 * - Any lines give events or a DialogProtocolError; never another exception.
 * - Transcripts written by the real MachineDialect (core) from generated dialog calls —
 *   notes, log records, displays, every kind of question, the plan, handler events, with
 *   arbitrary text in them — parse to exactly the events those calls stand for. This checks
 *   the writer and the reader against each other and against docs/machine-dialog.md.
 */
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  ABORT_BOUNDARY,
  BOUNDARY,
  Environment,
  MachineDialect,
  Redactor,
  STAGE_INFO,
  STAGES,
  type EnvValue,
  type RunEvent,
} from '@otopi/core';
import { prepareString } from '../../packages/core/src/dialog/base.js';
import { DialogParser, DialogProtocolError, type DialogEvent } from '../../packages/engine/src/dialog/parser.js';
import { fuzzTimeout } from './support/figures.js';
import { fuzzAsync, fuzzSync, reportFuzz, text } from './support/fuzz.js';

const name = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_./-]{0,12}$/);
const stage = fc.constantFrom(...STAGES);
const handler = fc.stringMatching(/^[a-z][a-z0-9_.]{0,20}$/);
const lineFree = text(20).map((s) => s.replace(/[\r\n]/g, ''));
const envValue: fc.Arbitrary<EnvValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.maxSafeInteger(),
  text(30),
  fc.array(lineFree, { maxLength: 4 }),
);

type Op =
  | { op: 'note'; text: string }
  | { op: 'log'; level: 'INFO' | 'WARNING' | 'ERROR'; message: string }
  | { op: 'display'; name: string; value: EnvValue }
  | { op: 'block'; name: string; lines: string[] }
  | {
      op: 'string';
      name: string;
      note: string | undefined;
      default: string | undefined;
      validValues: string[] | undefined;
      hidden: boolean;
    }
  | { op: 'value' | 'multi'; name: string; note: string | undefined }
  | { op: 'confirm'; name: string; description: string; note: string | undefined }
  | { op: 'event'; type: 'handler-start' | 'handler-end'; stage: (typeof STAGES)[number]; handler: string }
  | { op: 'plan'; events: { stage: (typeof STAGES)[number]; name: string }[] };

const note = fc.option(text(40), { nil: undefined });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('note' as const), text: text(60) }),
  fc.record({
    op: fc.constant('log' as const),
    level: fc.constantFrom('INFO' as const, 'WARNING' as const, 'ERROR' as const),
    message: text(60),
  }),
  fc.record({ op: fc.constant('display' as const), name, value: envValue }),
  fc.record({
    op: fc.constant('block' as const),
    name,
    lines: fc.array(fc.oneof(text(20), fc.constant(BOUNDARY), fc.constant(`x${BOUNDARY}y`)), { maxLength: 4 }),
  }),
  fc.record({
    op: fc.constant('string' as const),
    name,
    note,
    default: fc.option(text(10), { nil: undefined }),
    // Valid values a manager can send back: not empty, and valid UTF-8.
    validValues: fc.option(
      fc.array(
        text(8).filter((v) => v !== '' && Buffer.from(v).toString() === v),
        { minLength: 1, maxLength: 3 },
      ),
      { nil: undefined },
    ),
    hidden: fc.boolean(),
  }),
  fc.record({ op: fc.constantFrom('value' as const, 'multi' as const), name, note }),
  fc.record({ op: fc.constant('confirm' as const), name, description: text(30), note }),
  fc.record({
    op: fc.constant('event' as const),
    type: fc.constantFrom('handler-start' as const, 'handler-end' as const),
    stage,
    handler,
  }),
  fc.record({
    op: fc.constant('plan' as const),
    events: fc.array(fc.record({ stage, name: handler }), { maxLength: 4 }),
  }),
);

const LINE_BREAKS = /\r\n|\r|\n/;
const flatten = (s: string): string => s.replace(/\r\n|\r|\n/g, ' ');

/** docs/machine-dialog.md, "Framing guarantees": a note is one line per line, trailing spaces dropped. */
function noteLines(textValue: string): string[] {
  const lines = textValue.split(LINE_BREAKS).map((l) => l.trimEnd());
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  return lines;
}
const notes = (textValue: string): DialogEvent[] => noteLines(textValue).map((t) => ({ kind: 'note', text: t }));

function formatted(value: EnvValue): { type: string; value: string } {
  if (value === null) return { type: 'none', value: 'None' };
  if (typeof value === 'boolean') return { type: 'bool', value: value ? 'True' : 'False' };
  if (typeof value === 'number') return { type: 'int', value: String(value === 0 ? 0 : value) };
  return { type: 'str', value: value as string };
}

/** The events an operation stands for, and the reply the dialect needs for it. */
function expectedOf(op: Op): { events: DialogEvent[]; reply?: string } {
  switch (op.op) {
    case 'note':
      return { events: notes(op.text) };
    case 'log':
      return { events: [{ kind: 'log', level: op.level, text: flatten(op.message) }] };
    case 'display': {
      const v = op.value;
      if (Array.isArray(v) || (typeof v === 'string' && LINE_BREAKS.test(v))) {
        const items = Array.isArray(v) ? v : (v as string).split(LINE_BREAKS);
        return {
          events: [
            { kind: 'display-multi-string', name: op.name, lines: items.flatMap((i: string) => i.split(LINE_BREAKS)) },
          ],
        };
      }
      return { events: [{ kind: 'display-value', name: op.name, ...formatted(v) }] };
    }
    case 'block':
      return {
        events: [
          {
            kind: 'display-multi-string',
            name: op.name,
            lines: op.lines.flatMap((l) => l.split(LINE_BREAKS)).map((l) => l.replaceAll(BOUNDARY, '**BOUNDARY**')),
          },
        ],
      };
    case 'string': {
      const prepared = prepareString(
        {
          name: op.name,
          hidden: op.hidden,
          ...(op.note === undefined ? {} : { note: op.note }),
          ...(op.default === undefined ? {} : { default: op.default }),
          ...(op.validValues === undefined ? {} : { validValues: op.validValues }),
        },
        undefined,
      );
      const frameNotes = noteLines(prepared.note);
      const info = {
        notes: frameNotes,
        ...(prepared.default === undefined || prepared.default === '' ? {} : { default: prepared.default }),
        ...(prepared.validValues === undefined ? {} : { validValues: prepared.validValues }),
        hidden: op.hidden,
      };
      const reply = prepared.validValues?.[0] ?? (prepared.default !== undefined ? '' : 'an answer');
      return { events: [...notes(prepared.note), { kind: 'query-string', name: op.name, info }], reply };
    }
    case 'value': {
      const all = [
        ...(op.note === undefined ? [] : noteLines(op.note)),
        `Reply with VALUE ${op.name}=type:value, or ABORT ${op.name}`,
      ];
      return {
        events: [
          ...all.map((t): DialogEvent => ({ kind: 'note', text: t })),
          { kind: 'query-value', name: op.name, info: { notes: all } },
        ],
        reply: `VALUE ${op.name}=str:x`,
      };
    }
    case 'multi': {
      const all = [
        ...(op.note === undefined ? [] : noteLines(op.note)),
        'Send the lines, then a line holding only the boundary; the abort boundary aborts the run.',
      ];
      return {
        events: [
          ...all.map((t): DialogEvent => ({ kind: 'note', text: t })),
          {
            kind: 'query-multi-string',
            name: op.name,
            boundary: BOUNDARY,
            abortBoundary: ABORT_BOUNDARY,
            info: { notes: all },
          },
        ],
        reply: BOUNDARY,
      };
    }
    case 'confirm':
      return {
        events: [
          { kind: 'confirm', name: op.name, description: flatten(op.description) },
          ...(op.note === undefined ? [] : notes(op.note)),
          ...notes(`Reply with CONFIRM ${op.name}=yes or CONFIRM ${op.name}=no, or ABORT ${op.name}`),
        ],
        reply: `CONFIRM ${op.name}=yes`,
      };
    case 'event':
      return {
        events: [
          {
            kind: op.type === 'handler-start' ? 'event-start' : 'event-end',
            handler: { stage: STAGE_INFO[op.stage].wireId, name: op.handler },
          },
        ],
      };
    case 'plan':
      return {
        events: [
          { kind: 'events-list', entries: op.events.map((e) => ({ stage: STAGE_INFO[e.stage].wireId, name: e.name })) },
        ],
      };
  }
}

async function perform(dialog: MachineDialect, op: Op): Promise<void> {
  switch (op.op) {
    case 'note':
      return dialog.note(op.text);
    case 'log':
      return dialog.log({ level: op.level, message: op.message });
    case 'display':
      return dialog.displayValue(op.name, op.value);
    case 'block':
      return dialog.displayMultiString(op.name, op.lines);
    case 'string':
      await dialog.queryString({
        name: op.name,
        hidden: op.hidden,
        remember: false,
        ...(op.note === undefined ? {} : { note: op.note }),
        ...(op.default === undefined ? {} : { default: op.default }),
        ...(op.validValues === undefined ? {} : { validValues: op.validValues }),
      });
      return;
    case 'value':
      await dialog.queryValue({ name: op.name, remember: false, ...(op.note === undefined ? {} : { note: op.note }) });
      return;
    case 'multi':
      await dialog.queryMultiString({
        name: op.name,
        remember: false,
        ...(op.note === undefined ? {} : { note: op.note }),
      });
      return;
    case 'confirm':
      await dialog.confirm({
        name: op.name,
        description: op.description,
        remember: false,
        ...(op.note === undefined ? {} : { note: op.note }),
      });
      return;
    case 'event': {
      const event: RunEvent =
        op.type === 'handler-start'
          ? { type: 'handler-start', stage: op.stage, handler: op.handler }
          : { type: 'handler-end', stage: op.stage, handler: op.handler, result: 'ok', durationMs: 1 };
      return dialog.runEvent(event);
    }
    case 'plan':
      return dialog.announcePlan(op.events);
  }
}

/** Lines as a host writes them: protocol-like most of the time, junk some of the time. */
const hostLine = fc.oneof(
  text(40),
  fc
    .tuple(
      fc.constantFrom(
        '###',
        '### ',
        '***L:INFO ',
        '***L:DEBUG ',
        '***Q:STRING ',
        '***Q:VALUE ',
        '***Q:MULTI-STRING ',
        '***CONFIRM ',
        '***D:VALUE ',
        '***D:MULTI-STRING ',
        '***TERMINATE',
        '**%QStart: ',
        '**%QValidValues: ',
        '**%QHidden: ',
        '**%QEnd: ',
        '**%EventsListStart',
        '**%EventsListEnd',
        '**%EventStart STAGE ',
        '**%EventEnd ',
        '**%Other',
        '*',
        '',
      ),
      text(30),
    )
    .map(([p, t]) => p + t),
  fc.constantFrom(
    BOUNDARY,
    '***D:MULTI-STRING X B',
    'B',
    '***D:VALUE X=str:a',
    '**%EventsListEntry STAGE init METHOD a (a)',
  ),
);

it(
  'the engine dialog parser: events or protocol errors; real transcripts parse to their events',
  { timeout: fuzzTimeout(2, 2) },
  async () => {
    const results = [
      fuzzSync('any lines give events or a DialogProtocolError', fc.array(hostLine, { maxLength: 12 }), (lines) => {
        const parser = new DialogParser();
        for (const line of lines) {
          let events: DialogEvent[];
          try {
            events = parser.push(line);
          } catch (error) {
            if (error instanceof DialogProtocolError) return;
            throw new Error(`not a DialogProtocolError: ${String(error)}`, { cause: error });
          }
          for (const e of events) if (typeof e.kind !== 'string') throw new Error(`odd event ${JSON.stringify(e)}`);
        }
      }),
      await fuzzAsync(
        'a transcript written by MachineDialect parses to its events',
        fc.array(opArb, { minLength: 1, maxLength: 6 }),
        async (ops) => {
          const expected = ops.map(expectedOf);
          const env = new Environment();
          const input = new PassThrough();
          input.end(expected.flatMap((e) => (e.reply === undefined ? [] : [`${e.reply}\n`])).join(''));
          let out = '';
          const redactor = new Redactor({ secrets: () => [], protectedNames: () => [] });
          const dialog = new MachineDialect({ env, redactor, input, write: (t) => (out += t) });
          for (const op of ops) await perform(dialog, op);
          dialog.terminate();
          const parser = new DialogParser();
          const got: DialogEvent[] = [];
          try {
            for (const line of out.split('\n').slice(0, -1)) got.push(...parser.push(line));
          } catch (error) {
            throw new Error(`transcript ${JSON.stringify(out)}: ${String(error)}`, { cause: error });
          }
          const want = [...expected.flatMap((e) => e.events), { kind: 'terminate' }];
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            throw new Error(
              `transcript ${JSON.stringify(out)}\nparsed ${JSON.stringify(got)}\nwanted ${JSON.stringify(want)}`,
            );
          }
        },
      ),
    ];
    expect(reportFuzz('dialog parser', results)).toEqual([]);
  },
);
