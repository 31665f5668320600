/**
 * Environment keys of the dialogs (group DIALOG) and the answer families
 * `QUESTION/<n>/<name>` and `QUESTION_HIDDEN/<n>/<name>`.
 */
import { z } from 'zod';
import type { EnvValue } from '../env/codec.js';
import { defineEnv, defineEnvFamily, key, type KeySpec } from '../env/declare.js';

/** Line that ends a multi-string block (otopi's value, byte for byte). */
export const BOUNDARY = '--=451b80dc-996f-432e-9e4f-2b29ef6d1141=--';
/** Line that, sent instead of {@link BOUNDARY}, aborts the run. */
export const ABORT_BOUNDARY = '--=451b80dc-996f-ABORT-9e4f-2b29ef6d1141=--';
/** What a boundary inside displayed text is replaced with, so it cannot end the block early. */
export const BOUNDARY_PLACEHOLDER = '**BOUNDARY**';

export const DIALECTS = ['human', 'machine'] as const;
export type DialectName = (typeof DIALECTS)[number];

export const DialogEnv = defineEnv('DIALOG', {
  dialect: key.str({
    default: 'human',
    schema: z.enum(DIALECTS),
    description:
      "Dialog dialect: 'human' (terminal prompts) or 'machine' (the line protocol of docs/machine-dialog.md). Read from the command line, before plugins load.",
  }),
  boundary: key.str({
    default: BOUNDARY,
    schema: z.string().regex(/^\S+$/),
    description: 'Line that ends a multi-string block, in both directions. Read when the dialect opens.',
  }),
  autoAcceptDefault: key.bool({
    default: false,
    description: 'Take the default of every question that has one without asking. Evaluated at each question.',
  }),
  customization: key.bool({
    default: false,
    description:
      'Open the command prompt at customization and pre-termination (help, env-get, env-set, install, quit, ...).',
  }),
  cliVersion: key.int({ default: 1, description: 'Version of the command prompt, for managers that check it.' }),
  answerFile: key.optionalStr({
    default: null,
    description:
      'Write the answers of this run at cleanup to this file (mode 0600), for `--config-append` to repeat the run unattended.',
  }),
  answerFileKeepSecrets: key.bool({
    default: false,
    description:
      'Keep hidden answers (passwords) in the answer file, as QUESTION_HIDDEN/<n>/<name>. Off by default: they are left out and listed in a comment.',
  }),
  hiddenAnswerKeys: key.multiStr({
    default: [],
    description: 'QUESTION keys whose question was hidden; their values are secrets. Set by the dialog.',
  }),
});

const isAnswer = (v: unknown): v is EnvValue =>
  v === null ||
  typeof v === 'boolean' ||
  typeof v === 'string' ||
  (typeof v === 'number' && Number.isSafeInteger(v)) ||
  (Array.isArray(v) && v.every((item) => typeof item === 'string'));

/** Any serialisable value: an answer's type is the question's (str, multi-str, or any for a value query). */
const answerSchema = z.custom<EnvValue>(isAnswer, 'an answer must be none, bool, int, str or multi-str');

const answerSpec = (sensitive: boolean, description: string): KeySpec<EnvValue> => ({
  type: 'str',
  nullable: true,
  schema: answerSchema,
  description,
  default: null,
  sensitive,
  defaultDoc: undefined,
});

/** `QUESTION/<n>/<name>`: the answer to the n-th asking of question `name` in this run. */
export const QuestionAnswers = defineEnvFamily(
  'QUESTION',
  answerSpec(
    false,
    'Answer to the n-th asking (1-based) of question <name>. A question finds its answer here instead of asking; every answer given is stored here.',
  ),
);

/**
 * `QUESTION_HIDDEN/<n>/<name>`: a hidden answer given from outside. The family is sensitive,
 * so the value is redacted from the moment it is read, before the question is asked.
 */
export const HiddenQuestionAnswers = defineEnvFamily(
  'QUESTION_HIDDEN',
  answerSpec(
    true,
    'Answer to a hidden question (a password), redacted everywhere from the moment it is set. Looked up before QUESTION/<n>/<name>.',
  ),
);
