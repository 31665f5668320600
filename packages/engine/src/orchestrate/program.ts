/**
 * The dialog program a host's deploy runs: the base program (the host's log file name, then
 * the environment settings, each validated by the host), then one program per plugin group
 * that has a factory (e.g. host-deploy's PKI and vdsm steps). `composePrograms` joins them;
 * a command the host refuses during customization makes the next prompt send `abort`.
 */
import { parseTypedValue, type EnvValue } from '@otopi/core';
import {
  steps,
  type Answer,
  type DialogOutcome,
  type DialogProgram,
  type QuestionEvent,
  type Step,
  type StepContext,
} from '../dialog/driver.js';
import type { InventoryHost } from '../inventory/inventory.js';
import type { HostResultKind } from './events.js';

/** What a group's program factory learns about the run. */
export interface DeployProgramContext {
  /** Plugin groups the run loads besides the base group. */
  readonly groups: readonly string[];
  readonly dryRun: boolean;
  /** Adds a line to the host's engine-side log (redacted like everything there). */
  log(text: string): void;
  /**
   * Keys the base program sets for this host (answer file, inventory, command line). A group's
   * program leaves these alone: what the user gave wins over the program's defaults.
   */
  readonly givenKeys: ReadonlySet<string>;
}

/** What a group's program concludes about a host when its dialog has ended. */
export interface GroupConclusion {
  /**
   * A finer result for a host that installed: it needs a manual step (`incomplete`) or reboots
   * to finish (`reboot`). Ignored for a host that failed or aborted.
   */
  readonly result?: 'incomplete' | 'reboot';
  /** Lines for the host's report (why it is incomplete, what the group refused). */
  readonly details?: readonly string[];
  /** Facts for the host's report, e.g. `{ vdsmId }`. */
  readonly facts?: Readonly<Record<string, string>>;
}

/** A plugin group's part of a host's deploy. */
export interface GroupProgram extends DialogProgram {
  /**
   * Statements for the installer's command line, after the run's own: what the host needs
   * before the dialog starts (a packager chosen at setup, an id every log line carries). They
   * show in the host's process list: never secrets.
   */
  readonly statements?: readonly string[];
  /** Called once the session ended, with the dialog's outcome and the result so far. */
  readonly conclude?: (outcome: DialogOutcome | undefined, result: HostResultKind) => GroupConclusion | undefined;
}

/**
 * Makes the dialog program of one plugin group for one host, when that host's deploy starts
 * (before it connects, so that the program's statements reach the command line). Its
 * customization steps run after the base program's, its termination steps before the
 * standard ones (BASE/error, the log, quit); its answers come after the inventory's.
 * Throwing fails the host before it connects.
 */
export type DeployProgramFactory = (
  host: InventoryHost,
  ctx: DeployProgramContext,
) => GroupProgram | Promise<GroupProgram>;

/** Turns an inventory answer (text) into what the question needs; undefined refuses it. */
export function answerFromText(text: string, event: QuestionEvent): Answer | undefined {
  switch (event.kind) {
    case 'query-string':
      return text;
    case 'query-multi-string':
      return text.split('\n');
    case 'query-value':
      try {
        return parseTypedValue(text).value as Answer;
      } catch {
        return text; // no type prefix: the text is the string
      }
    case 'confirm': {
      const word = text.trim().toLowerCase();
      if (['yes', 'y', 'true', '1'].includes(word)) return true;
      if (['no', 'n', 'false', '0'].includes(word)) return false;
      return undefined;
    }
  }
}

export interface BaseProgramOptions {
  /** Values to set at customization, in order. */
  readonly values: readonly { readonly key: string; readonly value: EnvValue }[];
  /** Answers from the inventory, by question name. */
  readonly answers: Readonly<Record<string, string>>;
  /** Receives the host's log file name (`CORE/logFileName`). */
  readonly onLogFile?: (path: string) => void;
  /**
   * Receives at termination what the host changed (`CORE/changes`, one line each; under dry
   * run what it would change), and under dry run the diff (`CORE/dryRunDiff`). A host too old
   * to know the keys gives nothing and this is not called.
   */
  readonly onChanges?: (changes: readonly string[], diff: readonly string[] | undefined) => void;
  /** Whether the run is a dry run: then the diff is asked too. */
  readonly dryRun?: boolean;
}

