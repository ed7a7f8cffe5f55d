"""Writes the malformed and unsupported ONNX inputs of bad-inputs.test.

usage: make_bad_models.py OUTDIR
"""
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_model(opset=14, weight=None, extra_nodes=(), weight_init=True, x_channels=4, name="conv"):
    rng = np.random.default_rng(0)
    w = weight if weight is not None else rng.standard_normal((8, 4, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name=name, pads=[1, 1, 1, 1])] + list(extra_nodes)
    out = nodes[-1].output[0]
    inits = [numpy_helper.from_array(w, "w")] if weight_init else []
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, x_channels, 8, 8])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    path = lambda n: os.path.join(out, n)
    good = conv_model().SerializeToString()

    with open(path("good.onnx"), "wb") as f:
        f.write(good)
    open(path("empty.onnx"), "wb").close()
    with open(path("truncated.onnx"), "wb") as f:
        f.write(good[: len(good) // 2])
    with open(path("random.onnx"), "wb") as f:
        f.write(random.Random(7).randbytes(4096))
    with open(path("tensor.onnx"), "wb") as f:
        f.write(numpy_helper.from_array(np.ones((2, 2), np.float32), "t").SerializeToString())
    onnx.save(conv_model(weight_init=False), path("missing-initializer.onnx"))
    # Every unsupported op is listed at once: two of one type, one of another,
    # one in a custom domain, and an op that this opset does not have yet.
    onnx.save(conv_model(extra_nodes=[
        helper.make_node("LpNormalization", ["y"], ["r1"], name="up1"),
        helper.make_node("Mish", ["r1"], ["r2"], name="mish"),
        helper.make_node("LpNormalization", ["r2"], ["r3"], name="up2"),
        helper.make_node("Gelu", ["r3"], ["r4"], name="gelu"),
        helper.make_node("FusedConv", ["r4"], ["z"], name="fused", domain="com.microsoft"),
    ]), path("unsupported-op.onnx"))
    # A target shape computed from the data, not from the static input shape.
    onnx.save(conv_model(extra_nodes=[
        helper.make_node("ReduceMean", ["y"], ["m"], name="mean", keepdims=0),
        helper.make_node("Cast", ["m"], ["n"], name="to_int", to=TensorProto.INT64),
        helper.make_node("Unsqueeze", ["n"], ["n1"], name="unsq", axes=[0]),
        helper.make_node("Reshape", ["y", "n1"], ["z"], name="reshape_by_data"),
    ], opset=12), path("data-dependent-shape.onnx"))
    p = [numpy_helper.from_array(np.ones(8, np.float32), n) for n in ("s", "b", "m", "v")]
    bn = helper.make_node("BatchNormalization", ["y", "s", "b", "m", "v"], ["z"], name="bn1", training_mode=1)
    m = conv_model(extra_nodes=[bn])
    m.graph.initializer.extend(p)
    onnx.save(m, path("bn-training.onnx"))
    onnx.save(conv_model(x_channels=3), path("inconsistent-shapes.onnx"))
    # A BN with a negative variance: the dialect's verifier rejects it, and
    # the diagnostic points at the ONNX node.
    p = [numpy_helper.from_array(np.full(8, v, np.float32), n)
         for n, v in (("s2", 1.0), ("b2", 0.0), ("m2", 0.0), ("v2", -1.0))]
    m = conv_model(extra_nodes=[helper.make_node("BatchNormalization", ["y", "s2", "b2", "m2", "v2"], ["z"],
                                                 name="bn_negative")])
    m.graph.initializer.extend(p)
    onnx.save(m, path("negative-variance.onnx"))
    onnx.save(conv_model(opset=22), path("opset22.onnx"))
    onnx.save(conv_model(opset=10), path("opset10.onnx"))
    onnx.save(conv_model(opset=6), path("opset6.onnx"))

    # Malformed nodes and values that once reached unchecked code.
    m = conv_model()
    m.graph.node.insert(0, helper.make_node("Constant", [], [], name="c0", value_float=1.0))
    onnx.save(m, path("constant-no-output.onnx"))
    onnx.save(conv_model(extra_nodes=[helper.make_node("Relu", ["y"], ["y"], name="again")]),
              path("defined-twice.onnx"))
    m = conv_model()
    m.graph.node[0].attribute.append(helper.make_attribute("strides", [0, 1]))
    m.graph.node[0].attribute.append(helper.make_attribute("auto_pad", "SAME_UPPER"))
    del m.graph.node[0].attribute[0]  # the explicit pads
    onnx.save(m, path("stride-zero.onnx"))
    shape = numpy_helper.from_array(np.array([7, 7905747460161236407], np.int64), "shape")
    m = conv_model(extra_nodes=[helper.make_node("Reshape", ["y", "shape"], ["z"], name="r")])
    m.graph.initializer.append(shape)
    onnx.save(m, path("reshape-overflow.onnx"))

    # External data: inside the model's directory it is read; a path that
    # leaves the directory is refused.
    for name, location, offset in (("external-ok", "weights.bin", "0"),
                                   ("external-escape", "../outside.bin", "0"),
                                   ("external-overflow", "weights.bin", str(2**63 - 1))):
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        w = np.arange(8 * 4 * 3 * 3, dtype=np.float32).reshape(8, 4, 3, 3) / 100
        target = os.path.normpath(os.path.join(d, location))
        w.tofile(target)
        m = conv_model(weight=w)
        t = m.graph.initializer[0]
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", location), ("offset", offset), ("length", str(w.nbytes))):
            e = t.external_data.add()
            e.key, e.value = k, v
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(m.SerializeToString())


if __name__ == "__main__":
    main()
