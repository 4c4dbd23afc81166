/**
 * Label selectors, as in Kubernetes' equality-based selectors: `k=v`, `k!=v`, `k` (has the label), `!k` (lacks
 * it); terms separated by commas are ANDed. `k!=v` also matches devices without `k`. Used by the device list,
 * and by rounds and rollouts to pick their devices, in memory ({@link matchesSelector}) or in SQL
 * ({@link selectorToSql}).
 */
import { HubError } from '../errors.js';
import { isLabelKey, isLabelValue, type Labels } from './labels.js';

export type SelectorTerm =
  | { op: 'eq'; key: string; value: string }
  | { op: 'neq'; key: string; value: string }
  | { op: 'exists'; key: string }
  | { op: 'notExists'; key: string };

export type LabelSelector = readonly SelectorTerm[];

/** Parses a selector; the empty string selects everything. Throws `HUB_ERR_BAD_SELECTOR` naming the bad term. */
export function parseSelector(text: string): LabelSelector {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return trimmed.split(',').map((raw) => parseTerm(raw.trim(), text));
}

function parseTerm(term: string, whole: string): SelectorTerm {
  const fail = (why: string): never => {
    throw new HubError('HUB_ERR_BAD_SELECTOR', { message: `invalid label selector ${JSON.stringify(whole)}: ${why}` });
  };
  if (term === '') fail('empty term');
  let parsed: SelectorTerm;
  const neq = term.indexOf('!=');
  const eq = term.indexOf('=');
  if (neq > 0) {
    parsed = { op: 'neq', key: term.slice(0, neq).trim(), value: term.slice(neq + 2).trim() };
  } else if (eq > 0) {
    const value = term.slice(term.startsWith('==', eq) ? eq + 2 : eq + 1).trim();
    parsed = { op: 'eq', key: term.slice(0, eq).trim(), value };
  } else if (eq === 0 || neq === 0) {
    return fail(`term ${JSON.stringify(term)} has no key`);
  } else if (term.startsWith('!')) {
    parsed = { op: 'notExists', key: term.slice(1).trim() };
  } else {
    parsed = { op: 'exists', key: term };
  }
  if (!isLabelKey(parsed.key)) fail(`bad label key ${JSON.stringify(parsed.key)}`);
  if ('value' in parsed && !isLabelValue(parsed.value)) fail(`bad label value ${JSON.stringify(parsed.value)}`);
  return parsed;
}

export function matchesSelector(selector: LabelSelector, labels: Readonly<Labels>): boolean {
  for (const term of selector) {
    const has = Object.hasOwn(labels, term.key);
    switch (term.op) {
      case 'eq':
        if (!has || labels[term.key] !== term.value) return false;
        break;
      case 'neq':
        if (has && labels[term.key] === term.value) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case 'notExists':
        if (has) return false;
        break;
    }
  }
  return true;
}

/**
 * A SQL condition (`1` when empty) over the `device_labels` table for the device whose id is in `idColumn`, with
 * its positional parameters.
 */
export function selectorToSql(selector: LabelSelector, idColumn = 'd.id'): { sql: string; params: string[] } {
  if (selector.length === 0) return { sql: '1', params: [] };
  const parts: string[] = [];
  const params: string[] = [];
  const labelRow = `SELECT 1 FROM device_labels l WHERE l.device_id = ${idColumn} AND l.key = ?`;
  for (const term of selector) {
    switch (term.op) {
      case 'eq':
        parts.push(`EXISTS (${labelRow} AND l.value = ?)`);
        params.push(term.key, term.value);
        break;
      case 'neq':
        parts.push(`NOT EXISTS (${labelRow} AND l.value = ?)`);
        params.push(term.key, term.value);
        break;
      case 'exists':
        parts.push(`EXISTS (${labelRow})`);
        params.push(term.key);
        break;
      case 'notExists':
        parts.push(`NOT EXISTS (${labelRow})`);
        params.push(term.key);
        break;
    }
  }
  return { sql: parts.join(' AND '), params };
}

export function formatSelector(selector: LabelSelector): string {
  return selector
    .map((term) => {
      switch (term.op) {
        case 'eq':
          return `${term.key}=${term.value}`;
        case 'neq':
          return `${term.key}!=${term.value}`;
        case 'exists':
          return term.key;
        case 'notExists':
          return `!${term.key}`;
      }
    })
    .join(',');
}
