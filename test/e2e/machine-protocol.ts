/**
 * An independent reader of machine-dialog transcripts, written from docs/machine-dialog.md
 * alone (it imports nothing from the implementation). It classifies every line the run
 * wrote and checks the ordering rules; anything it cannot classify is an error.
 */

export type LineKind =
  | 'note'
  | 'log'
  | 'q-string'
  | 'q-multi'
  | 'q-value'
  | 'confirm'
  | 'd-value'
  | 'd-multi'
  | 'block-body'
  | 'block-end'
  | 'terminate'
  | 'q-start'
  | 'q-default'
  | 'q-valid'
  | 'q-hidden'
  | 'q-end'
  | 'events-start'
  | 'events-entry'
  | 'events-end'
  | 'event-start'
  | 'event-end';

export interface ClassifiedLine {
  readonly kind: LineKind;
  readonly text: string;
  /** Question, display or frame name, where the line has one. */
  readonly name?: string;
  readonly level?: string;
  /** For event lines: stage id and handler. */
  readonly stage?: string;
  readonly handler?: string;
}

const NAME = '[A-Za-z0-9_./-]+';
const STAGE_IDS = [
  'boot',
  'init',
  'setup',
  'internal_packages',
  'programs',
  'late_setup',
  'customization',
  'validation',
  'transaction-prepare',
  'early_misc',
  'packages',
  'misc',
  'cleanup',
  'closeup',
  'pre-terminate',
  'terminate',
  'reboot',
];
const EVENT = `STAGE (${STAGE_IDS.join('|')}) METHOD (${NAME}) \\((${NAME})\\)`;

