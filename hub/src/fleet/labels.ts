/** Device labels: string key/value pairs used to group devices and to select them (see label-selector.ts). */
import Type from 'typebox';

export type Labels = Record<string, string>;

/** Keys: letters, digits, `.`, `_`, `/`, `-`; starting with a letter or digit; at most 63 characters. */
export const LABEL_KEY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$';
/** Values: letters, digits, `.`, `_`, `-`; at most 63 characters; may be empty. */
export const LABEL_VALUE_PATTERN = '^[A-Za-z0-9._-]{0,63}$';
export const MAX_LABELS = 32;

const keyRegExp = new RegExp(LABEL_KEY_PATTERN);
const valueRegExp = new RegExp(LABEL_VALUE_PATTERN);

export const isLabelKey = (key: string): boolean => keyRegExp.test(key);
export const isLabelValue = (value: string): boolean => valueRegExp.test(value);

export const LabelKeySchema = Type.String({ pattern: LABEL_KEY_PATTERN });

export const LabelsSchema = Type.Record(Type.String({ pattern: LABEL_KEY_PATTERN }), Type.String({ pattern: LABEL_VALUE_PATTERN }), {
  maxProperties: MAX_LABELS,
  // Keys outside the pattern are errors, not passengers.
  additionalProperties: false,
  description: 'label key → value',
});

/** `{a: '1'}` ∪ `{b: '2'}`, later arguments winning, keys sorted for stable output. */
export function mergeLabels(...sets: Array<Readonly<Labels> | undefined>): Labels {
  const merged: Labels = {};
  for (const set of sets) Object.assign(merged, set ?? {});
  return sortLabels(merged);
}

export function sortLabels(labels: Readonly<Labels>): Labels {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `site=lab,tier=x` (as typed on the command line) → labels; returns the offending part when invalid. */
export function parseLabelList(text: string): { labels: Labels } | { error: string } {
  const labels: Labels = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (eq < 0 || !isLabelKey(key) || !isLabelValue(value)) return { error: part };
    labels[key] = value;
  }
  return { labels };
}