/** A displayed multi-str value as lines; undefined for a key the host does not know. */
function lines(value: { readonly type: string; readonly value: string | readonly string[] }): string[] | undefined {
  if (Array.isArray(value.value)) return [...(value.value as readonly string[])];
  if (value.type === 'none') return undefined;
  return value.value === '' ? [] : [value.value as string];
}

export function baseProgram(options: BaseProgramOptions): DialogProgram {
  const customization: Step[] = [
    steps.get('CORE/logFileName', (v) => {
      if (typeof v.value === 'string') options.onLogFile?.(v.value);
    }),
    ...options.values.map(({ key, value }) => steps.set(key, value as Parameters<typeof steps.set>[1])),
  ];
  let changes: string[] | undefined;
  const termination: Step[] =
    options.onChanges === undefined
      ? []
      : [
          steps.get('CORE/changes', (v) => {
            changes = lines(v);
            if (changes !== undefined && options.dryRun !== true) options.onChanges?.(changes, undefined);
          }),
          ...(options.dryRun === true
            ? [
                steps.get('CORE/dryRunDiff', (v) => {
                  if (changes !== undefined) options.onChanges?.(changes, lines(v) ?? []);
                }),
              ]
            : []),
        ];
  return {
    customization,
    termination,
    answer: (event) => {
      const text = options.answers[event.name];
      return text === undefined ? undefined : answerFromText(text, event);
    },
  };
}

/**
 * Joins programs into one: customization and termination steps in order, answers from the
 * first program that has one, every callback called. Before each customization step (and
 * before `install`) it checks whether the host refused an earlier command (an `***L:ERROR`
 * during customization: an unknown key, a value the key does not take) and then fails the
 * deploy, so the host aborts instead of installing without that setting.
 */
export function composePrograms(
  programs: readonly DialogProgram[],
  options: Pick<DialogProgram, 'pipeline'> = {},
): DialogProgram {
  const refused: string[] = [];
  let inCustomization = false;
  let reported = 0;
  const check = (step: Step) => (ctx: StepContext) => {
    if (refused.length > reported) {
      reported = refused.length;
      ctx.fail(`the host refused a customization command: ${refused.join('; ')}`, 'COMMAND_REFUSED');
      return undefined;
    }
    return step;
  };
  // Pipelined, a step's check may run before the replies to the steps sent with it: the
  // last check, before `install`, waits for them all.
  const customization = programs.flatMap((p) => p.customization ?? []).map((step) => steps.eager(check(step)));
  // The last check sends `install` itself, saving the round trip of a `noop`.
  customization.push(steps.dynamic(check(steps.command('install'))));

  const composed: DialogProgram = {
    customization,
    termination: programs.flatMap((p) => p.termination ?? []),
    answer: (event, ctx) => {
      for (const p of programs) {
        const answer = p.answers?.[event.name] ?? p.answer?.(event, ctx);
        if (answer !== undefined) return answer;
      }
      return undefined;
    },
    onDisplay: async (name, value, ctx) => {
      for (const p of programs) await p.onDisplay?.(name, value, ctx);
    },
    onStage: (stage) => {
      inCustomization = stage === 'customization';
      for (const p of programs) p.onStage?.(stage);
    },
    onLog: (level, text) => {
      if (inCustomization && (level === 'ERROR' || level === 'CRITICAL' || level === 'FATAL')) refused.push(text);
      for (const p of programs) p.onLog?.(level, text);
    },
    onEvent: (kind, handler) => {
      for (const p of programs) p.onEvent?.(kind, handler);
    },
    onHostLog: async (lines) => {
      for (const p of programs) await p.onHostLog?.(lines);
    },
    transcript: (direction, line) => {
      for (const p of programs) p.transcript?.(direction, line);
    },
    ...options,
  };
  return composed;
}
