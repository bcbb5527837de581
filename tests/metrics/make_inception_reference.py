#!/usr/bin/python3
"""Reference outputs of the FID Inception-v3 for tests/metrics/test_inception.cpp.

Builds the network exactly as pytorch-fid does (its fid_inception_v3(): torchvision's
Inception3 with num_classes=1008, aux_logits=False, and the blocks Mixed_5b..5d, 6b..6e, 7b,
7c replaced by the FID variants written below: TensorFlow's average pool, which leaves the
padding out of the divisor, and a max pool in Mixed_7c's pool branch), fills every weight from
a deterministic formula that the C++ test repeats (so no weight file is committed), runs a few
deterministic images through it (resize to 299x299 as pytorch-fid does, pool3, fc) in float64
and writes the pool3 features and logits.

Needs Debian's python3-torch and python3-torchvision (torch 1.13, torchvision 0.14):
  apt-get install -y --no-install-recommends python3-torch python3-torchvision
  /usr/bin/python3 tests/metrics/make_inception_reference.py            # rewrites the outputs
  /usr/bin/python3 tests/metrics/make_inception_reference.py --pth W.pth  # the weights only,
      saved as pytorch-fid's state_dict (for testing scripts/convert_inception.py)

Outputs (next to this script):
  inception_reference.json  the weight formula's version, every tensor's name and shape in
                            state_dict order, the cases (name, input shape, offsets into the .bin)
                            and how far PyTorch's own float32 run is from its float64 run
  inception_reference.bin   little-endian float32: per case, features (n, 2048) then logits
                            (n, 1008), from the float64 run

The weight formula (the C++ twin is tests/metrics/inception_test_weights.h):
  seed = FNV-1a 64 of the tensor's name (UTF-8); for the element at flat index i,
  z = splitmix64 finaliser of seed + (i + 1) * 0x9E3779B97F4A7C15 (mod 2^64),
  v = (z >> 40) / 2^24 * 2 - 1, in [-1, 1), exact in float32; then, by the name's ending:
    conv.weight        v * sqrt(6 / fan_in)        (fan_in = Cin * KH * KW)
    bn.weight          1 + 0.25 v                   bn.bias       0.1 v
    bn.running_mean    0.1 v                        bn.running_var 1 + 0.5 v  (positive)
    fc.weight          v * sqrt(3 / 2048)           fc.bias       0.1 v
  computed in double and rounded once to float32.
Input images use the same v with the name "input/<case>", as float32 in [-1, 1).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torchvision.models import inception as tvi

FORMULA_VERSION = 1
MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15

# name, input shape (N, C, H, W): upscaling from 32x32 (CIFAR-10), a non-square size, and a
# single-channel image (Fashion-MNIST) that the network sees with its channel repeated.
CASES = [("rgb32", (2, 3, 32, 32)), ("rgb48x40", (2, 3, 48, 40)), ("grey28", (1, 1, 28, 28))]


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & MASK
    return h


def uniform(name, count):
    """v in [-1, 1) for elements 0..count-1 of the tensor called `name`, as float64."""
    i = np.arange(1, count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(fnv1a64(name)) + i * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 24) * 2.0 - 1.0


def weight_values(name, shape):
    v = uniform(name, int(np.prod(shape)))
    if name.endswith("conv.weight"):
        fan_in = shape[1] * shape[2] * shape[3]
        x = v * math.sqrt(6.0 / fan_in)
    elif name.endswith("bn.weight"):
        x = 1.0 + 0.25 * v
    elif name.endswith("bn.running_var"):
        x = 1.0 + 0.5 * v
    elif name.endswith(("bn.bias", "bn.running_mean", "fc.bias")):
        x = 0.1 * v
    elif name == "fc.weight":
        x = v * math.sqrt(3.0 / 2048)
    else:
        raise ValueError("no formula for tensor " + name)
    return x.astype(np.float32).reshape(shape)


# ---- the FID blocks (pytorch-fid's patches of torchvision's Inception blocks) ----

def tf_avg_pool(x):
    # TensorFlow's average pool: padded positions do not count in the divisor.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(tvi.InceptionA):
    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(tf_avg_pool(x))
        return torch.cat([b1, b5, b3, bp], 1)


class FIDInceptionC(tvi.InceptionC):
    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                      self.branch7x7dbl_5):
            bd = layer(bd)
        bp = self.branch_pool(tf_avg_pool(x))
        return torch.cat([b1, b7, bd, bp], 1)


class FIDInceptionE(tvi.InceptionE):
    """Mixed_7b (pool="avg", TensorFlow's average pool) and Mixed_7c (pool="max")."""

    def __init__(self, in_channels, pool):
        super().__init__(in_channels)
        self.pool = pool

    def forward(self, x):
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        if self.pool == "max":
            pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            pooled = tf_avg_pool(x)
        bp = self.branch_pool(pooled)
        return torch.cat([b1, b3, bd, bp], 1)


def fid_inception_v3():
    net = tvi.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE(1280, pool="avg")
    net.Mixed_7c = FIDInceptionE(2048, pool="max")
    return net


def deterministic_state_dict(net):
    """pytorch-fid's state_dict layout with every float tensor from the formula."""
    state = net.state_dict()
    out = {}
    for name, t in state.items():
        if name.endswith("num_batches_tracked"):
            out[name] = torch.zeros_like(t)
        else:
            out[name] = torch.from_numpy(weight_values(name, tuple(t.shape)))
    return out


def pool3_and_logits(net, x):
    """pytorch-fid's InceptionV3 forward (resize_input, blocks 0-3) plus the fc layer.
    Our images are already in [-1, 1], so pytorch-fid's normalize_input (2x - 1) is skipped."""
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    for layer in (net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3):
        x = layer(x)
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    x = net.Conv2d_4a_3x3(net.Conv2d_3b_1x1(x))
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
                 "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"):
        x = getattr(net, name)(x)
    pool3 = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)
    return pool3, net.fc(pool3)


