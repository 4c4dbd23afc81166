import * as tf from '@tensorflow/tfjs';

/** Probabilities are clipped to [ε, 1 − ε] before the logarithm, as Keras does, so a confident miss stays finite. */
export const PROBABILITY_EPSILON = 1e-7;

/** Mean categorical cross-entropy of softmax outputs `probs` [b, k] against one-hot `labels` [b, k]. */
export function crossEntropy(probs: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const logP = tf.log(tf.clipByValue(probs, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON));
    return tf.neg(tf.mean(tf.sum(tf.mul(labels, logP), -1))) as tf.Scalar;
  });
}

/**
 * FedProx proximal term μ/2 · ‖w − w_global‖² over all trainable weights (Li et al. 2020, "Federated
 * Optimization in Heterogeneous Networks", eq. 2). `anchors[i]` is the global value of `weights[i]`.
 */
export function proximalTerm(weights: readonly tf.Tensor[], anchors: readonly tf.Tensor[], mu: number): tf.Scalar {
  return tf.tidy(() => {
    const squares = weights.map((w, i) => tf.sum(tf.squaredDifference(w, anchors[i]!)));
    return tf.mul(tf.addN(squares), mu / 2) as tf.Scalar;
  });
}

/** Cross-entropy of one example from its predicted class probabilities (same clipping as {@link crossEntropy}). */
export function exampleCrossEntropy(probability: number): number {
  return -Math.log(Math.min(Math.max(probability, PROBABILITY_EPSILON), 1 - PROBABILITY_EPSILON));
}
