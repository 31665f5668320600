/**
 * The human dialect in a real pseudo-terminal (tmux), as a person would use it: a default
 * taken with Enter, an invalid answer asked again, a password typed without echo.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, FIXTURE_PLUGINS, ROOT, tempDir } from './helpers.js';

const CANARY = 'Canary-Tty-Pw-51b7';
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const SOCKET = `otopi-test-${process.pid}`;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8', env: { ...process.env, TERM: 'xterm' } });
}

function screen(): string {
  return tmux('capture-pane', '-p', '-J', '-S', '-500', '-t', 'run');
}

async function waitForScreen(match: (text: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const text = screen();
    if (match(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Types a line (literally) and presses Enter. */
function type(text: string): void {
  if (text.length > 0) tmux('send-keys', '-t', 'run', '-l', text);
  tmux('send-keys', '-t', 'run', 'Enter');
}

afterAll(() => {
  if (hasTmux) spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
});

describe('human dialect on a terminal', () => {
  it('takes a default with Enter, asks again after an invalid answer, and does not echo a password', async () => {
    const dir = tempDir();
    const result = join(dir, 'result.json');
    const args = [
      `BASE/pluginPath=str:${join(ROOT, 'plugins')}:${FIXTURE_PLUGINS}`,
      'APPEND:BASE/pluginGroups=str:dialogs',
      `DLGTEST/resultFile=str:${result}`,
    ];
    const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const command = `env OTOPI_CONFIG=${dir}/none OTOPI_LOGDIR=${dir} ${quoted}; echo "EXIT=$?"; sleep 60`;
    tmux('new-session', '-d', '-s', 'run', '-x', '160', '-y', '50', command);

    await waitForScreen((s) => s.includes('Who are you? [world]:'), 'the name prompt');
    type('');
    await waitForScreen((s) => s.includes('Favourite colour (Red, Green, Blue) [Green]:'), 'the colour prompt');
    type('purple');
    const reasked = await waitForScreen((s) => s.split('Favourite colour').length > 2, 'the colour prompt again');
    expect(reasked).toContain("[ ERROR ] Invalid answer: 'purple' is not one of: Red, Green, Blue");
    type('BLUE');
    await waitForScreen((s) => s.includes('Password:'), 'the password prompt');
    type(CANARY);
    await waitForScreen((s) => s.includes("Type the lines for 'DLG_LINES'"), 'the lines prompt');
    type('typed line');
    type('.');
    await waitForScreen((s) => s.includes('Type it as type:value'), 'the value prompt');
    type('int:5');
    await waitForScreen((s) => s.includes('Please confirm the demo [yes/no]:'), 'the confirmation');
    type('y');
    const end = await waitForScreen((s) => /EXIT=\d+/.test(s), 'the end of the run');

    expect(end).toContain('EXIT=0');
    expect(end).not.toContain(CANARY);
    expect(end).toMatch(/Password: *\n/);
    expect(end).toContain('Who are you? [world]:');
    expect(end).toContain('D:VALUE DLG_SUMMARY=str:world/Blue');
    const log = readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('');
    expect(log).not.toContain(CANARY);
    expect(JSON.parse(readFileSync(result, 'utf8'))).toMatchObject({
      name: 'world',
      colour: 'Blue',
      lines: ['typed line'],
      number: 5,
      proceed: true,
    });
  });
});
