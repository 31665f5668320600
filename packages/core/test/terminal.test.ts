import { describe, expect, it } from 'vitest';
import { escapeTerminal, escapeTerminalKeepColour, escapeTerminalLine } from '@otopi/core';

describe('escapeTerminal', () => {
  it('shows every C0 and C1 control but the line break and the tab', () => {
    expect(escapeTerminal('a\u001b]0;title\u0007b\r\n\tc\u009bd\u007f')).toBe(
      'a\\x1b]0;title\\x07b\\r\n\tc\\x9bd\\x7f',
    );
  });
  it('keeps ordinary text, including non-ASCII, unchanged', () => {
    expect(escapeTerminal('Grüße – ok ✓')).toBe('Grüße – ok ✓');
  });
  it('folds a line for a one-line field', () => {
    expect(escapeTerminalLine('h1\nfake line')).toBe('h1\\nfake line');
  });
  it('lets colour through where asked, but not cursor moves, clears or titles', () => {
    expect(escapeTerminalKeepColour('\u001b[31mred\u001b[0m \u001b[2J\u001b[5A\u001b]0;t\u0007')).toBe(
      '\u001b[31mred\u001b[0m \\x1b[2J\\x1b[5A\\x1b]0;t\\x07',
    );
  });
});
