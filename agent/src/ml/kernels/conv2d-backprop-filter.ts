import * as tf from '@tensorflow/tfjs';

/**
 * `Conv2DBackpropFilter` for the wasm backend, which `@tensorflow/tfjs-backend-wasm` 4.22 lacks (without it no
 * conv net trains on wasm: the filter gradient of every Conv2D layer goes through this kernel).
 *
 * The filter gradient is itself a convolution. With dilation 1 and stride s,
 *   dW[kh, kw, ci, co] = Σ_{b,i,j} xPad[b, kh + s·i, kw + s·j, ci] · dy[b, i, j, co]
 * which is a 'valid' conv2d where the input channels play the batch and the examples play the channels:
 * input  xPad transposed to [ci, Hp, Wp, b], filter dy transposed to [oh, ow, b, co] with dilation s (a stride
 * of the forward pass becomes a dilation of dy here), output [ci, kh, kw, co] → transposed to [kh, kw, ci, co].
 * The padding of the forward pass (valid, same, explicit) is applied to x as explicit padding of that conv.
 * Everything runs in the wasm backend's own kernels (Transpose, Conv2D/XNNPACK, Slice), no data is read back.
 */

type Kernel = (args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }) => tf.TensorInfo;

const BACKEND = 'wasm';

function wasmKernel(name: string): Kernel {
  const config = tf.getKernel(name, BACKEND);
  if (!config) throw new Error(`wasm backend has no ${name} kernel`);
  return config.kernelFunc as unknown as Kernel;
}

function conv2dBackpropFilterWasm(args: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as tf.KernelBackend;
  const { x, dy } = args.inputs as tf.Conv2DBackpropFilterInputs;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (!x || !dy) throw new Error('Conv2DBackpropFilter needs inputs x and dy');
  if (attrs.dataFormat === 'NCHW') throw new Error("wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only");
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error('wasm Conv2DBackpropFilter supports float32 only');

  const convInfo = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = convInfo;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = convInfo;
  const { top, left } = convInfo.padInfo;
  // Rows of padded x the filter gradient reads: (oh − 1)·s + kh, starting at −top.
  const neededHeight = (outHeight - 1) * strideHeight + filterHeight;
  const neededWidth = (outWidth - 1) * strideWidth + filterWidth;
  const bottom = Math.max(0, neededHeight - inHeight - top);
  const right = Math.max(0, neededWidth - inWidth - left);

  const transpose = wasmKernel('Transpose');
  const conv2d = wasmKernel('Conv2D');
  const slice = wasmKernel('Slice');
  const temporaries: tf.TensorInfo[] = [];
  const keep = (info: tf.TensorInfo): tf.TensorInfo => {
    temporaries.push(info);
    return info;
  };
  try {
    const xT = keep(transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } })); // [ci, H, W, b]
    const dyT = keep(transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } })); // [oh, ow, b, co]
    let grad = keep(
      conv2d({
        inputs: { x: xT, filter: dyT },
        backend,
        attrs: {
          strides: [1, 1],
          pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
          dataFormat: 'NHWC',
          dilations: [strideHeight, strideWidth],
          dimRoundingMode: 'floor',
        } as unknown as tf.NamedAttrMap,
      }),
    ); // [ci, ≥kh, ≥kw, co]
    if (grad.shape[1] !== filterHeight || grad.shape[2] !== filterWidth) {
      // A 'valid' strided forward pass may skip the last rows/columns of x; they contribute nothing.
      grad = keep(
        slice({
          inputs: { x: grad },
          backend,
          attrs: { begin: [0, 0, 0, 0], size: [inChannels, filterHeight, filterWidth, outChannels] },
        }),
      );
    }
    return transpose({ inputs: { x: grad }, backend, attrs: { perm: [1, 2, 0, 3] } }); // [kh, kw, ci, co]
  } finally {
    for (const info of temporaries) backend.disposeData(info.dataId);
  }
}

/** Registers the kernel on the wasm backend; idempotent. */
export function registerWasmConv2dBackpropFilter(): void {
  if (tf.getKernel(tf.Conv2DBackpropFilter, BACKEND)) return;
  tf.registerKernel({ kernelName: tf.Conv2DBackpropFilter, backendName: BACKEND, kernelFunc: conv2dBackpropFilterWasm });
}
