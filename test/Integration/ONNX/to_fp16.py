"""Converts a float32 ONNX model to float16 the way a `model.half()` export
writes one (PyTorch 1.13 cannot export half on CPU): every FLOAT initializer,
Constant and graph input / output / value_info becomes FLOAT16, and Casts to
FLOAT cast to FLOAT16; the arithmetic is then float16 in ONNX Runtime.

    to_fp16.py IN.onnx OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper

F32, F16 = onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16


def half(t):
    if t.data_type != F32:
        return t
    h = numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name)
    return h


def main():
    m = onnx.load(sys.argv[1])
    g = m.graph
    for i, t in enumerate(g.initializer):
        g.initializer[i].CopyFrom(half(t))
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.type.tensor_type.elem_type == F32:
            vi.type.tensor_type.elem_type = F16
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                a.t.CopyFrom(half(a.t))
            if n.op_type == 'Cast' and a.name == 'to' and a.i == F32:
                a.i = F16
    onnx.save(m, sys.argv[2])


if __name__ == '__main__':
    main()
