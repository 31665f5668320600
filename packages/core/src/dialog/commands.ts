/**
 * The command prompt (`DIALOG/customization=bool:True`): a manager or a person inspects
 * and changes the environment at customization (before the configuration is enforced)
 * and again at pre-termination, also after an error, until `install` or `quit`.
 *
 * A mistake (an unknown command, bad options, a value an environment key refuses) is
 * shown as an ERROR line and the prompt asks again; only dialog failures (end of input,
 * a malformed reply, an abort) end the loop.
 */
import { AbortError, OtopiError, isOtopiError } from '../errors.js';
import { parseTypedValue, splitLines, type EnvValue } from '../env/codec.js';
import { renderValue } from '../env/environment.js';
import { STATEMENT_KEY_RE } from '../env/statements.js';
import { REDACTED } from '../log/redact.js';
import type { HandlerContext } from '../plugin/define.js';
import { BaseEnv } from '../runtime/keys.js';
import { parseCommand, requireOptions, type ParsedCommand } from './command-line.js';
import { BOUNDARY_PLACEHOLDER, DialogEnv } from './keys.js';

export type PromptPhase = 'customization' | 'termination';

/** What the commands need from the run besides the handler context. */
export interface PromptHost {
  /** The run's log so far, redacted. */
  logText(): string;
  /** The first error of the run, if any. */
  readonly error: unknown;
}

type Outcome = 'again' | 'leave';

interface Command {
  readonly description: string;
  readonly usage: string;
  readonly phases: readonly PromptPhase[];
  run(command: ParsedCommand, ctx: HandlerContext, host: PromptHost): Promise<Outcome> | Outcome;
}

const BOTH: readonly PromptPhase[] = ['customization', 'termination'];

const COMMANDS: Readonly<Record<string, Command>> = {
  help: {
    description: 'List the commands available now',
    usage: 'help',
    phases: BOTH,
    run: () => 'again', // handled by runPrompt, which knows the phase
  },
  noop: { description: 'Do nothing', usage: 'noop', phases: BOTH, run: () => 'again' },
  abort: {
    description: 'Abort the run',
    usage: 'abort',
    phases: ['customization'],
    run: () => {
      throw new AbortError('Aborted by user');
    },
  },
  install: {
    description: 'Leave the prompt and continue the installation',
    usage: 'install',
    phases: ['customization'],
    run: () => 'leave',
  },
  quit: { description: 'Leave the prompt and end the run', usage: 'quit', phases: ['termination'], run: () => 'leave' },
  'env-show': {
    description: 'Show the whole environment as KEY=type:value notes (secrets redacted)',
    usage: 'env-show',
    phases: BOTH,
    run: (_c, { env, dialog }) => {
      dialog.note(
        env
          .keys()
          .map((k) => `${k}=${env.render(k)}`)
          .join('\n'),
      );
      return 'again';
    },
  },
  'env-get': {
    description: 'Show one key as a value (or a multi-string block for a list)',
    usage: 'env-get -k KEY',
    phases: BOTH,
    run: (c, { env, dialog }) => {
      const key = c.options.key!;
      dialog.displayValue(key, shownValue(ctxValue(env, key), env.isSensitive(key)));
      return 'again';
    },
  },
  'env-set': {
    description: 'Set a key: TYPE is none, bool, int, str (the default) or multi-str',
    usage: 'env-set -k KEY [-t TYPE] -v VALUE',
    phases: BOTH,
    run: (c, { env }) => {
      const key = checkKey(c.options.key!);
      const { value } = parseTypedValue(`${c.options.type ?? 'str'}:${c.options.value!}`, {
        key,
        sensitive: env.isSensitive(key),
      });
      env.setExternal(key, value, { kind: 'dialog', question: 'env-set' });
      return 'again';
    },
  },
  'env-query': {
    description: 'Ask for a typed value (***Q:VALUE) and set the key to it',
    usage: 'env-query -k KEY',
    phases: BOTH,
    run: async (c, { env, dialog }): Promise<Outcome> => {
      const key = checkKey(c.options.key!);
      const secretsIn = env.isSensitive(key) ? valueSecrets : undefined;
      env.setExternal(key, await dialog.queryValue({ name: key, remember: false, ...(secretsIn && { secretsIn }) }), {
        kind: 'dialog',
        question: 'env-query',
      });
      return 'again';
    },
  },
  'env-query-multi': {
    description: 'Ask for lines (***Q:MULTI-STRING) and set the key to them',
    usage: 'env-query-multi -k KEY',
    phases: BOTH,
    run: async (c, { env, dialog }): Promise<Outcome> => {
      const key = checkKey(c.options.key!);
      const secretsIn = env.isSensitive(key) ? (line: string) => [line] : undefined;
      env.setExternal(
        key,
        await dialog.queryMultiString({ name: key, remember: false, ...(secretsIn && { secretsIn }) }),
        {
          kind: 'dialog',
          question: 'env-query-multi',
        },
      );
      return 'again';
    },
  },
  log: {
    description: 'Show the log of this run so far (secrets redacted) as the block LOG',
    usage: 'log',
    phases: BOTH,
    run: (_c, { env, dialog }, host) => {
      const boundary = env.get(DialogEnv.boundary);
      dialog.displayMultiString(
        'LOG',
        splitLines(host.logText()).map((l) => l.replaceAll(boundary, BOUNDARY_PLACEHOLDER)),
      );
      return 'again';
    },
  },
  'exception-show': {
    description: 'Show the errors of this run',
    usage: 'exception-show',
    phases: BOTH,
    run: (_c, { env, dialog }, host) => {
      const messages = env.get(BaseEnv.errorMessages);
      const stack = host.error instanceof Error ? host.error.stack : undefined;
      dialog.note(
        messages.length === 0 ? 'No errors so far.' : [...messages, ...(stack === undefined ? [] : [stack])].join('\n'),
      );
      return 'again';
    },
  },
};

