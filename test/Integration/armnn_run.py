"""Runs a .tflite model with Arm NN (Debian python3-pyarmnn 20.08, CpuRef).

usage: armnn_run.py MODEL.tflite INPUT OUTPUT.npy [--shape N,C,H,W]
INPUT is NCHW float32: .npy, or raw .bin with --shape. It is transposed to
the model's NHWC input layout; the first output is written to OUTPUT.npy.
An independent TFLite consumer: if Arm NN parses and runs the file, it is a
real TFLite model.
"""
import argparse
import contextlib
import os
import sys

import numpy as np

with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
    import pyarmnn as ann  # prints notes about parsers it lacks


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--shape")
    a = p.parse_args()
    if a.input.endswith(".npy"):
        x = np.load(a.input).astype(np.float32)
    else:
        x = np.fromfile(a.input, dtype=np.float32).reshape([int(d) for d in a.shape.split(",")])
    if x.ndim == 4:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))

    parser = ann.ITfLiteParser()
    network = parser.CreateNetworkFromBinaryFile(a.model)
    in_info = parser.GetNetworkInputBindingInfo(0, parser.GetSubgraphInputTensorNames(0)[0])
    out_info = parser.GetNetworkOutputBindingInfo(0, parser.GetSubgraphOutputTensorNames(0)[0])
    runtime = ann.IRuntime(ann.CreationOptions())
    optimized, _ = ann.Optimize(network, [ann.BackendId("CpuRef")], runtime.GetDeviceSpec(),
                                ann.OptimizerOptions())
    net_id, _ = runtime.LoadNetwork(optimized)
    inputs = ann.make_input_tensors([in_info], [x])
    outputs = ann.make_output_tensors([out_info])
    runtime.EnqueueWorkload(net_id, inputs, outputs)
    y = ann.workload_tensors_to_ndarray(outputs)[0]
    np.save(a.output, y)
    runtime.UnloadNetwork(net_id)


if __name__ == "__main__":
    main()
