/**
 * TensorFlow.js as the hub uses it: the pure-JS cpu backend builds built-in architectures and checks imports. No
 * training happens here, so tfjs' "install the node backend" banner on first use is silenced (PROD mode also
 * skips debug-only checks).
 */
import * as tf from '@tensorflow/tfjs';

tf.env().set('PROD', true);

export { tf };
