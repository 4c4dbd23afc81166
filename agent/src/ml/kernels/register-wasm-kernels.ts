import { registerWasmConv2dBackpropFilter } from './conv2d-backprop-filter.js';

/**
 * Registers the kernels this project adds to `@tensorflow/tfjs-backend-wasm` 4.22 so the built-in models train
 * on wasm. Of what `tiny-cnn` training needs (Conv2D/FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter,
 * MaxPool, MaxPoolGrad, Relu, Step, BatchMatMul/_FusedMatMul, Softmax, Sum, …) only Conv2DBackpropFilter is
 * missing. Idempotent.
 */
export function registerWasmKernels(): void {
  registerWasmConv2dBackpropFilter();
}
