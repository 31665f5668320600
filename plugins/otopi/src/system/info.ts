/**
 * Logs what this run runs on (program, Node, platform, distribution, host name and ids) and
 * publishes it as `SYSTEM_INFO` for plugins that decide by distribution family.
 */
import { hostname } from 'node:os';
import { Priority, definePlugin } from '@otopi/core';
import { osFamily, readOsRelease } from '../_lib/os-release.js';
import { SYSTEM_INFO, type SystemInfo } from '../_lib/tokens.js';

export default definePlugin({
  setup(plugin) {
    plugin.on({
      name: 'log',
      stage: 'boot',
      priority: Priority.HIGH,
      after: 'otopi.core.log.init',
      run: ({ log, providers }) => {
        const os = readOsRelease();
        const info: SystemInfo = { os, family: osFamily(os), hostname: hostname() };
        providers.provide(SYSTEM_INFO, info);
        log.debug(
          `executable ${process.execPath} ${process.argv[1] ?? ''}; node ${process.version}; ` +
            `platform ${process.platform} ${process.arch}; distribution ${os.prettyName} ` +
            `(id ${os.id}, like ${os.idLike.join(' ') || '-'}, version ${os.versionId || '-'}, family ${info.family}); ` +
            `host ${info.hostname}; uid ${process.getuid?.() ?? '?'} gid ${process.getgid?.() ?? '?'}`,
        );
      },
    });
  },
});
