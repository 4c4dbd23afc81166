/** The text chart of `fedfleet devices telemetry`: exact characters for tiny series, gaps, an empty and a constant one. */
import { describe, expect, it } from 'vitest';
import { bucketMeans, renderChart } from '../src/cli/text-chart.js';

const seconds = (ms: number) => `${ms / 1000}s`;
const at = (sec: number, value: number) => ({ atMs: sec * 1000, value });

describe('text chart', () => {
  it('draws one bar per column from the minimum (one eighth) to the maximum (full height), min and max on the y axis', () => {
    const lines = renderChart([at(0, 1), at(1, 3), at(3, 2)], { fromMs: 0, toMs: 4000, widthCols: 4, heightRows: 2, formatTime: seconds });
    expect(lines).toEqual([
      '3 ┤ █ ▁', // column 2 has no sample: a gap, not a zero
      '1 ┤▁█ █',
      '  └────',
      '   0s 4s',
    ]);
  });

  it('averages the samples that share a column and labels start, middle and end of a wide axis', () => {
    const points = [at(0, 0), at(1, 10), at(5, 4), at(9, 8)];
    expect(bucketMeans(points, 0, 10_000, 5)).toEqual([5, null, 4, null, 8]);
    expect(renderChart(points, { fromMs: 0, toMs: 10_000, widthCols: 5, heightRows: 2, formatTime: seconds })).toEqual([
      '8 ┤    █',
      '4 ┤▅ ▁ █',
      '  └─────',
      '   0s 10s', // no room for the middle
    ]);
    expect(renderChart(points, { fromMs: 0, toMs: 10_000, widthCols: 12, heightRows: 2, formatTime: seconds })).toEqual([
      '10 ┤ █        ▅',
      ' 0 ┤▁█    ▇   █',
      '   └────────────',
      '    0s   5s  10s',
    ]);
  });

  it('returns no lines for an empty series or one whose points all lie outside the range', () => {
    expect(renderChart([], { fromMs: 0, toMs: 1000 })).toEqual([]);
    expect(renderChart([at(5, 1), at(0.5, NaN)], { fromMs: 0, toMs: 1000 })).toEqual([]);
  });

  it('draws a constant series at half height with its value at both ends of the axis', () => {
    const lines = renderChart([at(0, 5), at(3, 5)], { fromMs: 0, toMs: 4000, widthCols: 4, heightRows: 2, formatTime: seconds });
    expect(lines).toEqual([
      '5 ┤',
      '5 ┤█  █',
      '  └────',
      '   0s 4s',
    ]);
  });
});
