/**
 * The runtime's own handlers: log file, config files, transactions and plan checks. They
 * are ordinary handlers with well-known names, so plugins can order themselves against
 * them (`after: CORE_HANDLERS.configInit`) and the plan dump shows them.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { OtopiError } from '../errors.js';
import { readConfigFiles, resolveConfigFiles, type ConfigEntry } from '../config/files.js';
import { dialogPlugins } from '../dialog/plugins.js';
import { definePlugin, type HandlerContext, type Plugin } from '../plugin/define.js';
import { Priority } from '../sequence/stages.js';
import { recordChange } from './changes.js';
import { BaseEnv, CoreEnv } from './keys.js';
import { lockPlugin } from './lock.js';
import type { RuntimeView } from './view.js';

export const CORE_HANDLERS = {
  logInit: 'otopi.core.log.init',
  logClose: 'otopi.core.log.close',
  configInit: 'otopi.core.config.init',
  configOverride: 'otopi.core.config.override',
  configEnforce: 'otopi.core.config.enforce',
  checkPlan: 'otopi.core.misc.checkPlan',
  internalPrepare: 'otopi.core.transaction.internalPrepare',
  internalCommit: 'otopi.core.transaction.internalCommit',
  mainPrepare: 'otopi.core.transaction.mainPrepare',
  mainCommit: 'otopi.core.transaction.mainCommit',
} as const;

export function builtinPlugins(runtime: RuntimeView): Plugin[] {
  return [
    logPlugin(runtime),
    lockPlugin(),
    configPlugin(),
    miscPlugin(runtime),
    transactionPlugin(runtime),
    ...dialogPlugins(runtime),
  ];
}

function logPlugin(runtime: RuntimeView): Plugin {
  return definePlugin({
    name: 'otopi.core.log',
    setup(p) {
      p.on({
        name: 'init',
        stage: 'boot',
        priority: Priority.FIRST - 100,
        run: ({ env }) => {
          let file = env.get(CoreEnv.logFileName);
          if (file === null || file.length === 0) {
            file = join(
              env.get(CoreEnv.logDir),
              `${env.get(CoreEnv.logFileNamePrefix)}-${timestamp()}-${randomName()}.log`,
            );
            env.set(CoreEnv.logFileName, file);
          }
          runtime.runLog.logger.level = env.get(CoreEnv.logLevel);
          try {
            runtime.runLog.open(file);
          } catch (error) {
            // The run goes on: the log stays in memory (the `log` command still has it).
            const why = error instanceof Error ? error.message : String(error);
            runtime.log.warn(
              { console: true },
              `${why.startsWith('Cannot') ? why : `Cannot open log file '${file}': ${why}`}; the log is kept in memory only`,
            );
            return;
          }
          // A re-executed run keeps appending to the same file.
          process.env['OTOPI_LOGFILE'] = file;
          runtime.log.debug(
            `plan:\n${runtime.plan.handlers.map((h) => `${h.stage} ${h.priority} ${h.name}`).join('\n')}`,
          );
        },
      });
      p.on({
        name: 'note',
        stage: 'setup',
        priority: Priority.HIGH,
        run: ({ env, log }) => {
          if (runtime.runLog.path !== undefined) log.info(`Log file: ${env.get(CoreEnv.logFileName) ?? ''}`);
        },
      });
      p.on({
        name: 'close',
        stage: 'terminate',
        priority: Priority.LAST + 1000,
        run: ({ env }) => {
          runtime.runLog.close();
          const file = runtime.runLog.path;
          if (env.get(CoreEnv.logRemoveAtExit) && file !== undefined) rmSync(file, { force: true });
        },
      });
    },
  });
}

function configPlugin(): Plugin {
  let entries: readonly ConfigEntry[] = [];
  let files: readonly string[] = [];
  let missing: readonly string[] = [];
  const apply = (ctx: HandlerContext, section: string, onlyIfUnset: boolean): void => {
    // Whether undeclared keys are refused must be known before the section's other keys apply.
    const strictFirst = [...entries].sort(
      (a, b) => Number(b.key === BaseEnv.strictKeys.key) - Number(a.key === BaseEnv.strictKeys.key),
    );
    for (const entry of strictFirst) {
      if (entry.section !== section) continue;
      const source = ctx.env.sourceOf(entry.key);
      // `default` never overrides a value given on the command line or set by code.
      if (onlyIfUnset && source !== undefined && source.kind !== 'default') continue;
      ctx.env.setExternal(entry.key, entry.value, { kind: 'config', file: entry.file, line: entry.line, section });
    }
  };
  return definePlugin({
    name: 'otopi.core.config',
    setup(p) {
      p.on({
        name: 'init',
        stage: 'init',
        priority: Priority.HIGH - 10,
        run: (ctx) => {
          const append = ctx.env.get(CoreEnv.configFileAppend);
          const resolved = resolveConfigFiles({
            main: ctx.env.get(CoreEnv.configFileName),
            append: append === null ? [] : [append],
            baseDir: ctx.env.get(BaseEnv.executionDirectory),
          });
          files = resolved.files;
          missing = resolved.missing;
          entries = readConfigFiles(files, { isSensitive: (key) => ctx.env.isSensitive(key) }).entries;
          apply(ctx, 'environment:default', true);
          apply(ctx, 'environment:init', false);
        },
      });
      p.on({
        name: 'note',
        stage: 'setup',
        priority: Priority.HIGH,
        run: ({ log }) => {
          if (files.length > 0) log.info(`Configuration files: ${files.join(', ')}`);
          if (missing.length > 0) log.warn(`The following configuration files are missing: ${missing.join(', ')}`);
        },
      });
      p.on({
        name: 'override',
        stage: 'customization',
        priority: Priority.HIGH,
        run: (ctx) => apply(ctx, 'environment:override', false),
      });
      p.on({
        name: 'enforce',
        stage: 'customization',
        priority: Priority.LOW,
        run: (ctx) => apply(ctx, 'environment:enforce', false),
      });
    },
  });
}

function miscPlugin(runtime: RuntimeView): Plugin {
  return definePlugin({
    name: 'otopi.core.misc',
    setup(p) {
      p.on({
        name: 'checkPlan',
        stage: 'setup',
        priority: Priority.HIGH,
        run: ({ env, log }) => {
          const missing = runtime.plan.missing;
          if (missing.length === 0) return;
          const list = missing.map((m) => `'${m.handler}' ${m.kind} '${m.reference}'`).join(', ');
          if (!env.get(CoreEnv.ignoreMissingBeforeAfter)) {
            throw new OtopiError('PLAN_UNKNOWN_REFERENCE', `unknown before/after names: ${list}`, {
              handler: missing[0]!.handler,
              hint: 'Fix the names, or set CORE/ignoreMissingBeforeAfter=bool:True to tolerate them.',
            });
          }
          log.warn({ console: false }, `before/after names that match no handler (ignored): ${list}`);
        },
      });
    },
  });
}

function transactionPlugin(runtime: RuntimeView): Plugin {
  const commit = async (ctx: HandlerContext, which: 'main' | 'internal'): Promise<void> => {
    const transaction = which === 'main' ? runtime.mainTransaction : runtime.internalTransaction;
    // What the commit changes, worked out before it (after it the files are the new ones).
    const pending = await transaction.pendingChanges();
    if (ctx.dryRun) {
      const shown = pending.map((p) => `# ${p.description}\n${p.text}`).join('');
      if (shown.length > 0) {
        const title = 'Dry run: these changes would be made:';
        if (ctx.dialog.showChanges !== undefined) ctx.dialog.showChanges(title, shown);
        else ctx.dialog.note(`${title}\n${shown}`);
      }
      else if (which === 'main') ctx.dialog.note('Dry run: no changes would be made.');
      for (const p of pending) recordChange(p.description);
      if (shown.length > 0)
        ctx.env.set(CoreEnv.dryRunDiff, [...ctx.env.get(CoreEnv.dryRunDiff), ...shown.replace(/\n$/, '').split('\n')]);
      await transaction.abort();
      return;
    }
    await transaction.commit();
    for (const what of transaction.committedChanges(pending)) recordChange(what);
  };
  return definePlugin({
    name: 'otopi.core.transaction',
    setup(p) {
      p.on({
        name: 'internalPrepare',
        stage: 'internal_packages',
        priority: Priority.FIRST,
        run: () => runtime.internalTransaction.prepare(),
      });
      p.on({
        name: 'internalCommit',
        stage: 'internal_packages',
        priority: Priority.LAST + 10,
        run: (ctx) => commit(ctx, 'internal'),
      });
      p.on({
        name: 'mainPrepare',
        stage: 'transaction_begin',
        run: (ctx) => {
          runtime.mainTransaction.journalDir = ctx.dryRun ? undefined : ctx.env.get(CoreEnv.journalDir);
          return runtime.mainTransaction.prepare();
        },
      });
      p.on({
        name: 'mainCommit',
        stage: 'transaction_end',
        run: async (ctx) => {
          await commit(ctx, 'main');
          const modified = runtime.mainTransaction.modifiedFiles ?? [];
          if (modified.length > 0)
            ctx.env.set(CoreEnv.modifiedFiles, [...ctx.env.get(CoreEnv.modifiedFiles), ...modified]);
        },
      });
    },
  });
}

function timestamp(): string {
  const d = new Date();
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

function randomName(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
}
