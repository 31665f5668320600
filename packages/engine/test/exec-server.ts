/**
 * The exec side of a test SSH server (ssh2's Server): each command runs under /bin/sh with the
 * channel as its standard input, output and error, and its exit code comes back; closing the
 * channel kills it, as sshd does.
 */
import { spawn } from 'node:child_process';
import type { AcceptConnection, Session } from 'ssh2';

export function serveExecs(acceptSession: AcceptConnection<Session>): void {
  acceptSession().on('exec', (acceptExec, _reject, info) => {
    const stream = acceptExec();
    const child = spawn('/bin/sh', ['-c', info.command], { stdio: 'pipe' });
    stream.pipe(child.stdin);
    child.stdin.on('error', () => {});
    child.stdout.pipe(stream, { end: false });
    child.stderr.pipe(stream.stderr);
    stream.on('close', () => child.kill('SIGKILL'));
    child.on('close', (code) => {
      stream.exit(code ?? 255);
      stream.end();
    });
  });
}
