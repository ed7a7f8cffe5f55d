"""The Python package (`import mobileone`), run by pytest from
test/Python/package.test: compile with keyword options and arrays, the
runtime in process from a path or bytes, from_torch on a RepVGG-style module,
and every error as a Python exception with the tool's or runtime's message.

Environment: PYTHONPATH holds the package (build/python or an installed
prefix's dist-packages); MOBILEONE_SRC the source tree; WORK a scratch
directory.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import mobileone

SRC = os.environ["MOBILEONE_SRC"]
WORK = os.environ["WORK"]
MODEL = os.path.join(SRC, "models", "trained", "fashion_mobileone.onnx")
sys.path.insert(0, os.path.join(SRC, "models", "train"))
import fmnist  # noqa: E402

os.makedirs(WORK, exist_ok=True)


@pytest.fixture(scope="module")
def data():
    images, labels = fmnist.load("test")
    x = images[:200].numpy()  # NCHW, pixel / 255
    return x, np.ascontiguousarray(x.transpose(0, 2, 3, 1)), labels[:200].numpy()


@pytest.fixture(scope="module")
def fp32(data):
    return mobileone.compile(MODEL, os.path.join(WORK, "f32.tflite"), batch=200)


def test_compile_and_run_equal_mobileone_run(data, fp32):
    x, x_nhwc, labels = data
    assert "blocks fused:      12" in fp32.summary
    assert fp32.bytes[4:8] == b"TFL3"
    runtime = mobileone.Runtime(fp32.output, threads=2)
    assert runtime.input_names == ["image"] and runtime.output_names == ["logits"]
    assert runtime.inputs[0]["shape"] == (200, 28, 28, 1)
    assert runtime.inputs[0]["layout"] == "NHWC"
    logits = runtime.run({"image": x_nhwc})["logits"]
    np.save(os.path.join(WORK, "x.npy"), x_nhwc)
    subprocess.run([mobileone.tool("mobileone-run"), fp32.output, "--input",
                    os.path.join(WORK, "x.npy"), "--output", os.path.join(WORK, "cli.npy"),
                    "--threads", "2"], check=True, stdout=subprocess.DEVNULL)
    assert np.array_equal(logits, np.load(os.path.join(WORK, "cli.npy")))
    assert (logits.argmax(1) == labels).mean() >= 0.85
    # The same by position, by keyword, and from the bytes.
    assert np.array_equal(runtime.run(x_nhwc)["logits"], logits)
    assert np.array_equal(runtime.run(image=x_nhwc)["logits"], logits)
    assert np.array_equal(mobileone.Runtime(fp32.bytes).run(x_nhwc)["logits"], logits)


def test_in_memory_compile_check_and_remarks(data):
    x, _, _ = data
    r = mobileone.compile(MODEL, batch=1, check=True, check_input=x[:1], explain=True)
    assert r.output is None and r.bytes[4:8] == b"TFL3"
    assert "in the runtime" in r.check and "PASS" in r.check
    assert any("fused" in remark for remark in r.remarks)


def test_int8_with_an_array_of_calibration_samples(data, fp32):
    _, x_nhwc, _ = data
    cal = fmnist.load("train")[0][:64].numpy()  # 64 samples of [1, 1, 28, 28]
    q = mobileone.compile(MODEL, os.path.join(WORK, "int8.tflite"), precision="int8",
                          calibration=cal, batch=1)
    runtime = mobileone.Runtime(q.output)
    int8 = np.concatenate([runtime.run(x_nhwc[i:i + 1])["logits"] for i in range(200)])
    ref = mobileone.Runtime(fp32.output).run(x_nhwc)["logits"]
    assert (int8.argmax(1) == ref.argmax(1)).mean() >= 0.95


def test_int8_interface(data):
    """io_dtype="int8": int8 arrays in and out; Runtime.quantize and
    dequantize convert; the results are the float-interface model's, to the
    bit, as real values."""
    _, x_nhwc, _ = data
    cal = fmnist.load("train")[0][:16].numpy()
    options = dict(precision="int8", calibration=cal, batch=1)
    floats = mobileone.Runtime(mobileone.compile(MODEL, **options).bytes)
    ints = mobileone.Runtime(mobileone.compile(MODEL, io_dtype="int8", **options).bytes)
    info = ints.inputs[0]
    assert info["dtype"] == "int8" and info["scale"] > 0 and -128 <= info["zero_point"] <= 127
    assert ints.outputs[0]["dtype"] == "int8"
    for i in range(8):
        q = ints.quantize("image", x_nhwc[i:i + 1])
        assert q.dtype == np.int8
        y = ints.run(q)["logits"]
        assert y.dtype == np.int8
        assert np.array_equal(ints.dequantize("logits", y), floats.run(x_nhwc[i:i + 1])["logits"])
    with pytest.raises(TypeError, match=r"input 'image': expected int8, got float32 \(real = "):
        ints.run(x_nhwc[:1])
    with pytest.raises(ValueError, match="no interface tensor 'nope'"):
        ints.quantize("nope", x_nhwc[:1])
    # equalize="on" / "off": the choice the summary reports, the same model
    # function (within the int8 model's own error).
    on = mobileone.compile(MODEL, equalize="on", **options)
    off = mobileone.compile(MODEL, equalize="off", **options)
    assert "convolution(s) rescaled (cross-layer equalisation)" in on.summary
    assert "equalisation" not in off.summary
    ref = floats.run(x_nhwc[:1])["logits"]
    for r in (on, off):
        y = mobileone.Runtime(r.bytes).run(x_nhwc[:1])["logits"]
        assert np.abs(y - ref).max() <= 0.25 * np.abs(ref).max()


def test_nchw_interface(data, fp32):
    x, x_nhwc, _ = data
    r = mobileone.compile(MODEL, os.path.join(WORK, "nchw.tflite"), batch=200,
                          tflite_layout="nchw")
    runtime = mobileone.Runtime(r.output)
    assert runtime.inputs[0]["layout"] == "NCHW"
    assert runtime.inputs[0]["shape"] == (200, 1, 28, 28)
    ref = mobileone.Runtime(fp32.output).run(x_nhwc)["logits"]
    np.testing.assert_allclose(runtime.run(x)["logits"], ref, rtol=0, atol=1e-5)


def test_from_torch_repvgg_block():
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class RepVGGBlock(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.a = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))
            self.b = nn.Sequential(nn.Conv2d(c, c, 1, 1, 0, bias=False), nn.BatchNorm2d(c))
            self.skip = nn.BatchNorm2d(c)

        def forward(self, x):
            return torch.relu(self.a(x) + self.b(x) + self.skip(x))

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), RepVGGBlock(16), RepVGGBlock(16))
    for m in net.modules():  # non-trivial BN statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    x = torch.randn(2, 3, 32, 32)
    r = mobileone.from_torch(net, x, os.path.join(WORK, "repvgg.tflite"))
    assert "blocks fused:      2" in r.summary
    assert "against the module" in r.check


def test_errors(fp32, data):
    x, x_nhwc, _ = data
    with pytest.raises(mobileone.CompileError, match="none.onnx.*cannot open"):
        mobileone.compile(os.path.join(WORK, "none.onnx"), os.path.join(WORK, "o.tflite"))
    garbage = os.path.join(WORK, "garbage.onnx")
    with open(garbage, "wb") as f:
        f.write(b"\x08\x07garbage")
    with pytest.raises(mobileone.CompileError, match="garbage.onnx.*not a valid ONNX model"):
        mobileone.compile(garbage, os.path.join(WORK, "g.tflite"))
    assert not os.path.exists(os.path.join(WORK, "g.tflite"))
    with pytest.raises(mobileone.CompileError, match="--precision int8 needs --calibration"):
        mobileone.compile(MODEL, os.path.join(WORK, "q.tflite"), precision="int8")
    with pytest.raises(mobileone.CompileError, match="--keep-float: no quantised layer named 'nowhere'"):
        mobileone.compile(MODEL, os.path.join(WORK, "q.tflite"), precision="int8",
                          calibration=x[:2], keep_float=["nowhere"])
    assert not os.path.exists(os.path.join(WORK, "q.tflite"))
    with pytest.raises(mobileone.CompileError, match="--equalize takes auto, on or off, got 'yes'"):
        mobileone.compile(MODEL, os.path.join(WORK, "q.tflite"), precision="int8",
                          calibration=x[:2], equalize="yes")
    assert not os.path.exists(os.path.join(WORK, "q.tflite"))
    with pytest.raises(mobileone.ModelError, match="garbage.onnx: not a TFLite model"):
        mobileone.Runtime(garbage)
    with pytest.raises(mobileone.ModelError, match="the model bytes: "):
        mobileone.Runtime(b"TFL3" * 4)
    runtime = mobileone.Runtime(fp32.output)
    with pytest.raises(ValueError, match=r"input 'image': expected shape \(200, 28, 28, 1\), "
                                         r"got \(200, 1, 28, 28\) \(the .tflite interface is NHWC"):
        runtime.run(x)
    with pytest.raises(TypeError, match="input 'image': expected float32, got float64"):
        runtime.run(x_nhwc.astype(np.float64))
    with pytest.raises(ValueError, match=r"inputs are \['image'\]; unknown \['images'\]"):
        runtime.run(images=x_nhwc)
    with pytest.raises(ValueError, match="the model has 1 input"):
        runtime.run(x_nhwc, x_nhwc)
    with pytest.raises(ValueError, match="threads must be between 1 and 256"):
        mobileone.Runtime(fp32.output, threads=0)
