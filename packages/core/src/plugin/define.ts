/**
 * Plugins are factories returning plain objects:
 *
 * ```ts
 * export default definePlugin({
 *   env: [DemoEnv],
 *   setup(plugin) {
 *     plugin.on({ name: 'ask', stage: 'customization', run: async (ctx) => { … } });
 *   },
 * });
 * ```
 */
import type { Dialog } from '../dialog/types.js';
import type { EnvDeclaration } from '../env/declare.js';
import type { Environment } from '../env/environment.js';
import type { Logger } from '../log/logger.js';
import type { Stage } from '../sequence/stages.js';
import type { Transaction } from '../transaction/transaction.js';
import type { ProviderRegistry } from '../runtime/providers.js';

/** What a handler (and its condition) gets. */
export interface HandlerContext {
  readonly env: Environment;
  /** pino child logger bound to `{plugin, handler, stage}`. */
  readonly log: Logger;
  readonly dialog: Dialog;
  readonly stage: Stage;
  /** Full name of the running handler. */
  readonly handler: string;
  /** Shared providers (packager, service manager, command finder, …), by token (`Providers`). */
  readonly providers: ProviderRegistry;
  /** The main transaction: elements appended here commit together at `transaction_end`. */
  readonly transaction: Transaction;
  /** Transaction for packages the installer itself needs (committed at `internal_packages`). */
  readonly internalTransaction: Transaction;
  /** Whether the run only shows what it would change. */
  readonly dryRun: boolean;
  /** Requests an exit code; the lowest priority wins, an error forces at least 1. */
  setExitCode(code: number, priority?: number): void;
}

export interface HandlerSpec {
  /**
   * Name within the plugin; the full name is `<plugin>.<name>`. Other handlers name this
   * one by its full name in `before`/`after`.
   */
  readonly name: string;
  readonly stage: Stage;
  /** Lower runs earlier within the stage; default `Priority.DEFAULT` (5000). */
  readonly priority?: number;
  /** Full names of handlers this one must run before (same or later stage). */
  readonly before?: string | readonly string[];
  /** Full names of handlers this one must run after (same or earlier stage). */
  readonly after?: string | readonly string[];
  /**
   * Whether to run. Evaluated just before the handler would run, so it sees what earlier
   * handlers set. Default: always.
   */
  readonly condition?: (ctx: HandlerContext) => boolean | Promise<boolean>;
  readonly run: (ctx: HandlerContext) => void | Promise<void>;
}

/** Registration-only view handed to `setup`. */
export interface PluginSetup {
  /** The plugin's full name, e.g. `otopi.system.info`. */
  readonly name: string;
  on(spec: HandlerSpec): void;
}

export interface PluginDefinition {
  /** Full plugin name. Default: the group plus the module's path, e.g. `otopi.system.info`. */
  readonly name?: string;
  /** Environment declarations (`defineEnv` results and families) this plugin owns. */
  readonly env?: readonly EnvDeclaration[];
  /** Registers handlers. Runs once, when the group is loaded; must not do work. */
  setup(plugin: PluginSetup): void;
}

export const PLUGIN_BRAND = Symbol.for('otopi.plugin');

export interface Plugin extends PluginDefinition {
  readonly [PLUGIN_BRAND]: true;
}

export function definePlugin(definition: PluginDefinition): Plugin {
  return { ...definition, [PLUGIN_BRAND]: true };
}

export function isPlugin(value: unknown): value is Plugin {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}

/** For consumers that only have the context's `log` type at hand. */
export type { Logger };
