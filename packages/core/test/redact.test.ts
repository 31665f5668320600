import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from '@otopi/core';

const redactor = (secrets: string[], names: string[] = []): Redactor =>
  new Redactor({ secrets: () => secrets, protectedNames: () => names });

describe('Redactor', () => {
  it('redacts every occurrence, also inside longer strings', () => {
    const r = redactor(['s3cret-pw']);
    expect(r.redact('run --password=s3cret-pw --again s3cret-pw!')).toBe(
      `run --password=${REDACTED} --again ${REDACTED}!`,
    );
  });

  it('does not mangle key names that contain a short secret (otopi did)', () => {
    const r = redactor(['pw'], ['DEMO/pw']);
    expect(r.redact('ENV DEMO/pw=str:pw')).toBe(`ENV DEMO/pw=str:${REDACTED}`);
  });

  it('merges overlapping secrets', () => {
    const r = redactor(['abcdef', 'defghi']);
    expect(r.redact('xxabcdefghixx')).toBe(`xx${REDACTED}xx`);
  });

  it('redacts JSON-escaped and flattened forms', () => {
    const r = redactor(['a"b\\c', 'line one\nline two']);
    expect(r.redact(JSON.stringify({ v: 'a"b\\c' }))).toBe(`{"v":"${REDACTED}"}`);
    expect(r.redact('got: line one line two')).toBe(`got: ${REDACTED}`);
    expect(r.redact('first line one')).toBe(`first ${REDACTED}`);
  });

  it('removes private key blocks', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    const out = redactor([]).redact(`key:\n${pem}\ndone`);
    expect(out).not.toContain('MIIEvQ');
    expect(out).toContain('done');
    expect(redactor([]).redact('-----BEGIN RSA PRIVATE KEY-----\nAAAA truncated')).not.toContain('AAAA');
  });

  it('leaves text without secrets untouched', () => {
    expect(redactor(['zzz']).redact('nothing to see')).toBe('nothing to see');
  });
});
