import { describe, expect, it } from 'vitest';
import { mergeAuthorizedKey, parseKeyLine, validatePublicKey } from '../src/_lib/network/ssh-keys.js';

// Public halves of throwaway keys made with ssh-keygen for these tests.
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID9E0o0j9qwuRfNP0H9WbQ8qwQE/7/KkqeQXt3Lb7Rg7 engine@example';
const ECDSA =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBClUQ+Iq1mRRQQNNwhCs0kJBvUZJYFZ/qWSLbX1+cy4AD0yQYiPvPQxJbM275InDs+RRq0ajJp9OFdSr3bv5Wh0= test-ecdsa';
const RSA =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC+tcuvvphbtASFpGWruhSND21CN5sut5k5U1di5RwWRyQRLU92xVPGJSZselwTqZ7FGOq2M8T4fwRunhjuq2MdZraTAdhj4DJxrs43IrqQzwSmMbC8TF7opZCVuVLADDVwKLTNiJm5vaplEC1rPCC9MctRK9HwfMTEvhAYPVutZQ== rsa-1024';
const DSA =
  'ssh-dss AAAAB3NzaC1kc3MAAACBAIEz8x0VwfwNiakIq6rxTrCmRXtm3sJEhtcAwNwSV5r6pvf8lx5vZUR0IeP1rJSLCkN17tEW3hmL9ceXbuYL+KJ3lM0I3cPZnYSffUthFOIPzXUwP15m2UDx3ueHAPS66Y8wBOgVI0IzDz9g5M61lhYyaZMHk3nrPjOF3N0XYgIdAAAAFQDkf1kAQg+OV7MG1GnZymoIengLdwAAAIB58V4U7cbD3JttpdxvtkUhKmg5LNbBykg2Cpy1WxsZQq9mchZMddfgbryVnPpV7kEOs8ObZ1cbPRhSPcUD6Njq0xwy7S4fTZAZJDMwP2xvKaN7TH3AjIE8LYvyeZB9E5O+P0V6ptE0k6gNaeWaqJOQD2OthEap7AzZARf5ST9eOAAAAIA5eYrBB1VTltKtlOBCaHOqxBGfR06UkJ9Gf/C5/o6HDRJMYyoS2R0R7/9F3HWDzJYOKpdUqYCAudg/u0m6sKwl1HzFJ1Z4uTJpBlgUEvgflbLCjfwgX6tspExKLfQHU+3e2xHu44Sp5dlWKKw4K1h2LrOp3mH8SBahUVXeWvFH8w== test-dsa';

/** An ssh-rsa blob with a modulus of `bits` bits. */
function rsaKey(bits: number): string {
  const str = (b: Buffer): Buffer =>
    Buffer.concat([Buffer.from([0, 0, 0, 0].map((_, i) => (b.length >>> (24 - 8 * i)) & 255)), b]);
  const modulus = Buffer.alloc(bits / 8 + 1, 0xff);
  modulus[0] = 0;
  return `ssh-rsa ${Buffer.concat([str(Buffer.from('ssh-rsa')), str(Buffer.from([1, 0, 1])), str(modulus)]).toString('base64')} small`;
}

describe('public key validation', () => {
  it('accepts ed25519, ECDSA and RSA keys (otopi refused the first two)', () => {
    expect(validatePublicKey(ED25519)).toMatchObject({ type: 'ssh-ed25519', comment: 'engine@example' });
    expect(validatePublicKey(ECDSA).type).toBe('ecdsa-sha2-nistp256');
    expect(validatePublicKey(`  ${RSA}\n`).type).toBe('ssh-rsa');
    expect(validatePublicKey(ED25519.split(' ').slice(0, 2).join(' ')).comment).toBe('');
  });

  it('refuses DSA, short RSA, a blob of another type, broken base64 and options', () => {
    expect(() => validatePublicKey(DSA)).toThrow(/DSA keys are not accepted/);
    expect(() => validatePublicKey(rsaKey(768))).toThrow('the RSA key has 768 bits; OpenSSH refuses fewer than 1024');
    expect(validatePublicKey(rsaKey(2048)).type).toBe('ssh-rsa');
    expect(() => validatePublicKey(`ssh-rsa ${ED25519.split(' ')[1]!}`)).toThrow('the key data is not a ssh-rsa key');
    expect(() => validatePublicKey('ssh-ed25519 AAAA!!notbase64')).toThrow(/base64|not a ssh-ed25519/);
    expect(() => validatePublicKey(`no-pty ${ED25519}`)).toThrow('give the key without authorized_keys options');
    expect(() => validatePublicKey(`${ED25519}\n${RSA}`)).toThrow('expected one key line, got 2');
    expect(() => validatePublicKey('hello world')).toThrow(/not a public key line/);
  });
});

describe('authorized_keys merging', () => {
  const key = validatePublicKey(ED25519);

  it('appends to an empty or missing file, and to one without a final newline', () => {
    expect(mergeAuthorizedKey('', key)).toEqual({ text: `${ED25519}\n`, action: 'added' });
    expect(mergeAuthorizedKey(RSA, key)).toEqual({ text: `${RSA}\n${ED25519}\n`, action: 'added' });
  });

  it('changes nothing when the same line is there', () => {
    const text = `# admins\n${RSA}\n${ED25519}\n`;
    expect(mergeAuthorizedKey(text, key)).toEqual({ text, action: 'unchanged' });
  });

  it('replaces the same key with another comment in place, keeping its options, and drops duplicates', () => {
    const [type, blob] = ED25519.split(' ');
    const text = `from="10.0.0.0/8",no-pty ${type} ${blob} old-engine\n${RSA}\n${type} ${blob} dup\n`;
    const merged = mergeAuthorizedKey(text, key);
    expect(merged.action).toBe('replaced');
    expect(merged.text).toBe(`from="10.0.0.0/8",no-pty ${ED25519}\n${RSA}\n`);
    expect(mergeAuthorizedKey(merged.text, key).action).toBe('unchanged');
  });

  it('leaves lines it cannot read alone', () => {
    const text = `garbage line\n\n${RSA}\n`;
    expect(mergeAuthorizedKey(text, key).text).toBe(`garbage line\n\n${RSA}\n${ED25519}\n`);
  });

  it('parses options with quoted spaces', () => {
    expect(parseKeyLine(`command="echo hi there",no-pty ${ED25519}`)).toMatchObject({
      options: 'command="echo hi there",no-pty',
      type: 'ssh-ed25519',
    });
  });
});
