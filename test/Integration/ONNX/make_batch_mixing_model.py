"""Writes a model with a symbolic batch whose graph moves the batch out of
dimension 0 (Transpose perm [1, 0]): export must keep the batch fixed.

usage: make_batch_mixing_model.py OUT.onnx
"""
import sys

from onnx import TensorProto, helper, save

graph = helper.make_graph(
    [helper.make_node("Transpose", ["x"], ["t"], name="swap", perm=[1, 0]),
     helper.make_node("Relu", ["t"], ["z"], name="act")],
    "g",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
    [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]), sys.argv[1])
