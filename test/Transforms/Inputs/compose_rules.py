"""Emits one flat training-time function per composition rule, with seeded
random weights and BN statistics, for compose-rules.test.

usage: compose_rules.py RULE
"""
import sys

import numpy as np

rng = np.random.default_rng(7)
C, H = 4, 6
T = f"tensor<1x{C}x{H}x{H}xf32>"
lines = []
counter = [0]


def fresh(prefix="v"):
    counter[0] += 1
    return f"%{prefix}{counter[0]}"


def const(shape, values=None):
    values = rng.normal(0, 0.5, shape) if values is None else values
    data = np.asarray(values, "<f4").reshape(shape)
    name = fresh("c")
    ty = f"tensor<{'x'.join(map(str, shape))}xf32>"
    lines.append(f'  {name} = arith.constant dense<"0x{data.tobytes().hex().upper()}"> : {ty}')
    return name, ty


def ttype(c, h, rank=4):
    return f"tensor<1x{c}x{h}x{h}xf32>" if rank == 4 else f"tensor<1x{c}xf32>"


def conv(x, cin, cout, k, stride=1, pads=None, groups=1, h=H, bias=False, kw=None):
    kw = k if kw is None else kw
    pads = pads if pads is not None else [k // 2, kw // 2, k // 2, kw // 2]
    w, wt = const([cout, cin // groups, k, kw])
    operands, types = f"{x}, {w}", f"{ttype(cin, h)}, {wt}"
    if bias:
        b, bt = const([cout])
        operands += f", {b}"
        types += f", {bt}"
    oh = (h + pads[0] + pads[2] - k) // stride + 1
    y = fresh()
    lines.append(f"  {y} = mobileone.conv2d {operands} {{strides = array<i64: {stride}, {stride}>, "
                 f"pads = array<i64: {', '.join(map(str, pads))}>, dilations = array<i64: 1, 1>, "
                 f"group = {groups} : i64}} : ({types}) -> {ttype(cout, oh)}")
    return y, oh


def bn(x, c, h=H, rank=4, shift=None):
    """A batch_norm; appends its shift (its value at a zero input, in f32)
    to `shift` if given."""
    gamma, beta = rng.uniform(0.5, 1.5, c), rng.normal(0, 0.3, c)
    mean, var = rng.normal(0, 0.3, c), rng.uniform(0.5, 1.5, c)
    if shift is not None:
        f = lambda v: np.asarray(v, np.float32)
        shift.append(f(beta) - f(mean) * f(gamma) / np.sqrt(f(var) + np.float32(1e-5)))
    p = [const([c], v)[0] for v in (gamma, beta, mean, var)]
    y = fresh()
    t = ttype(c, h, rank)
    lines.append(f"  {y} = mobileone.batch_norm {x}, {', '.join(p)} {{epsilon = 1.0e-05 : f64}} : "
                 f"({t}, tensor<{c}xf32>, tensor<{c}xf32>, tensor<{c}xf32>, tensor<{c}xf32>) -> {t}")
    return y


def pad_with_bias(y, c, shift, pad=1, h=H):
    """DBB's BNAndPad: pad(y - b) + b, b the BN shift."""
    b, bt = const([1, c, 1, 1], shift)
    centred = binop("sub", y, b, t=ttype(c, h), tb=bt)
    padded = fresh()
    hp = h + 2 * pad
    lines.append(f"  {padded} = mobileone.pad {centred} {{pads = array<i64: 0, 0, {pad}, {pad}, 0, 0, {pad}, {pad}>, "
                 f"mode = \"constant\", value = 0.0 : f32}} : ({ttype(c, h)}) -> {ttype(c, hp)}")
    return binop("add", padded, b, t=ttype(c, hp), tb=bt), hp


def linear(x, cin, cout):
    w, wt = const([cout, cin])
    b, bt = const([cout])
    y = fresh()
    lines.append(f"  {y} = mobileone.linear {x}, {w}, {b} : ({ttype(cin, 0, 2)}, {wt}, {bt}) -> {ttype(cout, 0, 2)}")
    return y


def binop(op, a, b, t=T, tb=None):
    y = fresh()
    lines.append(f"  {y} = mobileone.{op} {a}, {b} : ({t}, {tb or t}) -> {t}")
    return y


def relu(x, t=T):
    y = fresh()
    lines.append(f"  {y} = mobileone.relu {x} : {t}")
    return y


def rule(name):
    x = "%x"
    if name == "sum":  # RepVGG: BN(conv3) + BN(conv1) + BN(x)
        a, _ = conv(x, C, C, 3)
        b, _ = conv(x, C, C, 1)
        return relu(binop("add", binop("add", bn(a, C), bn(b, C)), bn(x, C))), T
    if name == "acnet":
        a, _ = conv(x, C, C, 3)
        b, _ = conv(x, C, C, 1, kw=3, pads=[0, 1, 0, 1])
        c, _ = conv(x, C, C, 3, kw=1, pads=[1, 0, 1, 0])
        return relu(binop("add", binop("add", bn(a, C), bn(b, C)), bn(c, C))), T
    if name == "difference":  # FastViT RepMixer: x + gamma * (mixer(x) - norm(x))
        a, _ = conv(x, C, C, 3, groups=C)
        s, _ = conv(x, C, C, 1, groups=C)
        mixer = binop("add", binop("add", bn(a, C), bn(s, C)), bn(x, C))
        g, gt = const([C, 1, 1])
        return relu(binop("add", x, binop("mul", binop("sub", mixer, bn(x, C)), g, tb=gt))), T
    if name == "scale":  # a conv followed by a layer scale
        a, _ = conv(x, C, C, 1, bias=True)
        g, gt = const([1, C, 1, 1])
        return relu(binop("mul", a, g, tb=gt)), T
    if name == "post-sum-bn":  # RepViT RepVggDw: BN(convBN_dw3(x) + conv_dw1(x) + x)
        a, _ = conv(x, C, C, 3, groups=C)
        b, _ = conv(x, C, C, 1, groups=C, bias=True)
        return relu(bn(binop("add", binop("add", bn(a, C), b), x), C)), T
    if name in ("sequence", "avg-pool"):
        # DBB: a 3x3 conv-BN plus 1x1 -> BN (its bias as the border) -> 3x3
        # conv-BN without padding, or -> 3x3 average pool -> BN.
        a, _ = conv(x, C, C, 3)
        shift = []
        m, _ = conv(x, C, C, 1)
        m, hp = pad_with_bias(bn(m, C, shift=shift), C, shift[0])
        if name == "sequence":
            s, _ = conv(m, C, C, 3, pads=[0, 0, 0, 0], h=hp)
        else:
            s = fresh()
            lines.append(f"  {s} = mobileone.avg_pool {m} {{kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, "
                         f"pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = 0 : i64, "
                         f"count_include_pad = 1 : i64}} : ({ttype(C, hp)}) -> {T}")
        return relu(binop("add", bn(a, C), bn(s, C))), T
    if name == "head":  # RepViT: (BN1d -> Linear) + (BN1d -> Linear), / 2
        t2 = ttype(C, 0, 2)
        f = fresh()
        lines.append(f"  {f} = mobileone.reduce_mean %x {{axes = array<i64: 2, 3>, keepdims = 0 : i64}} : ({T}) -> {t2}")
        two, twot = const([1], [2.0])
        o = ttype(3, 0, 2)
        heads = binop("add", linear(bn(f, C, rank=2), C, 3), linear(bn(f, C, rank=2), C, 3), t=o)
        return binop("div", heads, two, t=o, tb=twot), o
    if name == "costs-more":  # a depthwise 3x3 then a 1x1: stays two convs
        a, _ = conv(x, C, C, 3, groups=C)
        b, _ = conv(bn(a, C), C, 2 * C, 1)
        return relu(b, ttype(2 * C, H)), ttype(2 * C, H)
    raise SystemExit(f"unknown rule {name}")


def main():
    name = sys.argv[1]
    out, t = rule(name)
    print(f"func.func @main(%x: {T}) -> {t} {{")
    print("\n".join(lines))
    print(f"  return {out} : {t}")
    print("}")


if __name__ == "__main__":
    main()
