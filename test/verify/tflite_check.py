#!/usr/bin/env python3
"""fedfleet's .tflite files in Google's implementation (issue 9 item 6), run by `npm run verify:tflite`.

The driver (test/verify/tflite.ts) writes a work folder with manifest.json (format in test/verify/tflite-files.ts)
and, per built-in model, our int8 and float .tflite files, the int8 input codes and logits our integer-only
kernels computed from that same int8 file, our float logits, and the float weights; plus the 2,000 test digits and
the calibration digits. This script:

  (a) loads our int8 file in tf.lite.Interpreter with TFLite's reference kernels (OpResolverType.BUILTIN_REF, the
      kernels TensorFlow Lite Micro ports; CMSIS-NN is bit-exact with them) and, for information, with the default
      optimized kernels (XNNPACK), and compares its int8 logits with ours digit by digit;
  (b) loads our float file and compares with our float forward pass;
  (c) builds a Keras model with the same float weights and quantizes it with TensorFlow Lite's own post-training
      full-integer quantization (TFLiteConverter, Optimize.DEFAULT, representative dataset = the same calibration
      digits, TFLITE_BUILTINS_INT8, int8 input and output), and measures it on the same digits.

Quantizing a float input uses the file's input (scale, zero point) and TFLite's rounding (TfLiteRound: half away
from zero), so the codes equal those our side fed its kernels; the script counts any that differ.

Usage: tflite_check.py <work folder>. The last stdout line is one JSON object.
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def load(folder, entry, dtype, shape):
    data = np.fromfile(os.path.join(folder, entry), dtype=dtype)
    return data.reshape(shape)


def quantize(x, scale, zero_point):
    """Float → int8 as TFLite's Quantize kernel: round(x / scale) half away from zero, + zero point, saturated."""
    v = x.astype(np.float64) * (1.0 / float(scale))
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def run_interpreter(tf, model_bytes, x, resolver):
    """Runs every example of x (batch 1, as on a microcontroller); returns outputs and the int8 inputs fed."""
    kwargs = {"model_content": model_bytes}
    if resolver is not None:
        kwargs["experimental_op_resolver_type"] = resolver
    interpreter = tf.lite.Interpreter(**kwargs)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    is_int8 = inp["dtype"] == np.int8
    feed = quantize(x, *inp["quantization"]) if is_int8 else x.astype(np.float32)
    outputs = np.zeros((x.shape[0],) + tuple(out["shape"][1:]), dtype=out["dtype"])
    shape = tuple(inp["shape"])
    for i in range(x.shape[0]):
        interpreter.set_tensor(inp["index"], feed[i].reshape(shape))
        interpreter.invoke()
        outputs[i] = interpreter.get_tensor(out["index"])[0]
    return outputs, feed, out["quantization"]


def compare_int8(theirs, ours):
    """Class agreement (first maximum wins, as TFLite's ArgMax) and logit differences in int8 steps."""
    diff = np.abs(theirs.astype(np.int32) - ours.astype(np.int32)).max(axis=1)
    return {
        "classAgreement": float(np.mean(theirs.argmax(axis=1) == ours.argmax(axis=1))),
        "withinOneStep": float(np.mean(diff <= 1)),
        "exactLogits": float(np.mean(diff == 0)),
        "maxStepDiff": int(diff.max()),
    }


def accuracy(logits, labels):
    return float(np.mean(logits.argmax(axis=1) == labels))


def keras_model(keras, model, folder):
    """A Keras model with our float weights. Keras and TensorFlow.js share layouts: dense [in, out], conv [kh, kw, in, out]."""
    act = {"none": None, "relu": "relu", "relu6": "relu6"}
    layers = [keras.Input(tuple(model["inputShape"]))]
    weights = []
    for layer in model["layers"]:
        kind = layer["kind"]
        if kind == "dense":
            layers.append(keras.layers.Dense(layer["units"], activation=act[layer["activation"]], name=layer["name"]))
        elif kind == "conv2d":
            layers.append(keras.layers.Conv2D(
                layer["filters"], (layer["kernelH"], layer["kernelW"]), strides=(layer["strideH"], layer["strideW"]),
                padding=layer["padding"], activation=act[layer["activation"]], name=layer["name"]))
        elif kind in ("maxPool2d", "averagePool2d"):
            pool = keras.layers.MaxPooling2D if kind == "maxPool2d" else keras.layers.AveragePooling2D
            layers.append(pool((layer["poolH"], layer["poolW"]), strides=(layer["strideH"], layer["strideW"]),
                               padding=layer["padding"], name=layer["name"]))
        elif kind == "flatten":
            layers.append(keras.layers.Flatten(name=layer["name"]))
        else:
            raise ValueError(f"layer kind {kind} is not supported")
        if "kernelFile" in layer:
            weights.append(layer)
    net = keras.Sequential(layers)
    for layer in weights:
        kernel = load(folder, layer["kernelFile"], "<f4", layer["kernelShape"])
        bias = load(folder, layer["biasFile"], "<f4", (-1,))
        net.get_layer(layer["name"]).set_weights([kernel, bias])
    return net


