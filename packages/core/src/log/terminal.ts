/**
 * Text from files, hosts and the network shown on a terminal must not drive the terminal: an
 * inventory file or a host's message holding an escape sequence could set the window title,
 * clear the screen, move the cursor to hide lines, or (on some terminals) answer back. Every
 * C0 and C1 control character but the line break and the tab is shown as a visible escape
 * (`\x1b`, `\r`, `\x9b`), so the reader sees that it was there.
 */

// C0 controls except \t (0x09) and \n (0x0a), DEL, and the C1 controls.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

function visible(char: string): string {
  if (char === '\r') return '\\r';
  return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** `text` with every control character but `\n` and `\t` made visible. */
export function escapeTerminal(text: string): string {
  return text.replace(CONTROLS, visible);
}

// A colour or style (SGR) sequence: it cannot move the cursor, clear, retitle or answer back.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const SGR_OR_CONTROL = /\u001b\[[0-9;]*m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Like {@link escapeTerminal}, but colour and style sequences (SGR, `ESC [ … m`) pass. */
export function escapeTerminalKeepColour(text: string): string {
  return text.replace(SGR_OR_CONTROL, (match) => (match.length > 1 ? match : visible(match)));
}

/** One line of text: line breaks become visible too (`\n`), for a single-line field. */
export function escapeTerminalLine(text: string): string {
  return escapeTerminal(text).replace(/\n/g, '\\n');
}

const paint = (code: string, text: string): string => `\u001b[${code}m${text}\u001b[0m`;

/**
 * One line of a unified diff, or of a list of changes with `# ` headers, in colour: headers
 * bold, hunks cyan, added lines green, removed lines red. Escape the line first: only these
 * colours may reach the terminal.
 */
export function colourDiffLine(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('# ')) return paint('1', line);
  if (line.startsWith('@@')) return paint('36', line);
  if (line.startsWith('+')) return paint('32', line);
  if (line.startsWith('-')) return paint('31', line);
  return line;
}
