/**
 * Running programs: no shell, `LC_ALL=C`, a timeout, output captured and logged. Every
 * plugin that drives a system tool (apt, systemctl, iptables…) goes through here, so the
 * log shows each command, its exit code and its output, redacted like everything else.
 */
import { spawn } from 'node:child_process';
import { OtopiError } from '../errors.js';
import type { Logger } from '../log/logger.js';

export interface ExecOptions {
  /** Text written to the program's standard input. */
  readonly input?: string | Buffer;
  /** Extra environment; merged over ours with `LC_ALL=C`. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Kill the program (SIGTERM, then SIGKILL 5 s later) after this many ms. Default 10 minutes. */
  readonly timeoutMs?: number;
  /** Whether a non-zero exit is returned instead of thrown. Default false. */
  readonly allowFailure?: boolean;
  /** Where to log the command and its result; nothing is logged without it. */
  readonly log?: Logger;
  /** Don't log standard input (it may hold a secret the redactor does not know). */
  readonly hideInput?: boolean;
  /** Called with each chunk of standard output as it arrives (progress, keepalive). */
  readonly onOutput?: (chunk: string) => void;
}

export interface ExecResult {
  readonly argv: readonly string[];
  readonly code: number;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const MAX_CAPTURE = 16 * 1024 * 1024;

export function exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.reject(new OtopiError('INTERNAL', 'exec: empty command'));
  const log = options.log;
  log?.debug(`execute: ${argv.map(quoteForLog).join(' ')}`);
  if (options.input !== undefined && log !== undefined && options.hideInput !== true) {
    log.debug(`execute-input: ${String(options.input)}`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, LC_ALL: 'C', LANG: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timeoutMs = options.timeoutMs ?? 600_000;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < MAX_CAPTURE) stdout += chunk;
      options.onOutput?.(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < MAX_CAPTURE) stderr += chunk;
    });
    child.stdin.on('error', () => undefined); // a program that exits without reading its input
    child.stdin.end(options.input ?? '');
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const missing = error.code === 'ENOENT';
      reject(
        new OtopiError(
          missing ? 'COMMAND_MISSING' : 'HANDLER_FAILED',
          missing ? `command '${program}' not found` : `cannot run '${program}': ${error.message}`,
          {
            cause: error,
            ...(missing
              ? { hint: `Install it, or set COMMAND/${basename(program)}=str:/path/to/${basename(program)}.` }
              : {}),
          },
        ),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: ExecResult = { argv, code: code ?? 128, signal, stdout, stderr };
      log?.debug(`execute-result: ${program} rc=${result.code}${signal ? ` signal=${signal}` : ''}`);
      if (stdout.length > 0) log?.debug(`execute-output: ${program} stdout:\n${stdout.trimEnd()}`);
      if (stderr.length > 0) log?.debug(`execute-output: ${program} stderr:\n${stderr.trimEnd()}`);
      if (timedOut) {
        reject(
          new OtopiError('HANDLER_FAILED', `command '${program}' timed out after ${Math.round(timeoutMs / 1000)} s`),
        );
      } else if (result.code !== 0 && options.allowFailure !== true) {
        const detail = (stderr.trim() || stdout.trim()).split('\n').slice(-3).join(' / ');
        reject(
          new OtopiError(
            'HANDLER_FAILED',
            `command '${argv.join(' ')}' failed with exit code ${result.code}${detail ? `: ${detail}` : ''}`,
          ),
        );
      } else {
        resolve(result);
      }
    });
  });
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function quoteForLog(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
