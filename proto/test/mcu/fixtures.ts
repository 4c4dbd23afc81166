/**
 * Layers topologies as tfjs `model.toJSON()` writes them for the hub's built-in architectures
 * (hub/src/models/architectures.ts), trimmed to the fields the resource model reads.
 */
const dense = (name: string, units: number, activation: string, extra: Record<string, unknown> = {}) =>
  ({ class_name: 'Dense', config: { name, units, activation, use_bias: true, ...extra } });

export function mlpTopology(hidden: number[], inputSize = 784, classes = 10): object {
  const sizes = [...hidden, classes];
  return {
    class_name: 'Sequential',
    config: {
      name: 'mlp',
      layers: sizes.map((units, i) => dense(i === sizes.length - 1 ? 'output' : `dense${i + 1}`, units,
        i === sizes.length - 1 ? 'softmax' : 'relu', i === 0 ? { batch_input_shape: [null, inputSize], dtype: 'float32' } : {})),
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
}

/** McMahan et al. 2017 "2NN": 784-200-200-10. */
export const MNIST_2NN = mlpTopology([200, 200]);

const conv = (name: string, filters: number, extra: Record<string, unknown> = {}) => ({
  class_name: 'Conv2D',
  config: { name, filters, kernel_size: [3, 3], strides: [1, 1], padding: 'valid', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'relu', use_bias: true, ...extra },
});
const maxPool = (name: string) => ({ class_name: 'MaxPooling2D', config: { name, pool_size: [2, 2], padding: 'valid', strides: [2, 2], data_format: 'channels_last' } });

export const TINY_CNN = {
  class_name: 'Sequential',
  config: {
    name: 'tiny_cnn',
    layers: [
      conv('conv1', 8, { batch_input_shape: [null, 28, 28, 1], dtype: 'float32' }),
      maxPool('pool1'),
      conv('conv2', 16),
      maxPool('pool2'),
      { class_name: 'Flatten', config: { name: 'flatten' } },
      dense('dense1', 32, 'relu'),
      dense('output', 10, 'softmax'),
    ],
  },
};
