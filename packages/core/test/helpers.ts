import { OtopiError } from '../src/errors.js';

/** Runs `fn` and returns the OtopiError it throws; anything else (or nothing) fails the test. */
export function failure(fn: () => unknown): OtopiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof OtopiError) return error;
    throw error;
  }
  throw new Error('expected an OtopiError');
}
