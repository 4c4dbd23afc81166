import { expect } from 'vitest';
import { ProtoError } from '../../src/index.js';

/** The code of the ProtoError `fn` throws (anything else thrown fails the test), or `'no error'`. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtoError);
    return (error as ProtoError).code;
  }
  return 'no error';
}
