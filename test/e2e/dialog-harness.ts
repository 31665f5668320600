/**
 * Drives a machine-dialect run of the built CLI over pipes, as a manager would: waits for
 * each question line and sends the reply.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI, FIXTURE_PLUGINS, ROOT } from './helpers.js';

export const BOUNDARY = '--=451b80dc-996f-432e-9e4f-2b29ef6d1141=--';
export const ABORT_BOUNDARY = '--=451b80dc-996f-ABORT-9e4f-2b29ef6d1141=--';

/** Statements that load the `dialogs` fixture group in the machine dialect. */
export function dialogArgs(...extra: string[]): string[] {
  return [
    `BASE/pluginPath=str:${join(ROOT, 'plugins')}:${FIXTURE_PLUGINS}`,
    'APPEND:BASE/pluginGroups=str:dialogs',
    'DIALOG/dialect=str:machine',
    ...extra,
  ];
}

export interface Question {
  readonly kind: 'STRING' | 'MULTI-STRING' | 'VALUE' | 'CONFIRM';
  readonly name: string;
  readonly line: string;
}

export interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class MachineSession {
  readonly lines: string[] = [];
  private cursor = 0;
  private inBlock: string | undefined;
  private stderr = '';
  private waiter: (() => void) | undefined;
  private ended = false;
  private readonly exit: Promise<number>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.waiter?.();
    });
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    this.exit = new Promise((resolve) => {
      child.on('close', (code) => {
        this.ended = true;
        this.waiter?.();
        resolve(code ?? -1);
      });
    });
  }

  static start(args: readonly string[], dir: string): MachineSession {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        OTOPI_CONFIG: join(dir, 'no-system.conf'),
        OTOPI_LOGDIR: dir,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new MachineSession(child);
  }

  /** Waits for the next line (from the cursor on) that matches; returns it. */
  async waitFor(match: (line: string) => boolean, what = 'a line', inBlocks = false): Promise<string> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      while (this.cursor < this.lines.length) {
        const line = this.lines[this.cursor++]!;
        if ((this.track(line) || inBlocks) && match(line)) return line;
      }
      if (this.ended)
        throw new Error(`run ended while waiting for ${what}; output:\n${this.lines.slice(-15).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Waits for the next question; checks its name when given. */
  async question(name?: string): Promise<Question> {
    const line = await this.waitFor(
      (l) => l.startsWith('***Q:') || l.startsWith('***CONFIRM '),
      `question ${name ?? ''}`,
    );
    const m = /^\*\*\*(?:Q:(STRING|MULTI-STRING|VALUE)|(CONFIRM)) (\S+)/.exec(line);
    if (m === null) throw new Error(`unexpected question line ${line}`);
    const q: Question = { kind: (m[1] ?? m[2]) as Question['kind'], name: m[3]!, line };
    if (name !== undefined && q.name !== name) throw new Error(`expected question ${name}, got ${line}`);
    return q;
  }

  /** Answers the next question, which must be `name`. */
  async answer(name: string, ...reply: string[]): Promise<Question> {
    const q = await this.question(name);
    for (const r of reply) this.send(r);
    return q;
  }

  /** Sends a command at the command prompt. */
  async command(prompt: 'CUSTOMIZATION_COMMAND' | 'TERMINATION_COMMAND', command: string): Promise<void> {
    await this.answer(prompt, command);
  }

  /** The lines of the next `***D:MULTI-STRING name` block. */
  async block(name: string): Promise<string[]> {
    const header = await this.waitFor((l) => l.startsWith(`***D:MULTI-STRING ${name} `), `block ${name}`);
    const boundary = header.split(' ')[2]!;
    const body: string[] = [];
    for (;;) {
      const line = await this.waitFor(() => true, `the end of block ${name}`, true);
      if (line === boundary) return body;
      body.push(line);
    }
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  closeInput(): void {
    this.child.stdin.end();
  }

  async finish(): Promise<Finished> {
    this.child.stdin.end();
    const code = await this.exit;
    return { code, stdout: this.lines.map((l) => `${l}\n`).join(''), stderr: this.stderr };
  }

  /** Keeps track of display blocks; false for a block's body and end, which are never protocol lines. */
  private track(line: string): boolean {
    if (this.inBlock !== undefined) {
      if (line === this.inBlock) this.inBlock = undefined;
      return false;
    }
    const m = /^\*\*\*D:MULTI-STRING \S+ (\S+)$/.exec(line);
    if (m !== null) this.inBlock = m[1]!;
    return true;
  }
}
