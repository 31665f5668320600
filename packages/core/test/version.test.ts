import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compareDebVersions, compareRpmVersions } from '../src/system/version.js';

// A small deterministic generator, so a failure reproduces.
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function randomVersion(random: () => number, alphabet: string, epochs: boolean): string {
  const pick = (s: string): string => s[Math.floor(random() * s.length)]!;
  let v = pick('0123456789');
  const length = 1 + Math.floor(random() * 7);
  for (let i = 0; i < length; i++) v += pick(alphabet);
  if (epochs && random() < 0.2) v = `${Math.floor(random() * 3)}:${v}`;
  return v;
}

describe('deb versions', () => {
  it.each([
    ['1.0~rc1', '1.0', -1],
    ['1.0', '1.0-0', 0],
    ['1:0.9', '2.0', 1],
    ['4.50.1', '4.50.10', -1],
    ['1.0a', '1.0', 1],
    ['1.0+b1', '1.0', 1],
    ['7.4p1-1', '7.4p1-10', -1],
    ['001', '1', 0],
  ] as const)('%s vs %s → %i', (a, b, expected) => {
    expect(compareDebVersions(a, b)).toBe(expected);
    expect(compareDebVersions(b, a)).toBe(-expected || 0);
  });

  it('agrees with dpkg --compare-versions on 300 generated pairs', () => {
    const random = generator(42);
    let disagreements = 0;
    for (let n = 0; n < 300; n++) {
      // dpkg's syntax: digits first, and a non-empty revision after the last hyphen, if any.
      const deb = (): string =>
        randomVersion(random, '0123456789.+~ab', true) +
        (random() < 0.5 ? `-${randomVersion(random, '0123456789.+~ab', false)}` : '');
      const a = deb();
      const b = random() < 0.3 ? a.replace(/\d$/, '0') : deb();
      const ours = compareDebVersions(a, b);
      const ltStatus = spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status;
      const eqStatus = spawnSync('dpkg', ['--compare-versions', a, 'eq', b]).status;
      expect([ltStatus, eqStatus], `dpkg rejected ${a} or ${b}`).toEqual([expect.any(Number), expect.any(Number)]);
      expect(ltStatus! <= 1 && eqStatus! <= 1, `dpkg rejected ${a} or ${b}`).toBe(true);
      const lt = ltStatus === 0;
      const eq = eqStatus === 0;
      const theirs = lt ? -1 : eq ? 0 : 1;
      if (ours !== theirs) {
        disagreements++;
        console.log(`deb disagreement: ${a} vs ${b}: ours ${ours}, dpkg ${theirs}`);
      }
    }
    expect(disagreements).toBe(0);
  });
});

describe('rpm versions', () => {
  it.each([
    ['1.0~rc1', '1.0', -1],
    ['1.0^post1', '1.0', 1],
    ['1.0^post1', '1.0.1', -1],
    ['1:1.0', '2.0', 1],
    ['1.0-2', '1.0-10', -1],
    ['1.0a', '1.0', 1],
    ['1.0', '1.0.0', -1],
    ['4.50.1-1.el9', '4.50.1-1.el9', 0],
    ['2.a', '2.1', -1],
  ] as const)('%s vs %s → %i', (a, b, expected) => {
    expect(compareRpmVersions(a, b)).toBe(expected);
    expect(compareRpmVersions(b, a)).toBe(-expected || 0);
  });

  it('agrees with rpm.vercmp on 500 generated pairs', () => {
    const random = generator(7);
    const pairs: [string, string][] = [];
    for (let n = 0; n < 500; n++) {
      const a = randomVersion(random, '0123456789.~^_ab-', true);
      const b = random() < 0.3 ? a.replace(/\d$/, '0') : randomVersion(random, '0123456789.~^_ab-', true);
      pairs.push([a, b]);
    }
    // rpm's Lua print() joins its output without separators, so add our own.
    const lua = pairs.map(([a, b]) => `print(rpm.vercmp('${a}', '${b}')..',')`).join(' ');
    const out = execFileSync('rpm', ['--eval', `%{lua: ${lua}}`], { encoding: 'utf8' })
      .trim()
      .replace(/,$/, '')
      .split(',');
    expect(out).toHaveLength(pairs.length);
    const wrong = pairs.filter(([a, b], i) => compareRpmVersions(a, b) !== Number(out[i]));
    expect(wrong).toEqual([]);
  });
});
