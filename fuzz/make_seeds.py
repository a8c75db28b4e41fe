#!/usr/bin/env python3
"""Writes the small hand-made seeds of the fuzz corpus (fuzz/corpus/*), without torch.

- pth_reader: a tiny state dict as a legacy (pre-1.6) torch pickle and as a torch zip archive,
  the same layout torch.save writes (persistent ids for storages, _rebuild_tensor_v2), and a
  hostile pickle that calls os.system;
- label_png: grayscale, indexed, RGB and 16-bit label PNGs;
- dataset_scan: the length-prefixed folder layout that gaugan::fuzzing::dataset cuts apart.

Larger real seeds (the parity fixtures, model files) are passed to `cargo fuzz run` as extra
corpus folders; see fuzz/README.md.
"""

import collections
import io
import os
import pickle
import struct
import sys
import types
import zipfile
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# Stand-ins for the torch globals a state dict pickle names (pickle only records their names).
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
class FloatStorage: pass
class LongStorage: pass
FloatStorage.__module__ = LongStorage.__module__ = "torch"
def _rebuild_tensor_v2(*a): pass
_rebuild_tensor_v2.__module__ = "torch._utils"
torch.FloatStorage, torch.LongStorage, torch._utils = FloatStorage, LongStorage, torch_utils
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
sys.modules["torch"], sys.modules["torch._utils"] = torch, torch_utils


class Storage:
    def __init__(self, key, kind, data):
        self.key, self.kind, self.data = key, kind, data


class Tensor:
    def __init__(self, storage, shape):
        self.storage, self.shape = storage, shape

    def __reduce__(self):
        stride, s = [], 1
        for d in reversed(self.shape):
            stride.insert(0, s)
            s *= d
        return (_rebuild_tensor_v2, (self.storage, 0, tuple(self.shape), tuple(stride), False, collections.OrderedDict()))


def state_dict():
    f = lambda k, vals: Storage(k, FloatStorage, struct.pack("<%df" % len(vals), *vals))
    w = f("0", [0.5, -1.0, 2.0, 0.25, 3.0, -0.5])
    b = f("1", [0.1, -0.2])
    n = Storage("2", LongStorage, struct.pack("<q", 7))
    sd = collections.OrderedDict()
    sd["fc.weight"] = Tensor(w, [2, 3])
    sd["fc.bias"] = Tensor(b, [2])
    sd["norm.num_batches_tracked"] = Tensor(n, [])
    return sd, [w, b, n]


class Pickler(pickle.Pickler):
    def __init__(self, f, legacy):
        super().__init__(f, protocol=2)
        self.legacy = legacy

    def persistent_id(self, obj):
        if not isinstance(obj, Storage):
            return None
        numel = len(obj.data) // (8 if obj.kind is LongStorage else 4)
        if self.legacy:
            return ("storage", obj.kind, obj.key, "cpu", numel, None)
        return ("storage", obj.kind, obj.key, "cpu", numel)


def legacy_pth():
    sd, storages = state_dict()
    f = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
    pickle.dump(1001, f, protocol=2)
    pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, f, protocol=2)
    Pickler(f, True).dump(sd)
    pickle.dump([s.key for s in storages], f, protocol=2)
    for s in storages:
        numel = len(s.data) // (8 if s.kind is LongStorage else 4)
        f.write(struct.pack("<q", numel))
        f.write(s.data)
    return f.getvalue()


def zip_pth():
    sd, storages = state_dict()
    pkl = io.BytesIO()
    Pickler(pkl, False).dump(sd)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl.getvalue())
        for s in storages:
            z.writestr("archive/data/" + s.key, s.data)
        z.writestr("archive/version", "3\n")
    return out.getvalue()


def png(w, h, color_type, rows, bit_depth=8, plte=None):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0))
    if plte:
        out += chunk(b"PLTE", plte)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def write(target, name, data):
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)


def main():
    write("pth_reader", "tiny_legacy.pth", legacy_pth())
    write("pth_reader", "tiny_zip.pth", zip_pth())
    write("pth_reader", "os_system.pth", b"\x80\x02cposix\nsystem\nq\x00X\n\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.")
    gray = png(4, 3, 0, [bytes([0, 1, 2, 3]), bytes([4, 5, 6, 7]), bytes([8, 9, 10, 11])])
    write("label_png", "gray.png", gray)
    write("label_png", "indexed.png", png(3, 2, 3, [bytes([0, 1, 2]), bytes([2, 1, 0])], plte=bytes([0, 0, 170, 0, 0, 255, 0, 85, 255])))
    write("label_png", "rgb.png", png(2, 2, 2, [bytes([0, 0, 170, 0, 0, 255]), bytes([0, 85, 255, 0, 0, 170])]))
    write("label_png", "gray16.png", png(2, 1, 0, [struct.pack(">HH", 3, 300)], bit_depth=16))
    write("label_png", "out_of_range.png", png(2, 1, 0, [bytes([200, 1])]))
    classes = b"background\nfacade\nwindow\n"
    palette = b"0 background 0 0 170\n1 facade 0 0 255\n2 window 0 85 255\n"
    label = png(4, 3, 0, [bytes([0, 1, 2, 1])] * 3)
    photo = png(4, 3, 2, [bytes(range(12))] * 3)
    pre = lambda b: struct.pack("<H", len(b)) + b
    write("dataset_scan", "facade_like", pre(classes) + pre(palette) + pre(label) + photo)
    write("dataset_scan", "size_mismatch", pre(classes) + pre(b"") + pre(label) + png(5, 3, 2, [bytes(range(15))] * 3))


if __name__ == "__main__":
    main()
