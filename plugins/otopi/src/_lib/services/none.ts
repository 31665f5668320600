/** No init system found: nothing exists, nothing runs, and changing anything is an error. */
import { OtopiError } from '@otopi/core';
import type { ServiceBackend } from './types.js';

const refuse =
  (verb: string) =>
  (service: string): Promise<void> =>
    Promise.reject(
      new OtopiError(
        'HOST_UNSUPPORTED',
        `Cannot ${verb} service '${service}': no service manager was found on this host`,
        {
          hint: 'Set SERVICES/manager=str:systemd|openrc|sysv if detection was wrong.',
        },
      ),
    );

export const noServices: ServiceBackend = {
  name: 'none',
  exists: () => Promise.resolve(false),
  isRunning: () => Promise.resolve(false),
  bootState: () => Promise.resolve('not-found'),
  start: refuse('start'),
  stop: refuse('stop'),
  restart: refuse('restart'),
  enable: refuse('enable'),
  disable: refuse('disable'),
  restoreBootState: () => Promise.resolve(),
  reload: () => Promise.resolve(false),
};
