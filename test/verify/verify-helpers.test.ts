// Pure helpers of verify:tflite and bench:quant (the scripts themselves need TensorFlow and minutes, so they are
// run by hand, never by `npm test`).
import { describe, expect, it } from 'vitest';
import { pipIndexArgs } from './tf-venv.js';
import { quoteVerification, type VerifyTfliteResult } from './verify-result.js';

const result: VerifyTfliteResult = {
  bench: 'verify-tflite',
  tfVersion: '2.21.0',
  models: [{ model: 'mnist-2nn', weightsSha256: 'aa', tfliteInterpreterAgreement: 0.999, tfConverterInt8Accuracy: 0.95 }],
};

describe('quoteVerification', () => {
  it('quotes the figures measured on the same weights', () => {
    expect(quoteVerification(result, 'mnist-2nn', 'aa')).toEqual({ tfliteInterpreterAgreement: 0.999, tfConverterInt8Accuracy: 0.95 });
  });

  it('gives nulls, with the reason, for other weights, another model or no result', () => {
    const cases = [
      quoteVerification(result, 'mnist-2nn', 'bb'), quoteVerification(result, 'tiny-cnn', 'aa'), quoteVerification(undefined, 'mnist-2nn', 'aa'),
    ];
    for (const quoted of cases) {
      expect(quoted).toMatchObject({ tfliteInterpreterAgreement: null, tfConverterInt8Accuracy: null });
      expect(quoted.missing).toBeTruthy();
    }
  });
});

describe('pipIndexArgs', () => {
  const mirrors = (path: string) => path === '/opt/pypi/simple' || path === '/opt/pypi-more/simple';

  it('uses the local mirrors when no index is configured and they exist', () => {
    expect(pipIndexArgs({}, mirrors)).toEqual([
      '--index-url', 'file:///opt/pypi/simple', '--extra-index-url', 'file:///opt/pypi-more/simple',
    ]);
  });

  it("leaves pip's index alone when PIP_INDEX_URL is set or there is no mirror", () => {
    expect(pipIndexArgs({ PIP_INDEX_URL: 'https://example.org/simple' }, mirrors)).toEqual([]);
    expect(pipIndexArgs({}, () => false)).toEqual([]);
  });
});