/** Which options each command takes: [required, optional]. */
const OPTIONS: Readonly<
  Record<string, readonly [readonly ('key' | 'type' | 'value')[], readonly ('key' | 'type' | 'value')[]]>
> = {
  'env-get': [['key'], []],
  'env-set': [['key', 'value'], ['type']],
  'env-query': [['key'], []],
  'env-query-multi': [['key'], []],
};

const PROMPTS: Record<PromptPhase, { readonly question: string; readonly note: string }> = {
  customization: {
    question: 'CUSTOMIZATION_COMMAND',
    note: "Customization: enter a command ('help' lists them); 'install' continues the installation.\nCOMMAND> ",
  },
  termination: {
    question: 'TERMINATION_COMMAND',
    note: "The run has ended: enter a command ('help' lists them); 'quit' leaves.\nCOMMAND> ",
  },
};

/** Asks for commands until one leaves the prompt. */
export async function runPrompt(phase: PromptPhase, ctx: HandlerContext, host: PromptHost): Promise<void> {
  const { question, note } = PROMPTS[phase];
  for (;;) {
    // An empty line is a no-op; but with auto-accepted defaults an empty default would
    // be taken forever, so the prompt then has none.
    const line = await ctx.dialog.queryString({
      name: question,
      note,
      secretsIn: (reply) => promptSecrets(reply, ctx.env),
      ...(ctx.env.get(DialogEnv.autoAcceptDefault) ? {} : { default: '' }),
    });
    try {
      if ((await runCommand(line, phase, ctx, host)) === 'leave') return;
    } catch (error) {
      if (!isOtopiError(error) || !(error.code === 'USAGE' || error.code.startsWith('ENV_'))) throw error;
      // The code goes to the log file only (` code=…`); the console shows the message.
      ctx.log.error({ code: error.code }, error.message);
      if (error.hint !== undefined) ctx.dialog.note(error.hint);
    }
  }
}

async function runCommand(line: string, phase: PromptPhase, ctx: HandlerContext, host: PromptHost): Promise<Outcome> {
  const parsed = parseCommand(line);
  if (parsed === undefined) return 'again';
  const command = Object.hasOwn(COMMANDS, parsed.name) ? COMMANDS[parsed.name] : undefined;
  if (command === undefined || !command.phases.includes(phase)) {
    throw new OtopiError('USAGE', `Invalid command '${parsed.name}'${command === undefined ? '' : ` at ${phase}`}`, {
      hint: "Type 'help' for the commands available now.",
    });
  }
  if (parsed.help) {
    ctx.dialog.note(`${command.usage}\n  ${command.description}`);
    return 'again';
  }
  const [required, optional] = OPTIONS[parsed.name] ?? [[], []];
  requireOptions(parsed, required, optional);
  if (parsed.name === 'help') {
    const lines = Object.entries(COMMANDS)
      .filter(([, c]) => c.phases.includes(phase))
      .map(([name, c]) => `${name} - ${c.description}`);
    ctx.dialog.note([...lines, "Use '<command> -h' for a command's options."].join('\n'));
    return 'again';
  }
  return command.run(parsed, ctx, host);
}

/**
 * The secrets in a prompt line: the value of an `env-set` of a sensitive key (and any stray
 * words, which may be the rest of it). A line that does not parse but names a sensitive key
 * is a secret as a whole.
 */
function promptSecrets(line: string, env: HandlerContext['env']): string[] {
  let parsed: ParsedCommand | undefined;
  try {
    parsed = parseCommand(line);
  } catch {
    const named = line.split(/\s+/).some((word) => {
      const key = word.replace(/^['"]+|['"]+$/g, '').replace(/^--?k(?:ey=)?/, '');
      return STATEMENT_KEY_RE.test(key) && env.isSensitive(key);
    });
    return named ? [line] : [];
  }
  const key = parsed?.options.key;
  if (parsed?.name !== 'env-set' || key === undefined || !env.isSensitive(key)) return [];
  return [parsed.options.value, ...parsed.positional].filter((v): v is string => v !== undefined && v !== '');
}

/** The secret in a reply to `env-query` of a sensitive key: what follows the type (`VALUE K=str:<secret>`). */
function valueSecrets(reply: string): string[] {
  if (reply.startsWith('ABORT ')) return [];
  const colon = reply.indexOf(':');
  const value = colon < 0 ? reply : reply.slice(colon + 1);
  return [...new Set([value, value.trim()])].filter((v) => v !== '');
}

function checkKey(key: string): string {
  if (!STATEMENT_KEY_RE.test(key)) {
    throw new OtopiError('USAGE', `Syntax error: '${key}' is not an environment key`, {
      hint: 'Keys look like GROUP/name.',
    });
  }
  return key;
}

function ctxValue(env: HandlerContext['env'], key: string): unknown {
  return env.has(key) ? env.getRaw(key) : null;
}

/** The value `env-get` shows: secrets replaced, objects shown by their description. */
function shownValue(value: unknown, sensitive: boolean): EnvValue {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.map((v) => (sensitive ? REDACTED : String(v)));
  if (sensitive) return REDACTED;
  if (
    typeof value === 'boolean' ||
    typeof value === 'string' ||
    (typeof value === 'number' && Number.isSafeInteger(value))
  )
    return value;
  return renderValue(value);
}
