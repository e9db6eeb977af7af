"""CNNs question 2: ways to control how fast the receptive field grows, measured on small nets.

Every net is single-channel with all weights 1 and no bias, so a non-zero input gradient means
"this pixel reaches the output pixel" with no cancellation; max-pool nets also get a union over
random inputs because a single input routes the gradient only through each window's argmax.
"""

import torch
import torch.nn as nn
from cnn_rf_tools import bbox, extent, footprint, recurrence

from quizzer.verifier import Result


def conv(k=3, s=1, d=1):
    return nn.Conv2d(1, 1, k, stride=s, dilation=d, padding=d * (k - 1) // 2, bias=False)


def probe(net, x):
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Conv2d):
                m.weight.fill_(1.0)
    union, g, (oi, oj) = footprint(net, x)
    nb, _, _ = footprint(net, x, (oi, oj + 1))
    h, w = extent(union)
    return {
        "rf": h,
        "square": h == w,
        "formula": recurrence(net)[-1][1],
        "pixels": int(union.sum()),
        "single": int((g[0] > 0).sum()),
        "out": net(x[:1]).shape[-1],
        "shift": bbox(nb)[2] - bbox(union)[2],
        "params": sum(p.numel() for p in net.parameters()),
        "clipped": min(bbox(union)) == 0 or max(bbox(union)) == x.shape[-1] - 1,
    }


