/**
 * Progress of `otopi deploy` for people: on a terminal, a live block with one line per running
 * host (stage, state, elapsed time) redrawn in place, with finished hosts, warnings and errors
 * scrolling above it; elsewhere (a pipe, a CI log) one plain line per event, `host: ...`.
 */
import { escapeTerminal, escapeTerminalLine } from '@otopi/core';
import type { DeployEvent } from '@otopi/engine';
import { writeRaw } from './terminal-guard.js';

export type ProgressMode = 'tty' | 'plain' | 'none';

export interface Progress {
  event(event: DeployEvent): void;
  /** Stops redrawing and leaves the terminal clean. */
  close(): void;
}

interface Output {
  write(text: string): unknown;
  readonly columns?: number;
  readonly rows?: number;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

export const formatSeconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The plain line for an event, or undefined for events a person need not see. */
export function plainLine(event: DeployEvent): string | undefined {
  switch (event.type) {
    case 'run-start':
      return (
        `deploying to ${event.hosts.length} host${event.hosts.length === 1 ? '' : 's'}, ${event.parallel} at a time` +
        `${event.dryRun ? ', dry run (nothing changes)' : ''}; groups otopi${event.groups.map((g) => `, ${g}`).join('')}; ` +
        `bundle ${event.bundle.sha256.slice(0, 12)} (${formatBytes(event.bundle.size)}); logs in ${event.logDir}`
      );
    case 'host-start':
      return `${event.host}: connecting to ${event.address}`;
    case 'connected':
      return `${event.host}: connected, host key ${event.keyType} ${event.fingerprint}${event.learnt ? ' (new: recorded in known_hosts)' : ''}`;
    case 'shipped':
      return event.artifacts.length === 0
        ? `${event.host}: bundle cached on the host, nothing to send`
        : `${event.host}: sent ${event.artifacts.join(' and ')} (${formatBytes(event.bytes)})`;
    case 'stage':
      return `${event.host}: stage ${event.stage}`;
    case 'log':
      return event.level === 'INFO' ? undefined : `${event.host}: ${event.level} ${event.text}`;
    case 'host-end':
      if (event.result === 'installed') return `${event.host}: installed in ${formatSeconds(event.durationMs)}`;
      if (event.result === 'incomplete' || event.result === 'reboot')
        return `${event.host}: ${event.result === 'reboot' ? 'installed, rebooting' : 'installed, INCOMPLETE'} in ${formatSeconds(event.durationMs)}: ${event.cause ?? ''}`;
      return `${event.host}: ${event.result.toUpperCase()} at ${event.stage}: ${event.cause ?? 'unknown cause'}${event.log === undefined ? '' : ` (log: ${event.log})`}`;
    case 'run-end':
      return undefined;
  }
}

class PlainProgress implements Progress {
  constructor(private readonly out: Output) {}
  event(event: DeployEvent): void {
    const line = plainLine(event);
    if (line !== undefined) this.out.write(`${line}\n`);
  }
  close(): void {}
}

interface Live {
  stage: string;
  state: string;
  started: number;
}

const CLEAR_DOWN = '\x1b[J';
const up = (n: number): string => (n > 0 ? `\x1b[${n}A\r` : '\r');

class TerminalProgress implements Progress {
  private readonly live = new Map<string, Live>();
  private waiting = 0;
  private done = 0;
  private drawn = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly out: Output) {
    this.timer = setInterval(() => this.draw([]), 250);
    this.timer.unref();
  }

  event(event: DeployEvent): void {
    const now = Date.now();
    const above: string[] = [];
    switch (event.type) {
      case 'run-start':
        this.waiting = event.hosts.length;
        above.push(plainLine(event)!);
        break;
      case 'host-start':
        this.waiting--;
        this.live.set(event.host, { stage: '', state: 'connecting', started: now });
        break;
      case 'connected':
        this.update(event.host, { state: 'connected' });
        if (event.learnt) above.push(plainLine(event)!);
        break;
      case 'shipped':
        this.update(event.host, {
          state: event.artifacts.length === 0 ? 'running' : `sent ${formatBytes(event.bytes)}`,
        });
        break;
      case 'stage':
        this.update(event.host, { stage: event.stage, state: 'running' });
        break;
      case 'log':
        if (event.level !== 'INFO') above.push(plainLine(event)!);
        break;
      case 'host-end':
        this.live.delete(event.host);
        this.done++;
        above.push(plainLine(event)!);
        break;
      case 'run-end':
        break;
    }
    this.draw(above);
  }

  close(): void {
    clearInterval(this.timer);
    writeRaw(this.out, up(this.drawn) + CLEAR_DOWN);
    this.drawn = 0;
  }

  private update(host: string, change: Partial<Live>): void {
    const entry = this.live.get(host);
    if (entry !== undefined) Object.assign(entry, change);
  }

  private draw(above: readonly string[]): void {
    // A terminal that does not say its size reports 0.
    const width = Math.max(40, (this.out.columns || 100) - 1);
    const room = Math.max(3, (this.out.rows || 24) - 2);
    const now = Date.now();
    const live = [...this.live].map(([host, l]) => [escapeTerminalLine(host), l] as const);
    const nameWidth = Math.max(4, ...live.map(([h]) => h.length));
    const rows = live.map(([host, l]) =>
      `${host.padEnd(nameWidth)}  ${escapeTerminalLine(l.stage || '-').padEnd(28)}  ${l.state.padEnd(14)}  ${formatSeconds(now - l.started).padStart(7)}`.slice(
        0,
        width,
      ),
    );
    const shown =
      rows.length > room - 1 ? [...rows.slice(0, room - 2), `… and ${rows.length - (room - 2)} more running`] : rows;
    const status = `${this.live.size} running, ${this.waiting} waiting, ${this.done} done`;
    const block = [...shown, status];
    // The cursor moves are ours; everything shown is escaped here, so it is written past the guard.
    writeRaw(
      this.out,
      up(this.drawn) +
        CLEAR_DOWN +
        above.map((l) => `${escapeTerminal(l)}\n`).join('') +
        block.map((l) => `${l}\n`).join(''),
    );
    this.drawn = block.length;
  }
}

export function createProgress(mode: ProgressMode, out: Output): Progress {
  if (mode === 'tty') return new TerminalProgress(out);
  if (mode === 'plain') return new PlainProgress(out);
  return { event() {}, close() {} };
}
