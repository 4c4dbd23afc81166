/** The fleet figure of a federated evaluation (rounds and a quantization job's int8 evaluation share it). */
import { describe, expect, it } from 'vitest';
import { fleetEvalMetrics } from '../../src/rounds/eval-result-check.js';

describe('fleetEvalMetrics', () => {
  it('is the example-weighted mean when no claim is far above the median', () => {
    const m = fleetEvalMetrics([{ examples: 100, accuracy: 0.9, loss: 0.3 }, { examples: 300, accuracy: 0.5, loss: 1.1 }]);
    expect(m).toEqual({ accuracy: expect.closeTo((90 + 150) / 400, 9), loss: expect.closeTo((30 + 330) / 400, 9), examples: 400, devices: 2 });
  });

  it('bounds each claim by capFactor × the lower median, so inflated claims cannot set the figure', () => {
    const honest = [{ examples: 50, accuracy: 0.9, loss: 0.1 }, { examples: 60, accuracy: 0.8, loss: 0.2 }, { examples: 70, accuracy: 0.85, loss: 0.15 }];
    const liars = [{ examples: 1e9, accuracy: 0, loss: 9 }, { examples: 2e9, accuracy: 0, loss: 9 }];
    const m = fleetEvalMetrics([...honest, ...liars], 2)!;
    // Sorted claims 50, 60, 70, 1e9, 2e9: lower median 70, cap 140 each.
    expect(m.examples).toBe(50 + 60 + 70 + 140 + 140);
    expect(m.accuracy).toBeCloseTo((45 + 48 + 59.5) / 460, 9);
    expect(m.devices).toBe(5);
  });

  it('leaves out devices with no examples, and has no figure when none has any', () => {
    expect(fleetEvalMetrics([])).toBeUndefined();
    expect(fleetEvalMetrics([{ examples: 0, accuracy: 1, loss: 0 }])).toBeUndefined();
    expect(fleetEvalMetrics([{ examples: 0, accuracy: 0, loss: 5 }, { examples: 10, accuracy: 0.5, loss: 1 }])).toEqual({ accuracy: 0.5, loss: 1, examples: 10, devices: 1 });
  });
});

describe('a quantization job\'s fleet evaluation summary', () => {
  it('weighs its devices with the same bound', async () => {
    const { fleetEvalOf } = await import('../../src/quantize/fleet-eval-repo.js');
    const summary = fleetEvalOf({
      eval_selector: null, eval_state: 'done', eval_deadline_at_ms: null, eval_asked: 3, eval_devices: 3, eval_refused: '[]',
      eval_results: JSON.stringify([[100, 0.9, 0.2], [100, 0.8, 0.4], [1_000_000_000, 0.1, 3]]),
    });
    expect(summary).toMatchObject({ examples: 500, accuracy: expect.closeTo((90 + 80 + 30) / 500, 9), devices: 3 });
  });
});
