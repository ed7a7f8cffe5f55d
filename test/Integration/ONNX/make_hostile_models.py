"""Writes the hostile ONNX inputs of hostile-models.test: models that are
well-formed protobuf but break the ONNX spec (attributes of the wrong type or
range, duplicates, extra inputs), overflow folded shape arithmetic, point
external data at non-regular files or give it malformed fields, or ask for
tensors larger than the compiler's limit. Each must be refused with an error
naming the node (or tensor), never compiled to a silently wrong model.

usage: make_hostile_models.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, helper, numpy_helper


def model(nodes, inputs, outputs, inits=(), opset=14):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def x_info(shape=(1, 4, 8, 8)):
    return helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))


def y_info():
    return helper.make_tensor_value_info("y", TensorProto.FLOAT, None)


def attr(name, kind, value):
    """An AttributeProto of an explicit type, whatever the value looks like."""
    a = AttributeProto()
    a.name = name
    a.type = kind
    if kind == AttributeProto.INT:
        a.i = value
    elif kind == AttributeProto.FLOAT:
        a.f = value
    elif kind == AttributeProto.STRING:
        a.s = value
    elif kind == AttributeProto.FLOATS:
        a.floats.extend(value)
    elif kind == AttributeProto.INTS:
        a.ints.extend(value)
    return a


def unary(op, *attrs, inputs=("x",), name="n"):
    node = helper.make_node(op, list(inputs), ["y"], name=name)
    node.attribute.extend(attrs)
    return node


def gemm_model(*attrs):
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((16, 10)).astype(np.float32), "w")
    node = helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")
    node.attribute.extend(attrs)
    return model([node], [x_info((1, 16))], [y_info()], [w])


def external_model(tensor_entries):
    """A Conv whose weight lives in external data described by `tensor_entries`."""
    w = TensorProto()
    w.name = "w"
    w.data_type = TensorProto.FLOAT
    w.dims.extend([8, 4, 3, 3])
    w.data_location = TensorProto.EXTERNAL
    for k, v in tensor_entries:
        e = w.external_data.add()
        e.key, e.value = k, v
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[1, 1, 1, 1])
    return model([node], [x_info()], [y_info()], [w])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    def save(name, m):
        with open(os.path.join(out, name), "wb") as f:
            f.write(m.SerializeToString())

    one = [x_info()], [y_info()]
    # Attributes of the wrong ONNX type: each was once read as 0.
    save("leakyrelu-int-alpha.onnx",
         model([unary("LeakyRelu", attr("alpha", AttributeProto.INT, 1), name="lrelu")], *one))
    save("leakyrelu-string-alpha.onnx",
         model([unary("LeakyRelu", attr("alpha", AttributeProto.STRING, b"0.1"), name="lrelu")], *one))
    save("leakyrelu-list-alpha.onnx",
         model([unary("LeakyRelu", attr("alpha", AttributeProto.FLOATS, [0.1, 0.2]), name="lrelu")], *one))
    save("leakyrelu-twice.onnx",
         model([unary("LeakyRelu", attr("alpha", AttributeProto.FLOAT, 0.1),
                      attr("alpha", AttributeProto.FLOAT, 0.2), name="lrelu")], *one))
    save("gemm-int-alpha.onnx", gemm_model(attr("alpha", AttributeProto.INT, 2)))
    save("gemm-transb-2.onnx", gemm_model(attr("transB", AttributeProto.INT, 2)))
    save("softmax-float-axis.onnx",
         model([unary("Softmax", attr("axis", AttributeProto.FLOAT, 1.0), name="sm")], *one))
    save("reducemean-keepdims-2.onnx",
         model([unary("ReduceMean", attr("axes", AttributeProto.INTS, [2, 3]),
                      attr("keepdims", AttributeProto.INT, 2), name="mean")], *one))
    # An attribute the op does not have, and one it has but that changes the
    # meaning in a way the importer does not implement.
    save("relu-unknown-attribute.onnx",
         model([unary("Relu", attr("alpha", AttributeProto.FLOAT, 0.5), name="relu")], *one))
    save("maxpool-storage-order.onnx",
         model([unary("MaxPool", attr("kernel_shape", AttributeProto.INTS, [2, 2]),
                      attr("storage_order", AttributeProto.INT, 1), name="pool")], *one))
    # The same attribute at its default is harmless and compiles.
    save("maxpool-storage-order-default.onnx",
         model([unary("MaxPool", attr("kernel_shape", AttributeProto.INTS, [2, 2]),
                      attr("storage_order", AttributeProto.INT, 0), name="pool")], *one))
    # Extra inputs.
    save("relu-extra-input.onnx",
         model([unary("Relu", inputs=("x", "x"), name="relu")], *one))

    # int64 overflow in folded shape arithmetic: Shape -> Gather -> Mul(2^62)
    # -> Reshape once wrapped to 0 ("copy this dimension").
    c = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "i1"], ["d"], name="gather", axis=0),
        helper.make_node("Mul", ["d", "big"], ["d2"], name="mul_overflow"),
        helper.make_node("Concat", ["one", "d2", "rest"], ["target"], name="cat", axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"], name="reshape"),
    ]
    save("shape-overflow.onnx",
         model(nodes, *one, [c("i1", [1]), c("big", [1 << 62]), c("one", [1]), c("rest", [8, 8])]))

    # External data: malformed fields and non-regular files.
    os.makedirs(os.path.join(out, "ext"), exist_ok=True)
    with open(os.path.join(out, "ext", "w.bin"), "wb") as f:
        f.write(np.zeros(8 * 4 * 3 * 3, np.float32).tobytes())
    for name, entries in [
        ("length-abc", [("location", "w.bin"), ("length", "abc")]),
        ("offset-float", [("location", "w.bin"), ("offset", "1e3")]),
        ("offset-2e64", [("location", "w.bin"), ("offset", str(1 << 64))]),
        ("unknown-key", [("location", "w.bin"), ("checksum_typo", "0")]),
        ("fifo", [("location", "fifo.bin")]),
        ("directory", [("location", "subdir")]),
        ("good", [("location", "w.bin"), ("offset", "0"), ("length", str(8 * 4 * 9 * 4))]),
    ]:
        with open(os.path.join(out, "ext", name + ".onnx"), "wb") as f:
            f.write(external_model(entries).SerializeToString())
    os.makedirs(os.path.join(out, "ext", "subdir"), exist_ok=True)
    fifo = os.path.join(out, "ext", "fifo.bin")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)

    # Legal but huge: constants and activations past the size limit.
    shape = lambda name, v: c(name, v)
    for name, n in [("constant-of-shape-2e30", 1 << 30), ("constant-of-shape-2e31", (1 << 31) - 1)]:
        nodes = [helper.make_node("ConstantOfShape", ["dims"], ["big"], name="cos",
                                  value=numpy_helper.from_array(np.array([1.0], np.float32))),
                 helper.make_node("ReduceSum", ["big"], ["s"], name="sum", keepdims=1),
                 helper.make_node("Add", ["x", "s"], ["y"], name="add")]
        save(name + ".onnx",
             model(nodes, [x_info((1, 1, 1, 1))], [y_info()], [shape("dims", [1, 1, 1, n])]))
    nodes = [helper.make_node("Expand", ["x", "dims"], ["y"], name="expand")]
    save("expand-2e31.onnx",
         model(nodes, [x_info((1, 1, 1, 1))], [y_info()], [shape("dims", [1, 2, 1 << 15, 1 << 15])]))

    # Ordinary models that once compiled to a .tflite the runtime refused:
    # Pad of W and H of an NCHW tensor (zeros, no constant_value input), Pad
    # of the channels, ReduceMean to a scalar. With an input and the output
    # NumPy computes, in the .tflite's NHWC layout.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 4, 8, 8)).astype(np.float32)
    np.save(os.path.join(out, "x_nhwc.npy"), x.transpose(0, 2, 3, 1).copy())
    for name, pads, ref in [
        ("pad-hw", [0, 0, 1, 2, 0, 0, 3, 1], np.pad(x, [(0, 0), (0, 0), (1, 3), (2, 1)])),
        ("pad-c", [0, 1, 0, 0, 0, 2, 0, 0], np.pad(x, [(0, 0), (1, 2), (0, 0), (0, 0)])),
    ]:
        save(name + ".onnx", model([helper.make_node("Pad", ["x", "pads"], ["y"], name="pad")],
                                   *one, [c("pads", pads)]))
        np.save(os.path.join(out, name + "_ref.npy"), ref.transpose(0, 2, 3, 1).copy())
    save("mean-all.onnx", model([unary("ReduceMean", attr("keepdims", AttributeProto.INT, 0),
                                       name="mean")], *one))
    np.save(os.path.join(out, "mean-all_ref.npy"), np.array(x.astype(np.float64).mean(), np.float32))
    # Small file, enormous work: a MatMul of two activations (2^39 MACs).
    save("matmul-huge.onnx", model([helper.make_node("MatMul", ["x", "x"], ["y"], name="mm")],
                                   [x_info((1, 8192, 8192))], [y_info()]))
    save("identity.onnx", model([unary("Identity", name="id")], *one))
    np.save(os.path.join(out, "identity_ref.npy"), x.transpose(0, 2, 3, 1).copy())


if __name__ == "__main__":
    main()