const SIMPLE: readonly [LineKind, RegExp][] = [
  ['note', /^###(?: (.*))?$/],
  ['log', /^\*\*\*L:(INFO|WARNING|ERROR|FATAL) (.*)$/],
  ['q-string', new RegExp(`^\\*\\*\\*Q:STRING (${NAME})$`)],
  ['q-value', new RegExp(`^\\*\\*\\*Q:VALUE (${NAME})$`)],
  ['confirm', new RegExp(`^\\*\\*\\*CONFIRM (${NAME}) (.+)$`)],
  ['d-value', new RegExp(`^\\*\\*\\*D:VALUE (${NAME})=(none|bool|int|str|multi-str):(.*)$`)],
  ['terminate', /^\*\*\*TERMINATE$/],
  ['q-start', new RegExp(`^\\*\\*%QStart: (${NAME})$`)],
  ['q-default', /^\*\*%QDefault: (.*)$/],
  ['q-valid', /^\*\*%QValidValues: (.*)$/],
  ['q-hidden', /^\*\*%QHidden: (TRUE|FALSE)$/],
  ['q-end', new RegExp(`^\\*\\*%QEnd: (${NAME})$`)],
  ['events-start', /^\*\*%EventsListStart$/],
  ['events-end', /^\*\*%EventsListEnd$/],
];
const MULTI_Q = new RegExp(`^\\*\\*\\*Q:MULTI-STRING (${NAME}) (\\S+) (\\S+)$`);
const MULTI_D = new RegExp(`^\\*\\*\\*D:MULTI-STRING (${NAME}) (\\S+)$`);
const EVENT_LINE = new RegExp(`^\\*\\*%(EventsListEntry|EventStart|EventEnd) ${EVENT}$`);

export class ProtocolError extends Error {}

/** Splits `**%QValidValues` text into values, undoing `\\` and `\|`. */
export function splitValidValues(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) cur += text[++i]!;
    else if (ch === '|') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Classifies every line of a transcript (standard output of a run). */
export function classify(transcript: string): ClassifiedLine[] {
  if (transcript.length > 0 && !transcript.endsWith('\n'))
    throw new ProtocolError('the transcript does not end with a line feed');
  if (transcript.includes('\r')) throw new ProtocolError('the transcript holds a carriage return');
  const lines = transcript.length === 0 ? [] : transcript.slice(0, -1).split('\n');
  const out: ClassifiedLine[] = [];
  let block: string | undefined;
  lines.forEach((text, index) => {
    if (block !== undefined) {
      if (text === block) {
        out.push({ kind: 'block-end', text });
        block = undefined;
      } else {
        out.push({ kind: 'block-body', text });
      }
      return;
    }
    let m = MULTI_D.exec(text);
    if (m !== null) {
      block = m[2]!;
      out.push({ kind: 'd-multi', text, name: m[1]! });
      return;
    }
    m = MULTI_Q.exec(text);
    if (m !== null) {
      out.push({ kind: 'q-multi', text, name: m[1]! });
      return;
    }
    m = EVENT_LINE.exec(text);
    if (m !== null) {
      if (m[3] !== m[4]) throw new ProtocolError(`line ${index + 1}: handler names differ: ${text}`);
      const kind: LineKind =
        m[1] === 'EventsListEntry' ? 'events-entry' : m[1] === 'EventStart' ? 'event-start' : 'event-end';
      out.push({ kind, text, stage: m[2]!, handler: m[3]! });
      return;
    }
    for (const [kind, re] of SIMPLE) {
      const s = re.exec(text);
      if (s === null) continue;
      const name =
        kind === 'log' || kind === 'note' || kind.startsWith('q-default') || kind === 'q-valid' || kind === 'q-hidden'
          ? undefined
          : s[1];
      out.push({ kind, text, ...(name === undefined ? {} : { name }), ...(kind === 'log' ? { level: s[1]! } : {}) });
      return;
    }
    throw new ProtocolError(`line ${index + 1} cannot be classified: ${JSON.stringify(text)}`);
  });
  if (block !== undefined) throw new ProtocolError('a multi-string block is not closed');
  return out;
}

/** Checks the ordering rules of the document; returns the classified lines. */
export function checkTranscript(transcript: string): ClassifiedLine[] {
  const lines = classify(transcript);
  const last = lines[lines.length - 1];
  if (last?.kind !== 'terminate') throw new ProtocolError('the last line is not ***TERMINATE');
  if (lines.filter((l) => l.kind === 'terminate').length !== 1)
    throw new ProtocolError('***TERMINATE appears more than once');
  let frame: string | undefined;
  let frameSawQuestion = false;
  const open: string[] = [];
  let listState: 'before' | 'in' | 'after' = 'before';
  for (const line of lines) {
    switch (line.kind) {
      case 'events-start':
        if (listState !== 'before') throw new ProtocolError('a second events list');
        listState = 'in';
        break;
      case 'events-entry':
        if (listState !== 'in') throw new ProtocolError('an events list entry outside the list');
        break;
      case 'events-end':
        if (listState !== 'in') throw new ProtocolError('an events list end without a start');
        listState = 'after';
        break;
      case 'event-start':
        if (listState !== 'after') throw new ProtocolError('an event before the events list');
        open.push(line.handler!);
        break;
      case 'event-end':
        if (open.pop() !== line.handler) throw new ProtocolError(`an event end without its start: ${line.text}`);
        break;
      case 'q-start':
        if (frame !== undefined) throw new ProtocolError(`a frame starts inside frame ${frame}`);
        frame = line.name!;
        frameSawQuestion = false;
        break;
      case 'q-default':
      case 'q-valid':
      case 'q-hidden':
        if (frame === undefined || frameSawQuestion) throw new ProtocolError(`${line.text} outside a frame header`);
        break;
      case 'q-string':
      case 'q-multi':
      case 'q-value':
        if (frame !== line.name) throw new ProtocolError(`question ${line.name} outside its frame`);
        frameSawQuestion = true;
        break;
      case 'q-end':
        if (frame !== line.name || !frameSawQuestion)
          throw new ProtocolError(`frame end for ${line.name} does not match`);
        frame = undefined;
        break;
      default:
        break;
    }
  }
  if (frame !== undefined) throw new ProtocolError(`frame ${frame} is not closed`);
  return lines;
}
