import { describe, expect, it } from 'vitest';
import { formatSelector, matchesSelector, parseSelector } from '../src/fleet/label-selector.js';
import { parseLabelList } from '../src/fleet/labels.js';

describe('label selectors', () => {
  it('parses the four term kinds, ANDed by commas', () => {
    expect(parseSelector('site=lab, tier!=x,gpu,!legacy')).toEqual([
      { op: 'eq', key: 'site', value: 'lab' },
      { op: 'neq', key: 'tier', value: 'x' },
      { op: 'exists', key: 'gpu' },
      { op: 'notExists', key: 'legacy' },
    ]);
    expect(parseSelector('a==b')).toEqual([{ op: 'eq', key: 'a', value: 'b' }]);
    expect(parseSelector('')).toEqual([]);
    expect(parseSelector('  ')).toEqual([]);
    expect(parseSelector('k=')).toEqual([{ op: 'eq', key: 'k', value: '' }]);
  });

  it('rejects malformed selectors with HUB_ERR_BAD_SELECTOR', () => {
    for (const text of ['a=b,', ',a', '=b', '!=b', 'a b', 'a=b c', '!', 'a=(x)', 'ключ=1']) {
      expect(() => parseSelector(text), text).toThrow(expect.objectContaining({ code: 'HUB_ERR_BAD_SELECTOR' }));
    }
  });

  it('matches like Kubernetes equality selectors', () => {
    const labels = { site: 'lab', tier: 'gold' };
    const match = (text: string) => matchesSelector(parseSelector(text), labels);
    expect(match('')).toBe(true);
    expect(match('site=lab')).toBe(true);
    expect(match('site=home')).toBe(false);
    expect(match('site!=home')).toBe(true);
    expect(match('room!=kitchen')).toBe(true); // absent key: != matches
    expect(match('tier')).toBe(true);
    expect(match('!tier')).toBe(false);
    expect(match('!room,site=lab,tier=gold')).toBe(true);
    expect(match('site=lab,tier=silver')).toBe(false);
  });

  it('formats back to text', () => {
    expect(formatSelector(parseSelector('site=lab,tier!=x,gpu,!legacy'))).toBe('site=lab,tier!=x,gpu,!legacy');
  });

  it('parses command-line label lists', () => {
    expect(parseLabelList('site=lab,tier=x')).toEqual({ labels: { site: 'lab', tier: 'x' } });
    expect(parseLabelList('')).toEqual({ labels: {} });
    expect(parseLabelList('site')).toEqual({ error: 'site' });
    expect(parseLabelList('a b=c')).toEqual({ error: 'a b=c' });
  });
});
