/**
 * Program discovery behind the `COMMAND/<name>` keys. Plugins name the programs they use
 * (`detect`) during setup; at the programs stage every one still unset is searched on
 * `SYSTEM/commandPath`. `get` finds a program on demand too, so a lookup before programs
 * works; a required program that is missing is an error naming the key to set.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { OtopiError, type Commands, type Environment } from '@otopi/core';
import { CommandFamily, SystemEnv } from './keys.js';

export type IsExecutable = (path: string) => boolean;

export const isExecutableFile: IsExecutable = (path) => {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

export class CommandRegistry implements Commands {
  private readonly wanted = new Set<string>();

  constructor(
    private readonly env: Environment,
    private readonly isExecutable: IsExecutable = isExecutableFile,
  ) {}

  detect(name: string): void {
    checkName(name);
    this.wanted.add(name);
  }

  names(): readonly string[] {
    return [...this.wanted].sort();
  }

  set(name: string, path: string): void {
    checkName(name);
    this.env.set(CommandFamily(name), path);
  }

  find(name: string): string | null {
    checkName(name);
    const given = this.env.get(CommandFamily(name));
    if (given !== null && given !== '') return given;
    const found = this.search(name);
    if (found !== null) this.env.set(CommandFamily(name), found);
    return found;
  }

  get(name: string): string {
    const path = this.find(name);
    if (path !== null) return path;
    throw new OtopiError('COMMAND_MISSING', `Command '${name}' is required but missing`, {
      key: CommandFamily(name).key,
      hint: `Install it, or set COMMAND/${name}=str:/path/to/${name} (searched: ${this.env.get(SystemEnv.commandPath)}).`,
    });
  }

  /** Searches every registered program still unset; returns the ones not found. */
  detectAll(): string[] {
    const missing: string[] = [];
    for (const name of this.names()) {
      if (this.find(name) === null) missing.push(name);
    }
    return missing;
  }

  private search(name: string): string | null {
    for (const dir of this.env.get(SystemEnv.commandPath).split(':')) {
      if (dir === '') continue;
      const candidate = join(dir, name);
      if (this.isExecutable(candidate)) return candidate;
    }
    return null;
  }
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_.+-]+$/.test(name)) throw new OtopiError('INTERNAL', `bad command name '${name}'`);
}
