/**
 * POSIX shell quoting for words put into a remote command line: each word in single quotes,
 * a single quote inside written as `'\''`. Nothing is expanded inside single quotes, so any
 * byte except NUL passes through unchanged.
 */
import { EngineError } from '../errors.js';

export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new EngineError('USAGE', 'a shell word cannot hold a NUL byte');
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Quotes every word and joins them with spaces. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
