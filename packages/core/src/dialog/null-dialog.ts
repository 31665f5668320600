/**
 * The dialog before a dialect is chosen, and for runs with no dialog at all: output goes
 * nowhere, and any question fails with a message naming the key that answers it.
 */
import { OtopiError } from '../errors.js';
import type { EnvValue } from '../env/codec.js';
import type { ConsoleRecord } from '../log/logger.js';
import type { ConfirmQuery, Dialog, MultiStringQuery, StringQuery, ValueQuery } from './types.js';

export class NullDialog implements Dialog {
  note(_text: string): void {}
  log(_record: ConsoleRecord): void {}
  displayValue(_name: string, _value: EnvValue): void {}
  displayMultiString(_name: string, _lines: readonly string[]): void {}
  terminate(): void {}

  queryString(query: StringQuery): Promise<string> {
    return Promise.reject(unanswerable(query.name, `QUESTION/1/${query.name}`));
  }
  queryMultiString(query: MultiStringQuery): Promise<string[]> {
    return Promise.reject(unanswerable(query.name));
  }
  queryValue(query: ValueQuery): Promise<EnvValue> {
    return Promise.reject(unanswerable(query.name));
  }
  confirm(query: ConfirmQuery): Promise<boolean> {
    return Promise.reject(unanswerable(query.name, `QUESTION/1/DIALOG_CONFIRM/${query.name}`));
  }
}

export function unanswerable(question: string, answerKey?: string): OtopiError {
  return new OtopiError('DIALOG_NO_TERMINAL', `question '${question}' needs an answer, but no dialog is attached`, {
    ...(answerKey === undefined ? {} : { key: answerKey }),
    hint:
      answerKey === undefined
        ? 'Run with a terminal or the machine dialect.'
        : `Answer it unattended with ${answerKey}=str:<answer> in an answer file or on the command line.`,
  });
}
