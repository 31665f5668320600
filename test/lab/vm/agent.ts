// Test-side access to a lab VM without its network: commands run through the qemu guest agent
// (a virtio-serial channel, the socket `agentSocket` in hosts.json), the VM's counterpart of
// labExec's nsenter. So assertions about a VM never depend on SSH or on the network the code
// under test rebuilds.
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecOptions, ExecResult, LabHost } from '../lab.js';

/** A host of the vm flavour: hosts.json carries these extra fields for it. */
export interface VmHost extends LabHost {
  readonly flavour: 'vm';
  readonly layout: 'bond' | 'vlan';
  readonly agentSocket: string;
  readonly console: string;
}

export function asVm(host: LabHost): VmHost {
  const h = host as Partial<VmHost> & LabHost;
  if (h.flavour !== 'vm' || typeof h.agentSocket !== 'string') throw new Error(`${host.name} is not a lab VM`);
  return h as VmHost;
}

type Reply = { return?: unknown; error?: { class: string; desc: string } };

/** One agent connection: JSON commands, one reply line each. */
class Agent {
  private buffer = '';
  private waiting: ((line: string) => void) | null = null;
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8').on('data', (d: string) => {
      this.buffer += d;
      this.flush();
    });
  }

  static open(path: string, timeoutMs: number): Promise<Agent> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const timer = setTimeout(() => socket.destroy(new Error(`agent ${path}: no connection`)), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new Agent(socket));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  private flush(): void {
    const at = this.buffer.indexOf('\n');
    if (at < 0 || this.waiting === null) return;
    const line = this.buffer.slice(0, at);
    this.buffer = this.buffer.slice(at + 1);
    const w = this.waiting;
    this.waiting = null;
    w(line);
  }

  private line(timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('guest agent: no reply')), timeoutMs);
      this.waiting = (l) => {
        clearTimeout(timer);
        resolve(l);
      };
      this.flush();
    });
  }

  async call(command: string, args: unknown, timeoutMs = 10_000): Promise<unknown> {
    this.socket.write(`${JSON.stringify({ execute: command, arguments: args })}\n`);
    for (;;) {
      const text = (await this.line(timeoutMs)).replace(/^\xff/, '').trim();
      if (text === '') continue;
      const reply = JSON.parse(text) as Reply;
      if (reply.error !== undefined) throw new Error(`guest agent ${command}: ${reply.error.desc}`);
      return reply.return;
    }
  }

  /** Discards replies left over from an earlier client (the agent's guest-sync handshake). */
  async sync(timeoutMs: number): Promise<void> {
    const id = Math.floor(Math.random() * 1e9);
    // A 0xFF byte resets the agent's parser; its answer starts with one too.
    this.socket.write(
      Buffer.concat([
        Buffer.from([0xff]),
        Buffer.from(`${JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } })}\n`),
      ]),
    );
    for (;;) {
      const text = (await this.line(timeoutMs)).replace(/^[^{]*/, '');
      if (text === '') continue;
      try {
        if ((JSON.parse(text) as Reply).return === id) return;
      } catch {
        // a partial line from before the delimiter
      }
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Runs a command in the VM through the guest agent: an argv array, or a `/bin/sh -c` string.
 * Waits for the agent when the VM is still booting (up to `timeoutMs`).
 */
export async function vmExec(host: LabHost, cmd: string[] | string, opts: ExecOptions = {}): Promise<ExecResult> {
  const vm = asVm(host);
  const argv = typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : cmd;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const env = Object.entries({
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    LANG: 'C.UTF-8',
    ...opts.env,
  }).map(([k, v]) => `${k}=${v}`);
  let agent: Agent | undefined;
  for (;;) {
    try {
      agent = await Agent.open(vm.agentSocket, 5_000);
      await agent.sync(3_000);
      break;
    } catch (error) {
      agent?.close();
      agent = undefined;
      if (Date.now() > deadline) throw new Error(`${vm.name}: the guest agent does not answer`, { cause: error });
      await sleep(500);
    }
  }
  try {
    const started = (await agent.call('guest-exec', {
      path: argv[0],
      arg: argv.slice(1),
      env,
      'capture-output': true,
      ...(opts.input === undefined ? {} : { 'input-data': Buffer.from(opts.input).toString('base64') }),
    })) as { pid: number };
    for (;;) {
      const s = (await agent.call('guest-exec-status', { pid: started.pid })) as {
        exited: boolean;
        exitcode?: number;
        signal?: number;
        'out-data'?: string;
        'err-data'?: string;
      };
      if (s.exited) {
        const result = {
          stdout: Buffer.from(s['out-data'] ?? '', 'base64').toString('utf8'),
          stderr: Buffer.from(s['err-data'] ?? '', 'base64').toString('utf8'),
          code: s.exitcode ?? 128 + (s.signal ?? 0),
        };
        if (opts.check === true && result.code !== 0)
          throw new Error(`${vm.name}: ${argv.join(' ')} exited with ${result.code}: ${result.stderr.trim()}`);
        return result;
      }
      if (Date.now() > deadline) throw new Error(`${vm.name}: ${argv.join(' ')} still running after ${timeoutMs} ms`);
      await sleep(100);
    }
  } finally {
    agent.close();
  }
}
