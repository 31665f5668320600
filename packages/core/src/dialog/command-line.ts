/**
 * Reading a command typed at the command prompt: words split as a POSIX shell would
 * (quotes and backslashes), then options in otopi's syntax: `-k KEY`, `-kKEY`,
 * `--key KEY`, `--key=KEY`, likewise `-t/--type`, `-v/--value`, and `-h/--help`.
 */
import { OtopiError } from '../errors.js';

export const COMMAND_OPTIONS = { k: 'key', t: 'type', v: 'value' } as const;
export type CommandOption = (typeof COMMAND_OPTIONS)[keyof typeof COMMAND_OPTIONS];

export interface ParsedCommand {
  readonly name: string;
  readonly options: Readonly<Partial<Record<CommandOption, string>>>;
  readonly help: boolean;
  /** Words that are neither the command nor options (no command takes any). */
  readonly positional: readonly string[];
}

function syntax(message: string): OtopiError {
  return new OtopiError('USAGE', `Syntax error: ${message}`, {
    hint: "Type 'help' for the commands, '<command> -h' for one's options.",
  });
}

/** Splits a line into words; quotes group, a backslash escapes (inside double quotes only before `"`, `\`, `$`, `` ` ``). */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      const next = line[i + 1];
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && next !== undefined && '"\\$`'.includes(next)) word += line[++i]!;
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\') {
      if (i + 1 >= line.length) throw syntax('the line ends with a lone backslash');
      word += line[++i]!;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) throw syntax(`no closing ${quote}`);
  if (inWord) words.push(word);
  return words;
}

/**
 * Parses a command line. Options may come in any order; one given twice, an unknown one or
 * one without its value is a `USAGE` error.
 */
export function parseCommand(line: string): ParsedCommand | undefined {
  const [name, ...rest] = splitWords(line);
  if (name === undefined) return undefined;
  const options: Partial<Record<CommandOption, string>> = {};
  const positional: string[] = [];
  let help = false;
  const set = (option: CommandOption, value: string | undefined, shown: string): void => {
    if (value === undefined) throw syntax(`option ${shown} needs a value`);
    if (options[option] !== undefined) throw syntax(`option ${shown} is given twice`);
    options[option] = value;
  };
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (word === '-h' || word === '--help') {
      help = true;
    } else if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const long = eq < 0 ? word.slice(2) : word.slice(2, eq);
      const option = Object.values(COMMAND_OPTIONS).find((o) => o === long);
      if (option === undefined) throw syntax(`unknown option '${word}'`);
      set(option, eq < 0 ? rest[++i] : word.slice(eq + 1), `--${long}`);
    } else if (word.startsWith('-') && word.length > 1) {
      const letter = word[1]!;
      const option = Object.hasOwn(COMMAND_OPTIONS, letter)
        ? COMMAND_OPTIONS[letter as keyof typeof COMMAND_OPTIONS]
        : undefined;
      if (option === undefined) throw syntax(`unknown option '${word}'`);
      set(option, word.length > 2 ? word.slice(2) : rest[++i], `-${letter}`);
    } else {
      positional.push(word);
    }
  }
  return { name, options, help, positional };
}

/** Checks that a command got exactly the options it takes. */
export function requireOptions(
  command: ParsedCommand,
  required: readonly CommandOption[],
  optional: readonly CommandOption[] = [],
): void {
  if (command.positional.length > 0) throw syntax(`'${command.name}' takes no argument '${command.positional[0]!}'`);
  for (const option of Object.keys(command.options) as CommandOption[]) {
    if (!required.includes(option) && !optional.includes(option))
      throw syntax(`'${command.name}' takes no --${option}`);
  }
  for (const option of required) {
    if (command.options[option] === undefined) throw syntax(`'${command.name}' needs --${option} (-${option[0]!})`);
  }
}
