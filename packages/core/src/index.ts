/**
 * @otopi/core: the installer runtime. Everything a plugin group or a front end needs is
 * exported here; nothing else is public.
 */
export { ERROR_CODES, OtopiError, AbortError, isOtopiError, errorMessage } from './errors.js';
export type { ErrorCode, ErrorPlace, OtopiErrorOptions } from './errors.js';

export { STAGES, STAGE_INFO, Priority } from './sequence/stages.js';
export type { Stage, StageInfo } from './sequence/stages.js';
export { buildPlan, compareNodes } from './sequence/plan.js';
export type { HandlerNode, Plan, PlanOptions, MissingReference } from './sequence/plan.js';
export { formatPlanTable, planToJson } from './sequence/dump.js';
export type { PlanJson } from './sequence/dump.js';

export { TYPE_TAGS, parseTypedValue, formatTypedValue, typeTagOf } from './env/codec.js';
export type { TypeTag, EnvValue } from './env/codec.js';
export { parseStatements, splitStatements, parseStatementValue, applyListOp } from './env/statements.js';
export type { Statement, StatementOp, StatementText } from './env/statements.js';
export { defineEnv, defineEnvFamily, isEnvFamily, key, keySchema, keysOf } from './env/declare.js';
export type { EnvDeclaration, EnvKeySet, EnvKey, EnvFamily, KeyOptions, KeySpec } from './env/declare.js';
export { DIALOG_NAME_KINDS, dialogName } from './dialog/names.js';
export type { DialogName, DialogNameKind } from './dialog/names.js';
export { Environment, EnvRegistry, renderValue, describeSource } from './env/environment.js';
export type { ValueSource } from './env/environment.js';
export { environmentReference, keyReference } from './env/reference.js';
export type { ReferenceSection } from './env/reference.js';
export { ENV_KEY_RE, checkUndeclared, looksSecret, namespaceOf, undeclaredMessage } from './env/open-keys.js';
export type { UndeclaredKey } from './env/open-keys.js';

export { parseIni, formatIni } from './config/ini.js';
export type { IniDocument, IniEntry, IniSection, IniSectionInput } from './config/ini.js';
export { resolveConfigFiles, readConfigFiles, queryConfig, matchConfig } from './config/files.js';
export type { ConfigEntry, ConfigSet } from './config/files.js';

export { Transaction } from './transaction/transaction.js';
export type { TransactionElement } from './transaction/transaction.js';
export { FileTransaction } from './transaction/file-transaction.js';
export { FolderAttributes } from './transaction/folder-attributes.js';
export type { FolderAttrs } from './transaction/folder-attributes.js';
export type { FileTransactionOptions } from './transaction/file-transaction.js';
export { recoverJournals } from './transaction/journal-recovery.js';
export type { RecoveryReport } from './transaction/journal-recovery.js';
export type { UndoRecord, UndoRepair, UndoCommandRunner } from './transaction/undo-records.js';
export { RunLock } from './runtime/lock.js';
export type { LockHolder } from './runtime/lock.js';
export { ProcessMutex } from './system/mutex.js';
export { colourDiffLine, escapeTerminal, escapeTerminalKeepColour, escapeTerminalLine } from './log/terminal.js';
export type { AcquireOptions } from './system/mutex.js';

export { RunLog, currentHandlerLog } from './log/logger.js';
export type { Logger, LogLevel, ConsoleRecord } from './log/logger.js';
export { Redactor, REDACTED } from './log/redact.js';

export type { Dialog, StringQuery, MultiStringQuery, ValueQuery, ConfirmQuery, PlannedEvent } from './dialog/types.js';
export { NullDialog, unanswerable } from './dialog/null-dialog.js';
export { DialogBase } from './dialog/base.js';
export type { DialogBaseOptions } from './dialog/base.js';
export { HumanDialect } from './dialog/human.js';
export type { HumanDialectOptions } from './dialog/human.js';
export { MachineDialect, parseValueReply, parseConfirmReply } from './dialog/machine.js';
export type { MachineDialectOptions } from './dialog/machine.js';
export type { DialogInput } from './dialog/line-source.js';
export {
  DialogEnv,
  QuestionAnswers,
  HiddenQuestionAnswers,
  DIALECTS,
  BOUNDARY,
  ABORT_BOUNDARY,
  BOUNDARY_PLACEHOLDER,
} from './dialog/keys.js';
export type { DialectName } from './dialog/keys.js';
export { formatAnswerFile, writeAnswerFile, compareAnswerKeys } from './dialog/answer-file.js';
export type { AnswerFileOptions } from './dialog/answer-file.js';
export { parseCommand, splitWords } from './dialog/command-line.js';
export type { ParsedCommand } from './dialog/command-line.js';
export { DIALOG_HANDLERS } from './dialog/plugins.js';
export { formatNote, formatRecord } from './dialog/console.js';

export { definePlugin, isPlugin } from './plugin/define.js';
export type { Plugin, PluginDefinition, PluginSetup, HandlerSpec, HandlerContext } from './plugin/define.js';
export { locateGroups, importGroups, colonList, groupLocation, listGroups, BASE_GROUP } from './plugin/load.js';
export { loadKeyCatalogue } from './runtime/catalogue.js';
export type { KeyCatalogue } from './runtime/catalogue.js';
export type { LoadedPlugin, GroupLocation } from './plugin/load.js';

export { Runtime } from './runtime/runtime.js';
export type { RuntimeOptions, PlannedHandler } from './runtime/runtime.js';
export { CORE_HANDLERS } from './runtime/builtins.js';
export { BaseEnv, CoreEnv } from './runtime/keys.js';
export { ProviderRegistry, defineProvider } from './runtime/providers.js';
export type { ProviderToken } from './runtime/providers.js';
export { JsonEventWriter } from './runtime/events.js';
export type { RunEvent, RunEventListener, HandlerResult } from './runtime/events.js';
export { EVENTS_SCHEMA_VERSION } from './runtime/events.js';
export { recordChange } from './runtime/changes.js';

export { exec } from './system/exec.js';
export type { ExecOptions, ExecResult } from './system/exec.js';
export {
  compareVersions,
  compareDebVersions,
  compareRpmVersions,
  parseDebVersion,
  parseRpmVersion,
  rpmvercmp,
} from './system/version.js';
export type { VersionScheme } from './system/version.js';

export type * from './providers/index.js';
export { Providers } from './providers/tokens.js';
export { isEnabledState } from './providers/services.js';
