import { parseLayersTopology } from '../../src/mcu/layers-topology.js';
import { mulberry32, type ModelWeights } from '../../src/index.js';

export interface KernelSpec {
  name: string;
  kernelShape: number[];
  fanIn: number;
  fanOut: number;
}

/** Glorot-uniform kernels (limit √(6 / (fanIn + fanOut))) and small random biases, seeded. */
export function glorotWeights(seed: number, layers: readonly KernelSpec[]): ModelWeights {
  const rng = mulberry32(seed);
  const weights: ModelWeights = [];
  for (const { name, kernelShape, fanIn, fanOut } of layers) {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const kernel = new Float32Array(kernelShape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < kernel.length; i++) kernel[i] = (rng() * 2 - 1) * limit;
    const units = kernelShape[kernelShape.length - 1];
    const bias = new Float32Array(units);
    for (let i = 0; i < units; i++) bias[i] = (rng() * 2 - 1) * 0.05;
    weights.push({ name: `${name}/kernel`, shape: kernelShape, data: kernel }, { name: `${name}/bias`, shape: [units], data: bias });
  }
  return weights;
}

/** glorotWeights for every Dense and Conv2D of a layers topology, fans as Keras computes them. */
export function glorotWeightsFor(topology: unknown, seed: number): ModelWeights {
  const kernels: KernelSpec[] = [];
  for (const layer of parseLayersTopology(topology).layers) {
    if (layer.kind === 'dense') {
      kernels.push({ name: layer.name, kernelShape: [layer.inFeatures, layer.units], fanIn: layer.inFeatures, fanOut: layer.units });
    } else if (layer.kind === 'conv2d') {
      const area = layer.kernelH * layer.kernelW;
      const inChannels = layer.inputShape[2];
      kernels.push({ name: layer.name, kernelShape: [layer.kernelH, layer.kernelW, inChannels, layer.filters], fanIn: area * inChannels, fanOut: area * layer.filters });
    }
  }
  return glorotWeights(seed, kernels);
}
