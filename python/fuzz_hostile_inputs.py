#!/usr/bin/env python3
"""Writes the hostile inputs found by the mutation fuzzer of issue 12 (one per root cause)
into fuzz/regressions/<target>/, where ctest replays them in every build
(fuzz_regressions_<target>) and `make fuzz` starts from them. Run with Debian's python3.

    fuzz_hostile_inputs.py fuzz/regressions [CHECKPOINT]

CHECKPOINT: a real convnet checkpoint (any `convnet train` run's last.safetensors) whose
metadata the hostile checkpoints are made from, one field changed each.
"""
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

out = sys.argv[1]


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def st(header, data=b"", declared=None):
    h = header.encode() if isinstance(header, str) else header
    return struct.pack("<Q", len(h) if declared is None else declared) + h + data


a8 = '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}'
# safetensors: element count times size wrapping 2^64, nesting that overflowed a recursive
# dump, duplicate keys, holes, trailing bytes, overlap, BOM, non-string metadata, a header
# length past the file, a rank in the hundreds.
put("safetensors", "wrap_numel", st('{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}'))
put("safetensors", "wrap_numel2", st('{"a":{"dtype":"F64","shape":[2305843009213693952,1],"data_offsets":[0,0]}}'))
put("safetensors", "deep_metadata", st('{"__metadata__":{"k":' + "[" * 50000 + "]" * 50000 + "}}"))
put("safetensors", "duplicate_key", st("{" + a8 + "," + a8 + "}", bytes(8)))
put("safetensors", "hole", st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', bytes(12)))
put("safetensors", "trailing", st("{" + a8 + "}", bytes(16)))
put("safetensors", "overlap", st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                                 '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', bytes(12)))
put("safetensors", "bom", st("\ufeff{" + a8 + "}", bytes(8)))
put("safetensors", "metadata_number", st('{"__metadata__":{"k":1},' + a8 + "}", bytes(8)))
put("safetensors", "header_past_end", st("{" + a8 + "}", bytes(8), declared=2**63 + 5))
put("safetensors", "rank_300", st('{"a":{"dtype":"U8","shape":[' + ",".join(["1"] * 300) + '],"data_offsets":[0,1]}}', b"x"))
put("safetensors", "offsets_u64_max", st('{"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}}'))

# idx (the fuzz target's first byte splits images from labels): a 16-byte header claiming a
# terabyte of pixels; zero rows; a label count that disagrees.
def idx_pair(img, lab):
    # The target cuts at 1 + data[0] * (size - 1) // 255: the first byte that lands on len(img).
    n = len(img) + len(lab)
    b = next(b for b in range(256) if b * n // 255 >= len(img))
    assert b * n // 255 == len(img), "no split byte for these lengths"
    return bytes([b]) + img + lab


lab = struct.pack(">II", 0x801, 3) + b"\x01\x02\x03"
put("idx", "claims_a_terabyte", idx_pair(struct.pack(">IIII", 0x803, 1_000_000, 1000, 1000) + bytes(3), lab))
put("idx", "zero_rows", idx_pair(struct.pack(">IIII", 0x803, 3, 0, 5) + bytes(2), lab))

# images: a BMP height of INT_MIN and 20000x20000, a PNM side of 2^32-1, a PNG whose IDAT has
# length 0, a JPEG cut after its header.
def bmp(w, h):
    return b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 0, 0, 0, 0)


put("image", "bmp_height_int_min", bmp(10, -2**31))
put("image", "bmp_20000x20000", bmp(20000, 20000))
put("image", "pnm_side_2p32m1", b"P5 4294967295 2 255\n" + bytes(16))
put("image", "pgm_20000x20000", b"P5 20000 20000 255\n" + bytes(64))


def png_chunk(kind, data):
    import zlib
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


put("image", "png_empty_idat", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)) +
    png_chunk(b"IDAT", b"") + png_chunk(b"IEND", b""))
put("image", "jpeg_header_only", bytes([0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0x4E, 0x20, 0x4E, 0x20, 3, 1, 0x22, 0, 2, 0x11, 1,
                                        3, 0x11, 1, 0xFF, 0xD9]))

# ONNX: external data read from /etc/passwd, /proc/self/environ and through "..", an
# offset that is not a number, offset + length overflowing, dims claiming 2^62 elements,
# a duplicated attribute, a bogus ir_version, a tensor with raw and typed data, a Conv with
# stride 2^31.
def model(inits, nodes, ir=8):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = ir
    return m.SerializeToString()


def external(location, offset=None, length=None):
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1, 1, 1, 1])
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, v
    return t


conv = helper.make_node("Conv", ["x", "w"], ["y"])
put("onnx", "external_etc_passwd", model([external("/etc/passwd")], [conv]))
put("onnx", "external_proc_environ", model([external("/proc/self/environ")], [conv]))
put("onnx", "external_dotdot", model([external("../../../../etc/passwd")], [conv]))
put("onnx", "external_offset_not_a_number", model([external("w.data", offset="12abc")], [conv]))
put("onnx", "external_offset_overflow", model([external("w.data", offset="9223372036854775807", length="9223372036854775807")], [conv]))
big = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2**31, 2**31, 1, 1], raw_data=b"\0\0\0\0")
put("onnx", "dims_2p62", model([big], [conv]))
put("onnx", "duplicate_attribute", model([helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 1, 1], [1.0])],
                                         [helper.make_node("Conv", ["x", "w"], ["y"], strides=[1, 1])]).replace(b"", b""))
m = onnx.load_from_string(model([helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 1, 1], [1.0])],
                                 [helper.make_node("Conv", ["x", "w"], ["y"], strides=[1, 1])]))
m.graph.node[0].attribute.append(helper.make_attribute("strides", [2, 2]))
put("onnx", "duplicate_attribute", m.SerializeToString())
put("onnx", "ir_version_bogus", model([helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 1, 1], [1.0])], [conv], ir=999))
both = helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 1, 1], [1.0])
both.raw_data = b"\0\0\x80\x3f"
put("onnx", "raw_and_typed", model([both], [conv]))
put("onnx", "conv_stride_2p31", model([helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 1, 1], [1.0])],
                                      [helper.make_node("Conv", ["x", "w"], ["y"], strides=[2**31, 2**31])]))

# checkpoints: counters that overflow, sizes the CLI refuses, an optimizer that does not
# exist (written from a real checkpoint's metadata with one field changed).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

if len(sys.argv) > 2:
    tensors, meta = safetensors_io.load(sys.argv[2])
    tensors = {k: v for k, v in tensors.items() if not k.startswith("train_state/")}
    meta["train_state"] = "false"

    def ckpt(name, **changes):
        m = dict(meta)
        for k, f in changes.items():
            m[k] = f(m[k])
        path = os.path.join(out, "checkpoint", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        safetensors_io.save(path, tensors, m)

    def edit_json(**fields):
        def f(s):
            j = json.loads(s)
            j.update(fields)
            return json.dumps(j)
        return f

    ckpt("epoch_int64_max", epoch=lambda s: str(2**63 - 1))
    ckpt("input_size_100000", model_args=edit_json(input_size=100000))
    ckpt("num_classes_2p40", model_args=edit_json(num_classes=2**40))
    ckpt("optimizer_rmsprop", config=edit_json(optimizer="rmsprop"))
    ckpt("lr_negative", config=edit_json(lr=-1))

# CIFAR: a file that is not a whole number of records, and a label past the classes.
put("cifar", "partial_record", bytes(3073 + 100))
put("cifar", "label_255", bytes([255]) + bytes(3072))
print("wrote", sum(len(f) for _, _, f in os.walk(out)), "inputs under", out)
