#!/usr/bin/env python3
"""gaugan vs PyTorch on the same weights, the same labels and the same machine.

Builds the full-size ADE20K generator in the official NVlabs/SPADE layout (ngf 64, 150 classes +
dontcare, SPADE hidden 128, spectral norm with stored u/v, param-free batch norm in eval mode,
nearest upsampling) with random weights, saves its state dict as a .pth, times its forward in
PyTorch, then runs `gaugan bench --model that.pth --dataset ade20k` on the same label map and
prints both medians and their ratio.

This is a measurement tool, not part of the app: it needs `pip install torch numpy`.

    python3 benches/pytorch_compare.py [--size 256] [--runs 5] [--threads 2] [--gaugan target/release/gaugan]
"""

import argparse
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm


class Spade(nn.Module):
    def __init__(self, norm_nc, label_nc, hidden=128):
        super().__init__()
        self.param_free_norm = nn.BatchNorm2d(norm_nc, affine=False)
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_nc, hidden, 3, padding=1), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, norm_nc, 3, padding=1)
        self.mlp_beta = nn.Conv2d(hidden, norm_nc, 3, padding=1)

    def forward(self, x, seg):
        seg = F.interpolate(seg, size=x.shape[2:], mode="nearest")
        a = self.mlp_shared(seg)
        return self.param_free_norm(x) * (1 + self.mlp_gamma(a)) + self.mlp_beta(a)


class ResBlock(nn.Module):
    def __init__(self, fin, fout, label_nc):
        super().__init__()
        mid = min(fin, fout)
        self.learned = fin != fout
        self.conv_0 = spectral_norm(nn.Conv2d(fin, mid, 3, padding=1))
        self.conv_1 = spectral_norm(nn.Conv2d(mid, fout, 3, padding=1))
        self.norm_0 = Spade(fin, label_nc)
        self.norm_1 = Spade(mid, label_nc)
        if self.learned:
            self.conv_s = spectral_norm(nn.Conv2d(fin, fout, 1, bias=False))
            self.norm_s = Spade(fin, label_nc)

    def forward(self, x, seg):
        xs = self.conv_s(self.norm_s(x, seg)) if self.learned else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), 0.2))
        return xs + dx


class Generator(nn.Module):
    """Official layout, `num_upsampling_layers normal`, label-map head (no VAE)."""

    def __init__(self, label_nc, ngf=64, size=256):
        super().__init__()
        nf = ngf
        self.sh = self.sw = size // 32
        self.fc = nn.Conv2d(label_nc, 16 * nf, 3, padding=1)
        self.head_0 = ResBlock(16 * nf, 16 * nf, label_nc)
        self.G_middle_0 = ResBlock(16 * nf, 16 * nf, label_nc)
        self.G_middle_1 = ResBlock(16 * nf, 16 * nf, label_nc)
        self.up_0 = ResBlock(16 * nf, 8 * nf, label_nc)
        self.up_1 = ResBlock(8 * nf, 4 * nf, label_nc)
        self.up_2 = ResBlock(4 * nf, 2 * nf, label_nc)
        self.up_3 = ResBlock(2 * nf, nf, label_nc)
        self.conv_img = nn.Conv2d(nf, 3, 3, padding=1)

    def forward(self, seg):
        up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")
        x = self.fc(F.interpolate(seg, size=(self.sh, self.sw)))
        x = self.head_0(x, seg)
        x = self.G_middle_0(up(x), seg)
        x = self.G_middle_1(x, seg)
        for block in (self.up_0, self.up_1, self.up_2, self.up_3):
            x = block(up(x), seg)
        return torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))


def synthetic_labels(w, h, classes):
    """The same busy label map as `gaugan bench` makes (bands and 16 px blocks)."""
    y, x = np.mgrid[0:h, 0:w]
    band = y * 8 // h
    block = (x // 16 + (y // 16) * 3) % classes
    banded = np.minimum(band * classes // 8, classes - 1)
    return np.where((x // 16 + y // 16) % 3 == 0, block, banded).astype(np.uint8)


def write_gray_png(path, a):
    h, w = a.shape
    raw = b"".join(b"\x00" + a[r].tobytes() for r in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--gaugan", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "gaugan"))
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    label_nc = 151
    g = Generator(label_nc, 64, a.size)
    # Non-trivial batch-norm statistics, then eval mode (stored u/v, running stats).
    with torch.no_grad():
        for m in g.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    g.eval()
    ids = synthetic_labels(a.size, a.size, label_nc)
    seg = F.one_hot(torch.from_numpy(ids.astype(np.int64)), label_nc).permute(2, 0, 1)[None].float()
    macs = 0
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(tmp, "ade20k_shaped_net_G.pth")
        torch.save(g.state_dict(), pth)
        png = os.path.join(tmp, "labels.png")
        write_gray_png(png, ids)
        with torch.no_grad():
            g(seg)  # warm-up
            times = []
            for _ in range(a.runs):
                t = time.perf_counter()
                g(seg)
                times.append((time.perf_counter() - t) * 1e3)
        torch_ms = float(np.median(times))
        print(f"PyTorch {torch.__version__} ({a.threads} threads), {a.size}x{a.size}: median {torch_ms:.1f} ms "
              f"(min {min(times):.1f}, max {max(times):.1f})", flush=True)
        cmd = [a.gaugan, "bench", "--model", pth, "--dataset", "ade20k", "--crop-size", str(a.size),
               "--labels", png, "--runs", str(a.runs), "--backend", "cpu"]
        print("running:", " ".join(cmd), flush=True)
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        print(out, end="")
    m = re.search(r"^median_ms=([0-9.]+)$", out, re.M)
    if not m:
        sys.exit("gaugan bench printed no median_ms= line")
    ours = float(m.group(1))
    dense = re.search(r"naive \(Burn, dense one-hot\): median\s+([0-9.]+)", out)
    print(f"\nPyTorch {torch_ms:.1f} ms, gaugan optimised {ours:.1f} ms: gaugan takes {ours / torch_ms:.2f}x "
          f"PyTorch's time (target <= 0.50)")
    if dense:
        print(f"gaugan naive dense path {float(dense.group(1)):.1f} ms: {float(dense.group(1)) / torch_ms:.2f}x PyTorch's time")


if __name__ == "__main__":
    main()
