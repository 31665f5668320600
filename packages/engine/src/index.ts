/**
 * @otopi/engine: the manager side. SSH connections with strict host keys, the host bundle
 * and its Node.js runtime, and the one-exec deploy that ships what a host lacks and then
 * carries the machine dialog. Everything public is exported here.
 */
export { ENGINE_ERROR_CODES, EngineError, isEngineError } from './errors.js';
export type { EngineErrorCode, EngineErrorOptions } from './errors.js';

export {
  fingerprintOf,
  md5FingerprintOf,
  matchesFingerprint,
  keyTypeOf,
  hostKeyFromBlob,
  parseFingerprint,
} from './ssh/fingerprint.js';
export type { HostKey } from './ssh/fingerprint.js';
export {
  parseKnownHosts,
  checkKnownHost,
  entryMatchesHost,
  knownHostName,
  formatKnownHostLine,
  readKnownHostsFile,
  appendKnownHost,
} from './ssh/known-hosts.js';
export type { KnownHostEntry, KnownHostMarker, KnownHostVerdict } from './ssh/known-hosts.js';
export { assertHostKeyPolicy } from './ssh/host-key-policy.js';
export type { HostKeyPolicy, KnownHostsPolicy, FingerprintPolicy, AcceptedHostKey } from './ssh/host-key-policy.js';
export { connectSsh } from './ssh/connect.js';
export type { ConnectOptions, SshConnection, SshAuth, KeyAuth, PasswordAuth, MultiAuth } from './ssh/connect.js';

export { writeTar, treeEntries, TAR_RECORD } from './bundle/tar.js';
export type { TarEntry } from './bundle/tar.js';
export { readManifest, writeManifest, sha256Hex, MANIFEST_FILE } from './bundle/artifact.js';
export type { Artifact, BundleArtifact, RuntimeArtifact, Manifest } from './bundle/artifact.js';
export { buildBundle, collectBundleFiles, BUNDLE_NAME, GROUP_ENTRIES } from './bundle/build.js';
export { buildEngineLayout, ENGINE_LAYOUT_NAME, ENGINE_LAYOUT_GROUPS } from './bundle/engine-layout.js';
export type { EngineLayout, EngineLayoutOptions } from './bundle/engine-layout.js';
export type { BuildBundleOptions, BuiltBundle } from './bundle/build.js';
export { buildRuntime, DEFAULT_RUNTIME_VERSION } from './bundle/runtime.js';
export type { BuildRuntimeOptions } from './bundle/runtime.js';
export { MIN_NODE_VERSION, NODE_CHECK_SH } from './bundle/node-check.js';

export { shellQuote, shellJoin } from './deploy/shell-quote.js';
export {
  bootstrapCommand,
  bootstrapProgram,
  BUNDLE_CACHED_LINE,
  BUNDLE_NEED_PREFIX,
  BUNDLE_STORED_LINE,
  BECOME_PASSWORD_LINE,
  DEFAULT_CACHE_ROOT,
} from './deploy/bootstrap.js';
export type { ArtifactKind, BootstrapOptions } from './deploy/bootstrap.js';
export { deployBundle, parseBundleStatus } from './deploy/deploy.js';
export type { DeployOptions, DeploySession } from './deploy/deploy.js';
export {
  runOvirtBootstrap,
  ovirtBootstrapCommand,
  OVIRT_BOOTSTRAP_COMMAND,
  OVIRT_ENTRIES,
} from './deploy/ovirt-bootstrap.js';
export type { OvirtBootstrapOptions, OvirtEntry } from './deploy/ovirt-bootstrap.js';
export type { LineSession, SessionResult, SessionLimits, ByteCounts } from './deploy/session.js';

export { driveDialog, steps, encodeValue, DIALOG_FAILURE_CODES } from './dialog/driver.js';
export { keySteps, asks, shown } from './dialog/tokens.js';
export type {
  DialogChannel,
  DialogFailure,
  DialogFailureCode,
  DialogProgram,
  DialogOutcome,
  Displayed,
  Step,
  StepContext,
  Answer,
  WireValue,
} from './dialog/driver.js';
export {
  DialogParser,
  DialogProtocolError,
  splitValidValues,
  DEFAULT_BOUNDARY,
  DEFAULT_ABORT_BOUNDARY,
} from './dialog/parser.js';
export type { DialogEvent, HandlerRef, QueryInfo } from './dialog/parser.js';
export { StageTracker } from './dialog/stage-tracker.js';

export { CertificateAuthority } from './pki/ca.js';
export type { CaOptions, SignOptions } from './pki/ca.js';

