/**
 * ODEPLOY/forceFailStage, a test hook: fails the run on purpose so tests (and a curious
 * administrator) can watch everything roll back. A stage name fails at the end of that
 * stage; `transaction-commit` fails inside the main commit, after every other change of
 * the transaction was applied, so those are rolled back too.
 */
import { OtopiError, Priority, definePlugin, type Stage, type TransactionElement } from '@otopi/core';
import { OdeployEnv } from '../_lib/keys.js';

export const FAIL_STAGES = [
  'setup',
  'validation',
  'early_misc',
  'packages',
  'misc',
  'closeup',
] as const satisfies readonly Stage[];
export const FAIL_IN_COMMIT = 'transaction-commit';

const failure = (where: string): OtopiError =>
  new OtopiError('HANDLER_FAILED', `Failing on purpose at ${where} (ODEPLOY/forceFailStage)`, {
    key: OdeployEnv.forceFailStage.key,
  });

class FailingCommit implements TransactionElement {
  readonly description = 'forced failure (ODEPLOY/forceFailStage)';
  prepare(): void {}
  commit(): void {
    throw failure('the transaction commit');
  }
  abort(): void {}
}

export default definePlugin({
  setup(plugin) {
    plugin.on({
      name: 'check',
      stage: 'init',
      condition: ({ env }) => env.get(OdeployEnv.forceFailStage) !== null,
      run: ({ env }) => {
        const wanted = env.get(OdeployEnv.forceFailStage)!;
        const known: readonly string[] = [...FAIL_STAGES, FAIL_IN_COMMIT];
        if (!known.includes(wanted))
          throw new OtopiError(
            'ENV_BAD_VALUE',
            `ODEPLOY/forceFailStage '${wanted}' is not one of ${known.join(', ')}`,
            {
              key: OdeployEnv.forceFailStage.key,
            },
          );
      },
    });
    for (const stage of FAIL_STAGES) {
      plugin.on({
        name: `fail.${stage}`,
        stage,
        priority: Priority.LAST + 500,
        condition: ({ env }) => env.get(OdeployEnv.forceFailStage) === stage,
        run: () => {
          throw failure(`the end of stage ${stage}`);
        },
      });
    }
    plugin.on({
      name: 'failInCommit',
      stage: 'misc',
      priority: Priority.LAST + 500,
      condition: ({ env }) => env.get(OdeployEnv.forceFailStage) === FAIL_IN_COMMIT,
      run: ({ transaction }) => transaction.append(new FailingCommit()),
    });
  },
});
