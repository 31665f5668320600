/**
 * Logs what this run runs on: program, Node, platform, distribution, host name and ids.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Priority, definePlugin } from '@otopi/core';

export default definePlugin({
  setup(plugin) {
    plugin.on({
      name: 'log',
      stage: 'boot',
      priority: Priority.HIGH,
      after: 'otopi.core.log.init',
      run: ({ log }) => {
        log.debug(
          `executable ${process.execPath} ${process.argv[1] ?? ''}; node ${process.version}; ` +
            `platform ${process.platform} ${process.arch}; distribution ${distribution()}; ` +
            `host ${hostname()}; uid ${process.getuid?.() ?? '?'} gid ${process.getgid?.() ?? '?'}`,
        );
      },
    });
  },
});

function distribution(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
