/**
 * Reading stored values that may be unusable — rows written before the API refused non-finite numbers (JSON turns
 * them into `null`, SQLite keeps ±Infinity as REAL), or by hand. A reader that throws on one such row would make a
 * listing answer 500 for good or stop the hub from starting; these never throw: they substitute a neutral value and
 * say what was wrong in `problems`, so the caller can refuse to act on the row and still show it.
 */

/** `text` parsed as JSON, or `undefined` (with a problem) when it is not JSON. */
export function jsonColumn<T>(text: string | null, column: string, problems: string[]): T | undefined {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    problems.push(`${column} is not JSON`);
    return undefined;
  }
}

/** `value` when it is a finite number within ±2^53 (an exact integer in JS), else 0 (with a problem). */
export function finiteColumn(value: number | null, column: string, problems: string[]): number {
  if (typeof value === 'number' && Math.abs(value) <= Number.MAX_SAFE_INTEGER) return value;
  problems.push(`${column} is not a finite number (${String(value)})`);
  return 0;
}

/** Largest |ms| a Date can hold (ECMA-262 §21.4.1.22): anything beyond makes `toISOString()` throw. */
const MAX_DATE_MS = 8.64e15;

/** `value` when it is a time a Date can hold, else 0 (with a problem). */
export function timeColumn(value: number | null, column: string, problems: string[]): number {
  if (typeof value === 'number' && Math.abs(value) <= MAX_DATE_MS) return value;
  problems.push(`${column} is not a time (${String(value)})`);
  return 0;
}