export {
  hostDeployProgram,
  hostDeployStatements,
  engineTime,
  DEPLOY_PROCEED,
  CERTIFICATE_REQUEST,
  CERTIFICATE_CHAIN,
  OTOPI_TIME,
  OTOPI_GPG_KEY,
} from './host-deploy/program.js';
export { hostDeployResult } from './host-deploy/result.js';
export type { HostDeployResult, HostDeployStatus } from './host-deploy/result.js';
export type {
  HostDeployConfig,
  HostDeployHost,
  HostDeployEngine,
  HostDeployCluster,
  FirewallSetting,
} from './host-deploy/config.js';
export { VdsmIdRegistry } from './host-deploy/id-registry.js';
export {
  prepareHostDeploy,
  hostDeploySettings,
  defaultCaDir,
  DEFAULT_CA_DIR,
} from './host-deploy/inventory-program.js';
export type { HostDeployRun, HostDeployRunOptions } from './host-deploy/inventory-program.js';
export { hostMgmtProgram, hostMgmtResult, HOST_MGMT_ACTIONS, DEFAULT_MGMT_PACKAGES } from './host-mgmt/program.js';
export type { HostMgmtAction, HostMgmtConfig, HostMgmtResult } from './host-mgmt/program.js';
export { prepareHostMgmt } from './host-mgmt/inventory-program.js';
export type { HostMgmtRunOptions } from './host-mgmt/inventory-program.js';
export { signedChain } from './pki/sign-chain.js';
export type { ChainSigning } from './pki/sign-chain.js';
export { HOST_DEPLOY_FIELD_NAMES } from './inventory/host-deploy-fields.js';
export type { HostDeployFields } from './inventory/host-deploy-fields.js';

export { loadInventory, parseInventory } from './inventory/inventory.js';
export { limitHosts } from './inventory/limit.js';
export type {
  Inventory,
  InventoryHost,
  InventoryOptions,
  HostAuth,
  Identity,
  Become,
  JumpHost,
} from './inventory/inventory.js';
export { lockedKeys, opensKey, withPassphrases } from './inventory/passphrases.js';
export { readSshConfig, resolveSshConfig, parseProxyJump, hostPatternsMatch } from './ssh/ssh-config.js';
export type { SshConfig, SshConfigValues, JumpSpec } from './ssh/ssh-config.js';
export { connectThrough, withConnectRetries, isTransientConnectFailure, DEFAULT_CONNECT_RETRIES } from './ssh/jump.js';
export type { HopOptions, RetryOptions } from './ssh/jump.js';
export { treeDigest, treeDigestOfTar } from './bundle/tree-digest.js';
export { Secret } from './inventory/secret.js';
export { parseSettings, readAnswerFile, planSettings } from './inventory/settings.js';
export type { EnvSetting, SettingsPlan } from './inventory/settings.js';
export { checkSettingKeys } from './inventory/key-check.js';
export type { KeyCheckOptions } from './inventory/key-check.js';
export { deployMany, DEFAULT_PARALLEL, DEFAULT_TIMEOUTS } from './orchestrate/deploy-many.js';
export type { DeployManyOptions, DeployReport } from './orchestrate/deploy-many.js';
export type { Timeouts } from './orchestrate/deploy-host.js';
export { HOST_RESULT_KINDS } from './orchestrate/events.js';
export { eventSchema, eventsJsonSchema } from './orchestrate/event-schema.js';
export type { DeployEvent, HostReport, HostResultKind, SentBytes } from './orchestrate/events.js';
export { baseProgram, composePrograms, answerFromText } from './orchestrate/program.js';
export type {
  DeployProgramFactory,
  DeployProgramContext,
  GroupProgram,
  GroupConclusion,
} from './orchestrate/program.js';
export {
  prepareGroupPrograms,
  loadGroupProgram,
  groupProgramEntry,
  engineOnlyPaths,
} from './orchestrate/group-engine.js';
export type { GroupEngineProgram, GroupRun } from './orchestrate/group-engine.js';
export { ENGINE_API } from './orchestrate/engine-api.js';
export type { EngineApi } from './orchestrate/engine-api.js';
export { openOverSsh, OpenError } from './orchestrate/open.js';
export type { SessionOpener, OpenRequest, OpenedHost, HostSession } from './orchestrate/open.js';
export { DEFAULT_LOG_DIR } from './orchestrate/host-log.js';
export { resolveBundle } from './orchestrate/bundle-source.js';
export type { BundleSourceOptions, BundleChoice } from './orchestrate/bundle-source.js';
