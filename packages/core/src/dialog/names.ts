/**
 * Names a plugin group uses in the dialog, as typed tokens: the questions it asks and the
 * values it shows. A group declares them once in a module its plugins and its engine-side
 * program both import, so the two sides cannot drift apart:
 *
 * ```ts
 * export const PROCEED = dialogName.confirm('DEPLOY_PROCEED');
 * await dialog.confirm({ name: PROCEED.name, description: '...' });   // the host
 * if (asks(event, PROCEED)) return true;                            // the engine
 * ```
 *
 * The kind is the machine dialect's (`***CONFIRM`, `***Q:MULTI-STRING`, `***D:MULTI-STRING`…),
 * so an engine can tell a question from a value shown under the same name.
 */

export const DIALOG_NAME_KINDS = [
  'confirm',
  'query-string',
  'query-multi-string',
  'query-value',
  'display-value',
  'display-multi-string',
] as const;
export type DialogNameKind = (typeof DIALOG_NAME_KINDS)[number];

/** One name of a group's dialog and how it is used. */
export interface DialogName<K extends DialogNameKind = DialogNameKind, N extends string = string> {
  readonly name: N;
  readonly kind: K;
}

const make =
  <K extends DialogNameKind>(kind: K) =>
  <const N extends string>(name: N): DialogName<K, N> =>
    Object.freeze({ name, kind });

/** Token builders, one per kind. */
export const dialogName = {
  /** A yes/no question (`dialog.confirm`); answered with a boolean. */
  confirm: make('confirm'),
  /** A one-line question (`dialog.queryString`). */
  queryString: make('query-string'),
  /** A question answered with lines (`dialog.queryMultiString`). */
  queryMultiString: make('query-multi-string'),
  /** A question answered with a typed value (`dialog.queryValue`). */
  queryValue: make('query-value'),
  /** A value the run shows (`dialog.displayValue`). */
  displayValue: make('display-value'),
  /** Lines the run shows (`dialog.displayMultiString`). */
  displayMultiString: make('display-multi-string'),
};
