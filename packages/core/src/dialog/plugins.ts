/**
 * The dialog's built-in handlers: the plan announcement and per-handler events for the
 * machine dialect, the command prompt, the answer file and the dialog's termination.
 * Handler names follow otopi's where a manager may order against them.
 */
import { errorMessage, isOtopiError } from '../errors.js';
import type { Dialog } from './types.js';
import { definePlugin, type Plugin } from '../plugin/define.js';
import type { RunEventListener } from '../runtime/events.js';
import type { RuntimeView } from '../runtime/view.js';
import { Priority } from '../sequence/stages.js';
import { writeAnswerFile } from './answer-file.js';
import { runPrompt } from './commands.js';
import { DialogEnv, HiddenQuestionAnswers, QuestionAnswers } from './keys.js';

export const DIALOG_HANDLERS = {
  announce: 'otopi.dialog.misc.announce',
  terminate: 'otopi.dialog.misc.terminate',
  customization: 'otopi.dialog.cli.customization',
  termination: 'otopi.dialog.cli.termination',
  answerFile: 'otopi.dialog.answerFile.generate',
} as const;

export function dialogPlugins(runtime: RuntimeView): Plugin[] {
  return [miscPlugin(runtime), promptPlugin(runtime), answerFilePlugin()];
}

function miscPlugin(runtime: RuntimeView): Plugin {
  // Events are forwarded from the handler after the announcement on, and not for the
  // handler that ends the dialog, so every `**%EventStart` has its `**%EventEnd` (otopi's
  // first event line was a lone end, its last a lone start).
  let forwarding = false;
  const listener: RunEventListener = (event) => {
    const dialog: Dialog = runtime.dialog;
    if (event.type === 'handler-start' || event.type === 'handler-end') {
      if (event.handler === DIALOG_HANDLERS.terminate) return;
      if (event.handler === DIALOG_HANDLERS.announce) {
        if (event.type === 'handler-end') forwarding = true;
        return;
      }
    }
    if (forwarding) dialog.runEvent?.(event);
  };
  runtime.on(listener);
  return definePlugin({
    name: 'otopi.dialog.misc',
    env: [DialogEnv, QuestionAnswers, HiddenQuestionAnswers],
    setup(p) {
      p.on({
        name: 'announce',
        stage: 'init',
        priority: Priority.FIRST,
        run: () => runtime.dialog.announcePlan?.(runtime.plan.handlers.map((h) => ({ stage: h.stage, name: h.name }))),
      });
      p.on({
        name: 'terminate',
        stage: 'terminate',
        priority: Priority.LAST + 10,
        run: () => runtime.dialog.terminate(),
      });
    },
  });
}

function promptPlugin(runtime: RuntimeView): Plugin {
  const host = {
    logText: () => runtime.runLog.text(),
    get error(): unknown {
      return runtime.error;
    },
  };
  return definePlugin({
    name: 'otopi.dialog.cli',
    setup(p) {
      p.on({
        name: 'customization',
        stage: 'customization',
        condition: ({ env }) => env.get(DialogEnv.customization),
        run: (ctx) => runPrompt('customization', ctx, host),
      });
      p.on({
        name: 'termination',
        stage: 'pre_terminate',
        condition: ({ env }) => env.get(DialogEnv.customization),
        run: async (ctx) => {
          try {
            await runPrompt('termination', ctx, host);
          } catch (error) {
            // Input that ended after the run had already failed adds nothing but noise.
            if (runtime.failed && isOtopiError(error, 'DIALOG_EOF')) {
              ctx.log.debug(`termination prompt: ${error.message}`);
              return;
            }
            throw error;
          }
        },
      });
    },
  });
}

function answerFilePlugin(): Plugin {
  return definePlugin({
    name: 'otopi.dialog.answerFile',
    setup(p) {
      p.on({
        name: 'generate',
        stage: 'cleanup',
        condition: ({ env }) => env.get(DialogEnv.answerFile) !== null,
        run: async ({ env, log }) => {
          // The run's work is done by now: an answer file that cannot be written is a warning,
          // never a failed install.
          try {
            const path = await writeAnswerFile(env, env.get(DialogEnv.answerFile)!, {
              keepSecrets: env.get(DialogEnv.answerFileKeepSecrets),
            });
            log.info(`Answer file written: ${path}`);
          } catch (error) {
            log.warn(`The answer file ${env.get(DialogEnv.answerFile)!} was not written: ${errorMessage(error)}`);
          }
        },
      });
    },
  });
}