def tf_converter_int8(tf, net, calibration):
    """TensorFlow Lite's own post-training full-integer quantization of the same float weights."""
    def representative():
        for i in range(calibration.shape[0]):
            yield [calibration[i:i + 1]]

    converter = tf.lite.TFLiteConverter.from_keras_model(net)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def check_model(tf, keras, folder, model, test_x, labels, calibration):
    timings = {}
    count = test_x.shape[0]
    x = test_x.reshape((count,) + tuple(model["inputShape"]))
    ours_int8 = load(folder, model["ourInt8Logits"], np.int8, (count, -1))
    ours_inputs = load(folder, model["ourInt8Inputs"], np.int8, (count, -1))
    ours_float = load(folder, model["ourFloatLogits"], "<f4", (count, -1))
    ref = tf.lite.experimental.OpResolverType.BUILTIN_REF

    with open(os.path.join(folder, model["int8File"]), "rb") as f:
        int8_bytes = f.read()
    start = time.perf_counter()
    theirs, fed, out_quant = run_interpreter(tf, int8_bytes, x, ref)
    timings["int8InterpreterSec"] = round(time.perf_counter() - start, 2)
    int8 = {
        "fileBytes": len(int8_bytes),
        "kernels": "BUILTIN_REF",
        "accuracy": accuracy(theirs, labels),
        "ourAccuracy": accuracy(ours_int8, labels),
        **compare_int8(theirs, ours_int8),
        "inputCodeMismatches": int(np.sum(fed.reshape(count, -1) != ours_inputs)),
        "outputQuantization": {"scale": float(out_quant[0]), "zeroPoint": int(out_quant[1])},
    }
    optimized, _, _ = run_interpreter(tf, int8_bytes, x, None)
    int8["optimizedKernels"] = {"kernels": "BUILTIN (XNNPACK delegate where it applies)", **compare_int8(optimized, ours_int8)}

    with open(os.path.join(folder, model["floatFile"]), "rb") as f:
        float_bytes = f.read()
    start = time.perf_counter()
    theirs_float, _, _ = run_interpreter(tf, float_bytes, x, None)
    timings["floatInterpreterSec"] = round(time.perf_counter() - start, 2)
    floats = {
        "fileBytes": len(float_bytes),
        "accuracy": accuracy(theirs_float, labels),
        "ourAccuracy": accuracy(ours_float, labels),
        "classAgreement": float(np.mean(theirs_float.argmax(axis=1) == ours_float.argmax(axis=1))),
        "maxAbsLogitDiff": float(np.abs(theirs_float - ours_float).max()),
    }

    net = keras_model(keras, model, folder)
    keras_logits = net.predict(x, batch_size=256, verbose=0)
    start = time.perf_counter()
    converted = tf_converter_int8(tf, net, calibration.reshape((-1,) + tuple(model["inputShape"])))
    timings["tfConverterSec"] = round(time.perf_counter() - start, 2)
    converted_logits, _, _ = run_interpreter(tf, converted, x, ref)
    converter = {
        "fileBytes": len(converted),
        "calibrationDigits": int(calibration.shape[0]),
        "accuracy": accuracy(converted_logits, labels),
        "classAgreementWithOurs": float(np.mean(converted_logits.argmax(axis=1) == ours_int8.argmax(axis=1))),
        "kerasFloatAccuracy": accuracy(keras_logits, labels),
        "kerasMaxAbsLogitDiffVsOurFloat": float(np.abs(keras_logits - ours_float).max()),
    }
    return {"model": model["id"], "int8": int8, "float": floats, "tfConverter": converter, "timings": timings}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: tflite_check.py <work folder>")
    folder = sys.argv[1]
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    start = time.perf_counter()
    import tensorflow as tf
    import keras
    import_sec = round(time.perf_counter() - start, 2)
    test = manifest["testDigits"]
    test_x = load(folder, test["file"], "<f4", (test["count"], -1))
    labels = load(folder, test["labels"], np.uint8, (test["count"],))
    calib = manifest["calibrationDigits"]
    calibration = load(folder, calib["file"], "<f4", (calib["count"], -1))
    models = []
    for model in manifest["models"]:
        print(f"checking {model['id']} in TensorFlow Lite {tf.__version__}", file=sys.stderr, flush=True)
        models.append(check_model(tf, keras, folder, model, test_x, labels, calibration))
    print(json.dumps({
        "tfVersion": tf.__version__, "kerasVersion": keras.__version__, "numpyVersion": np.__version__,
        "python": sys.version.split()[0], "importSec": import_sec, "models": models,
    }))


if __name__ == "__main__":
    main()