def verify() -> Result:
    r = Result()
    torch.manual_seed(0)
    x = torch.rand(16, 1, 64, 64) + 0.01  # positive input: with weights 1 every path is active
    nets = {
        "3 x conv3 (baseline)": nn.Sequential(conv(), conv(), conv()),
        "6 x conv3 (depth)": nn.Sequential(*[conv() for _ in range(6)]),
        "3 x conv5 (larger kernel)": nn.Sequential(conv(5), conv(5), conv(5)),
        "3 x conv3 stride 2": nn.Sequential(conv(s=2), conv(s=2), conv(s=2)),
        "conv3, maxpool2, conv3, maxpool2, conv3": nn.Sequential(
            conv(), nn.MaxPool2d(2), conv(), nn.MaxPool2d(2), conv()
        ),
        "conv3 dilation 1, 2, 4": nn.Sequential(conv(d=1), conv(d=2), conv(d=4)),
        "conv3 dilation 2, 2, 2": nn.Sequential(conv(d=2), conv(d=2), conv(d=2)),
        "one conv3 dilation 2": nn.Sequential(conv(d=2)),
    }
    m = {name: probe(net, x) for name, net in nets.items()}
    base, deep, big = m["3 x conv3 (baseline)"], m["6 x conv3 (depth)"], m["3 x conv5 (larger kernel)"]
    strided, pooled = m["3 x conv3 stride 2"], m["conv3, maxpool2, conv3, maxpool2, conv3"]
    for part, net in (
        ("three_conv3", base),
        ("three_conv3_stride2", strided),
        ("dilated_124", m["conv3 dilation 1, 2, 4"]),
    ):
        r.part(part, net["rf"])
    dil, grid, dil1 = m["conv3 dilation 1, 2, 4"], m["conv3 dilation 2, 2, 2"], m["one conv3 dilation 2"]
    # The explanation's table cites every measurement as {{ <net>_<field> }} (area = the field's rf²).
    table = {
        "base": base,
        "deep": deep,
        "big": big,
        "strided": strided,
        "pooled": pooled,
        "dil124": dil,
        "dil222": grid,
        "dil1": dil1,
    }
    for name in (
        "base_rf",
        "base_pixels",
        "base_area",
        "base_out",
        "base_shift",
        "base_params",
        "big_rf",
        "big_pixels",
        "big_area",
        "big_out",
        "big_shift",
        "big_params",
        "deep_rf",
        "deep_pixels",
        "deep_area",
        "deep_out",
        "deep_shift",
        "deep_params",
        "strided_rf",
        "strided_pixels",
        "strided_area",
        "strided_out",
        "strided_shift",
        "strided_params",
        "pooled_rf",
        "pooled_pixels",
        "pooled_area",
        "pooled_out",
        "pooled_shift",
        "pooled_params",
        "dil124_rf",
        "dil124_pixels",
        "dil124_area",
        "dil124_out",
        "dil124_shift",
        "dil124_params",
        "dil222_rf",
        "dil222_pixels",
        "dil222_area",
        "dil222_out",
        "dil222_shift",
        "dil222_params",
        "dil1_rf",
        "dil1_pixels",
        "dil1_area",
        "dil1_out",
        "dil1_shift",
        "dil1_params",
    ):
        slug, field = name.rsplit("_", 1)
        v = table[slug]
        r.figure(name, v["rf"] ** 2 if field == "area" else v[field])
    r.figure("pooled_single", pooled["single"])

    r.claim(
        "every autograd extent equals the recurrence r += (k_eff-1)*jump",
        all(v["rf"] == v["formula"] and v["square"] for v in m.values()),
        ", ".join(f"{v['rf']}/{v['formula']}" for v in m.values()),
    )
    r.claim("no footprint is clipped by the 64x64 input", not any(v["clipped"] for v in m.values()))

    # Figure: RF after 1..4 layers for each knob, measured by autograd on each prefix of the stack.
    families = {
        "conv3 (depth only)": [conv() for _ in range(4)],
        "conv5 (larger kernel)": [conv(5) for _ in range(4)],
        "conv3 stride 2": [conv(s=2) for _ in range(4)],
        "conv3 dilation 1, 2, 4, 8": [conv(d=2**i) for i in range(4)],
    }
    growth, growth_clipped = {}, False
    for name, layers in families.items():
        growth[name] = []
        for depth in range(1, 5):
            v = probe(nn.Sequential(*layers[:depth]), x[:1])
            growth[name].append(v["rf"])
            growth_clipped |= v["clipped"] or v["rf"] != v["formula"]
    r.claim(
        "per knob, RF after 1..4 layers: +(k−1) per layer for kernel size/depth, doubling increments for "
        "stride 2 and dilation 1,2,4,8",
        not growth_clipped
        and growth["conv3 (depth only)"] == [3, 5, 7, 9]
        and growth["conv5 (larger kernel)"] == [5, 9, 13, 17]
        and growth["conv3 stride 2"] == growth["conv3 dilation 1, 2, 4, 8"] == [3, 7, 15, 31],
        "; ".join(f"{k}: {v}" for k, v in growth.items()),
    )
    for name, rfs in growth.items():
        r.plot(name, range(1, 5), rfs, xlabel="layers", ylabel="receptive field (pixels)")
    strided_out = probe(nn.Sequential(*families["conv3 stride 2"]), x[:1])["out"]
    dilated_out = probe(nn.Sequential(*families["conv3 dilation 1, 2, 4, 8"]), x[:1])["out"]
    r.note(
        "Figure: receptive field after 1–4 layers, measured. Kernel size and depth add a constant per layer "
        f"(conv3 {growth['conv3 (depth only)']}, conv5 {growth['conv5 (larger kernel)']}); stride 2 and dilations "
        f"1, 2, 4, 8 double the increment each layer ({growth['conv3 stride 2']}) with the same 9 weights per layer. "
        f"Stride pays with resolution (4 layers leave a {strided_out}-pixel-wide output from 64); dilation keeps it "
        f"({dilated_out})."
    )

    # Kernel size / depth: linear growth, dense footprint, cost in parameters.
    r.claim(
        "larger kernel: RF grows by k-1 per layer (3 x conv5 = 13 vs 3 x conv3 = 7), dense, at k^2 weights per layer",
        big["rf"] == 13 and base["rf"] == 7 and big["pixels"] == big["rf"] ** 2 and big["params"] == 75,
        f"{big['rf']} vs {base['rf']}, {big['params']} vs {base['params']} weights",
    )
    r.claim(
        "depth: 6 x conv3 reaches the same 13 as 3 x conv5 with fewer weights",
        deep["rf"] == big["rf"] and deep["params"] < big["params"],
        f"{deep['rf']} with {deep['params']} weights vs {big['rf']} with {big['params']}",
    )

    # Stride / pooling: every later layer's growth multiplied by the stride; dense footprint, lower resolution.
    r.claim(
        "stride 2: same 27 weights as the baseline, RF 15 instead of 7, dense footprint",
        strided["rf"] == 15 and strided["params"] == base["params"] and strided["pixels"] == strided["rf"] ** 2,
        f"RF {strided['rf']}, {strided['pixels']} pixels",
    )
    r.claim(
        "stride 2: the output is subsampled 8x and neighbouring outputs' fields are 8 pixels apart (vs 1)",
        strided["out"] == 8 and strided["shift"] == 8 and base["shift"] == 1,
        f"out {strided['out']}, shift {strided['shift']} vs {base['shift']}",
    )
    r.claim(
        "max pooling: RF 18 with no extra weights; the union over inputs is dense but one input reaches only part of "
        "it (max picks one pixel per window)",
        pooled["rf"] == 18
        and pooled["pixels"] == 18**2
        and pooled["single"] < pooled["pixels"]
        and pooled["params"] == base["params"],
        f"union {pooled['pixels']}/{18**2}, one input {pooled['single']}",
    )

    # Dilation: exponential growth at full resolution and constant cost, but gapped footprints.
    r.claim(
        "dilation 1,2,4: RF 15 with the baseline's 27 weights, full resolution, dense footprint",
        dil["rf"] == 15
        and dil["params"] == base["params"]
        and dil["out"] == 64
        and dil["shift"] == 1
        and dil["pixels"] == 15**2,
        f"RF {dil['rf']}, out {dil['out']}, {dil['pixels']} pixels",
    )
    r.claim(
        "one dilated conv3 (d=2) spans 5x5 but reads only 9 of its 25 pixels: the footprint has holes",
        dil1["rf"] == 5 and dil1["pixels"] == 9,
        f"{dil1['pixels']}/{dil1['rf'] ** 2}",
    )
    r.claim(
        "stacking equal dilations (2,2,2) leaves a gridded footprint: RF 13 but only every other pixel",
        grid["rf"] == 13 and grid["pixels"] == 7 * 7,
        f"{grid['pixels']}/{grid['rf'] ** 2}",
    )

    # A picture of the three dilated footprints (central row of each), as a learner sees them.
    pictures = []
    for name in ("one conv3 dilation 2", "conv3 dilation 2, 2, 2", "conv3 dilation 1, 2, 4"):
        union, _, _ = footprint(nets[name], x[:1])
        r0, r1, c0, c1 = bbox(union)
        pictures.append(f"{name}: " + "".join("█" if v else "·" for v in union[(r0 + r1) // 2, c0 : c1 + 1].tolist()))
    r.note("Central row of each dilated footprint (█ = pixel reached): " + " | ".join(pictures))
    return r
