/**
 * What the engine hands a plugin group's engine-side program (`GroupRun.engine`,
 * `orchestrate/group-engine.ts`): the dialog's steps and token helpers, the errors, the CA and
 * the programs of the groups this project ships. A program imports only the types; the values
 * come from the running engine, so there is one engine in the process.
 */
import { EngineError, isEngineError } from '../errors.js';
import { encodeValue, steps } from '../dialog/driver.js';
import { asks, keySteps, shown } from '../dialog/tokens.js';
import { prepareHostDeploy } from '../host-deploy/inventory-program.js';
import { engineTime, hostDeployProgram } from '../host-deploy/program.js';
import { hostDeployResult } from '../host-deploy/result.js';
import { prepareHostMgmt } from '../host-mgmt/inventory-program.js';
import { HOST_MGMT_ACTIONS, hostMgmtProgram, hostMgmtResult } from '../host-mgmt/program.js';
import { problem } from '../inventory/problem.js';
import { CertificateAuthority } from '../pki/ca.js';
import { signedChain } from '../pki/sign-chain.js';
import { answerFromText } from './program.js';

export const ENGINE_API = Object.freeze({
  EngineError,
  isEngineError,
  /** An `INVENTORY_INVALID`-style error naming file, line, host and field. */
  problem,
  steps,
  keySteps,
  asks,
  shown,
  encodeValue,
  answerFromText,
  engineTime,
  CertificateAuthority,
  signedChain,
  prepareHostDeploy,
  hostDeployProgram,
  hostDeployResult,
  prepareHostMgmt,
  hostMgmtProgram,
  hostMgmtResult,
  HOST_MGMT_ACTIONS,
});

export type EngineApi = typeof ENGINE_API;