def case_input(name, shape):
    v = uniform("input/" + name, int(np.prod(shape))).astype(np.float32)
    return torch.from_numpy(v.reshape(shape))


def max_rel(a, b):
    return float((a - b).abs().max() / b.abs().max())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pth", help="only write the deterministic state_dict to this .pth")
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args()
    torch.manual_seed(0)
    net = fid_inception_v3().eval()
    state = deterministic_state_dict(net)
    if args.pth:
        torch.save(state, args.pth)
        print("wrote", args.pth, "with", len(state), "entries")
        return
    net.load_state_dict(state)
    net64 = fid_inception_v3().eval().double()
    net64.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in state.items()})
    blobs, cases, report = [], [], {}
    offset = 0
    with torch.no_grad():
        for name, shape in CASES:
            x = case_input(name, shape)
            f64, l64 = pool3_and_logits(net64, x.double())
            f32, l32 = pool3_and_logits(net, x)
            report[name] = {"features_float32_vs_float64": max_rel(f32.double(), f64),
                            "logits_float32_vs_float64": max_rel(l32.double(), l64)}
            feats = f64.float().numpy().astype("<f4")
            logits = l64.float().numpy().astype("<f4")
            cases.append({"name": name, "shape": list(shape), "features_offset": offset,
                          "logits_offset": offset + feats.size})
            offset += feats.size + logits.size
            blobs += [feats.ravel(), logits.ravel()]
            print(name, "features mean %.4g max %.4g, logits std %.4g" %
                  (f64.mean(), f64.max(), l64.std()), report[name])
    tensors = [[k, list(v.shape)] for k, v in state.items() if not k.endswith("num_batches_tracked")]
    meta = {"formula_version": FORMULA_VERSION, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "feature_dim": 2048, "num_classes": 1008,
            "values": offset, "cases": cases, "pytorch_float32_max_relative_error": report,
            "tensors": tensors}
    with open(os.path.join(args.out, "inception_reference.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    np.concatenate(blobs).astype("<f4").tofile(os.path.join(args.out, "inception_reference.bin"))
    print("wrote", len(tensors), "tensors and", offset, "values to", args.out)


if __name__ == "__main__":
    sys.exit(main())
