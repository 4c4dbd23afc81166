import { describe, expect, it } from 'vitest';
import { decodeFloat32Le, decodeTfliteInt8, describeTflite, encodeTfliteFloat, type Conv2dLayer, type DenseLayer } from '../../src/index.js';
import { readTflite } from '../../src/tflite/read-tflite.js';
import { codeOf } from '../helpers/proto-error-code.js';
import { mnist2nn, tinyCnn } from './tflite-models.js';

describe('.tflite float export', () => {
  it('tiny-cnn: FLOAT32 tensors, no quantization, TFLite layouts (OHWI filters, [out, in] dense weights)', () => {
    const { model } = tinyCnn();
    const bytes = encodeTfliteFloat(model, { description: 'tiny-cnn float' });
    const summary = describeTflite(bytes);
    expect(summary.description).toBe('tiny-cnn float');
    expect(summary.operators).toEqual(['CONV_2D', 'MAX_POOL_2D', 'CONV_2D', 'MAX_POOL_2D', 'RESHAPE', 'FULLY_CONNECTED', 'FULLY_CONNECTED']);
    for (const t of summary.tensors) {
      expect(t.type).toBe('FLOAT32');
      expect(t.scales).toEqual([]);
    }
    const shapes = Object.fromEntries(summary.tensors.map((t) => [t.name, t.shape]));
    expect(shapes).toMatchObject({
      input: [1, 28, 28, 1], conv1: [1, 26, 26, 8], 'conv1/kernel': [8, 3, 3, 1], 'conv2/kernel': [16, 3, 3, 8], pool2: [1, 5, 5, 16],
      flatten: [1, 400], 'dense1/kernel': [32, 400], 'output/kernel': [10, 32], 'output/bias': [10], output: [1, 10],
    });
    expect(summary.tensors[summary.outputs[0]].name).toBe('output');

    // The values moved: TF.js conv kernel [kh, kw, in, out] → OHWI, dense [in, out] → [out, in].
    const view = readTflite(bytes);
    const data = (name: string): Float32Array => decodeFloat32Le(view.tensors.find((t) => t.name === name)!.data!);
    const conv2 = model.layers[2] as Conv2dLayer;
    const conv2Ohwi = data('conv2/kernel');
    for (const [y, x, c, o] of [[0, 0, 0, 0], [2, 1, 5, 11], [1, 2, 7, 15]]) {
      expect(conv2Ohwi[((o * 3 + y) * 3 + x) * 8 + c]).toBe(conv2.kernel[((y * 3 + x) * 8 + c) * 16 + o]);
    }
    const dense1 = model.layers[5] as DenseLayer;
    const dense1OutIn = data('dense1/kernel');
    for (const [i, o] of [[0, 0], [399, 31], [123, 7]]) expect(dense1OutIn[o * 400 + i]).toBe(dense1.kernel[i * 32 + o]);
    expect(Array.from(data('dense1/bias'))).toEqual(Array.from(dense1.bias));
  });

  it('mnist-2nn: three FULLY_CONNECTED over a [1, 784] input; the int8 decoder refuses the float file', () => {
    const { model } = mnist2nn();
    const bytes = encodeTfliteFloat(model);
    const summary = describeTflite(bytes);
    expect(summary.operators).toEqual(['FULLY_CONNECTED', 'FULLY_CONNECTED', 'FULLY_CONNECTED']);
    expect(summary.tensors[summary.inputs[0]]).toMatchObject({ shape: [1, 784], type: 'FLOAT32' });
    expect(codeOf(() => decodeTfliteInt8(bytes))).toBe('PROTO_ERR_BAD_TFLITE');
  });
});
