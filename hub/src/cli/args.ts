/** Command-line parsing shared by the subcommands (node's util.parseArgs, strict). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from './cli-error.js';

export type OptionsSpec = NonNullable<ParseArgsConfig['options']>;

/** Options every command that talks to a running hub accepts. */
export const CLIENT_OPTIONS = {
  hub: { type: 'string' },
  token: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies OptionsSpec;

export function parse<const O extends OptionsSpec>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw usageError((error as Error).message);
  }
}

/** `24h`, `30m`, `7d`, `90s` or plain seconds → seconds. */
export function parseDurationSec(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/i.exec(text.trim());
  if (!match) throw usageError(`invalid duration ${JSON.stringify(text)} (use e.g. 90s, 30m, 24h, 7d)`);
  const unit = (match[2] ?? 's').toLowerCase();
  const factor = unit === 'd' ? 86_400 : unit === 'h' ? 3600 : unit === 'm' ? 60 : 1;
  return Math.round(Number(match[1]) * factor);
}

/** Seconds in the largest unit that divides them exactly (the inverse of parseDurationSec): 86400 → `1d`, 90 → `90s`. */
export function formatDurationSec(seconds: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** A finite number (`0.9`, `1e-3`); the hub checks its range. */
export function parseFiniteNumber(text: string, what: string): number {
  const value = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(value)) throw usageError(`${what} must be a number, got ${JSON.stringify(text)}`);
  return value;
}

export function parsePositiveInteger(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw usageError(`${what} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}
