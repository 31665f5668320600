/**
 * Starts several Node.js processes that each run one ES module script, waits until every one of
 * them has loaded (each prints `ready`), then releases them together through their stdin, so
 * what they do next really happens at the same moment. Returns what each printed after `ready`.
 *
 * `prelude` runs before the barrier (load modules there, so loading does not spread the racers
 * out), `script` after it. Both get the argument list in `process.argv.slice(1)`; the script must
 * end by itself.
 */
import { spawn } from 'node:child_process';

export async function raceProcesses(
  code: { readonly prelude: string; readonly script: string },
  argsPerProcess: readonly (readonly string[])[],
): Promise<string[]> {
  const body = `${code.prelude}\nprocess.stdout.write('ready\\n'); await new Promise((r) => process.stdin.once('data', r));\n${code.script}`;
  const children = argsPerProcess.map((args) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', body, ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const done = new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.startsWith('ready\n')) markReady();
      });
      child.on('error', reject);
      child.on('close', (code) => {
        markReady();
        if (!out.startsWith('ready\n'))
          reject(new Error(`a racer exited ${code ?? 'by a signal'} before it was ready`));
        else resolve(out.slice('ready\n'.length));
      });
    });
    return { child, ready, done };
  });
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.child.stdin.end('go\n');
  return Promise.all(children.map((c) => c.done));
}
