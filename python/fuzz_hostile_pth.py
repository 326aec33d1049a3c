#!/usr/bin/env python3
"""Writes hostile PyTorch files (.pth) into fuzz/regressions/pth/, one per way a pickle or a
zip archive can attack a loader; ctest replays them (fuzz_regressions_pth) and `make fuzz`
starts from them. Run with Debian's python3:

    fuzz_hostile_pth.py fuzz/regressions
"""
import io
import os
import pickle
import sys
import zipfile

out = os.path.join(sys.argv[1], "pth")
os.makedirs(out, exist_ok=True)


def put(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def zipped(pkl, storages=(), name="archive"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{name}/data.pkl", pkl)
        for key, data in storages:
            z.writestr(f"{name}/data/{key}", data)
        z.writestr(f"{name}/version", b"3\n")
    return buf.getvalue()


def legacy(obj, keys=(), storages=()):
    head = b"".join(pickle.dumps(x, protocol=2) for x in (0x1950a86a20f9469cfc6c, 1001, {"little_endian": True}))
    tail = pickle.dumps(list(keys), protocol=2)
    for count, data in storages:
        tail += count.to_bytes(8, "little") + data
    return head + obj + tail


def i32(x):
    return b"J" + int(x).to_bytes(4, "little", signed=True)


def i64(x):
    return b"\x8a\x08" + int(x).to_bytes(8, "little", signed=True)


def tensor(size, stride, offset=0, numel=4, key=b"0", kind=b"FloatStorage"):
    return (b"ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\n" + kind + b"\nX" +
            len(key).to_bytes(4, "little") + key + b"X\x03\x00\x00\x00cpu" + i64(numel) + b"tQ" + i64(offset) +
            b"(" + b"".join(i64(s) for s in size) + b"t(" + b"".join(i64(s) for s in stride) + b"t" +
            b"\x89ccollections\nOrderedDict\n)RtR")


def sd(*entries):
    return b"\x80\x02}(" + b"".join(b"X" + len(k).to_bytes(4, "little") + k + v for k, v in entries) + b"u."


f4 = bytes(16)
# Nesting 300,000 deep: a recursive unpickler or destructor overflows the stack.
put("nested_tuples", zipped(b"\x80\x02N" + b"\x85" * 300000 + b"."))
put("nested_lists", zipped(b"\x80\x02" + b"]" * 100000 + b"a" * 99999 + b"."))
# A list that contains itself (a reference cycle), and a dict that is its own key.
put("self_list", zipped(b"\x80\x02]q\x00h\x00a."))
put("self_dict", zipped(b"\x80\x02}q\x00h\x00h\x00s."))
# Memo indices: the largest LONG_BINPUT, and a BINGET of an entry never stored.
put("memo_max", zipped(b"\x80\x02Nr\xff\xff\xff\xff."))
put("memo_missing", zipped(b"\x80\x02h\x07."))
# Opcodes and globals that run code: REDUCE of builtins.eval, INST, OBJ, NEWOBJ, BUILD on a global.
put("eval", zipped(b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+1\x85R."))
put("inst", zipped(b"(S'ls'\nios\nsystem\n."))
put("newobj", zipped(b"\x80\x02ccollections\nOrderedDict\n)\x81."))
put("reduce_storage", zipped(b"\x80\x02ctorch\nFloatStorage\n)R."))
put("persid_text", zipped(b"\x80\x02Pstorage\n."))
# Stack and mark misuse.
put("pop_empty", zipped(b"\x80\x020."))
put("setitems_no_mark", zipped(b"\x80\x02}u."))
put("append_to_tuple", zipped(b"\x80\x02)Na."))
put("stop_only", zipped(b"\x80\x02."))
put("no_stop", zipped(b"\x80\x02}"))
put("protocol_9", zipped(b"\x80\x09}."))
put("long4", zipped(b"\x80\x02\x8b\x00\x00\x00\x80."))
put("long1_wide", zipped(b"\x80\x02\x8a\x09" + bytes(9) + b"."))
put("unicode_past_end", zipped(b"\x80\x02X\xff\xff\xff\x7fabc."))
put("global_no_newline", zipped(b"\x80\x02ccollections OrderedDict"))
# Tensors: sizes and strides whose product or span overflows 64 bits, negative values, an
# offset past the storage, a rank of 40, a storage described twice differently, one missing.
put("size_overflow", zipped(sd((b"w", tensor([1 << 62, 8], [8, 1]))), [("0", f4)]))
put("span_overflow", zipped(sd((b"w", tensor([2, 2], [1 << 62, 1]))), [("0", f4)]))
put("negative_size", zipped(sd((b"w", tensor([-1, 4], [4, 1]))), [("0", f4)]))
put("negative_stride", zipped(sd((b"w", tensor([2, 2], [-2, 1], offset=2))), [("0", f4)]))
put("offset_past", zipped(sd((b"w", tensor([2], [1], offset=3))), [("0", f4)]))
put("rank_40", zipped(sd((b"w", tensor([1] * 40, [1] * 40))), [("0", f4)]))
put("storage_twice", zipped(sd((b"a", tensor([4], [1])), (b"b", tensor([8], [1], numel=8))), [("0", bytes(32))]))
put("storage_missing", zipped(sd((b"w", tensor([4], [1], key=b"7"))), [("0", f4)]))
put("storage_short", zipped(sd((b"w", tensor([4], [1], numel=4))), [("0", bytes(8))]))
put("storage_numel_huge", zipped(sd((b"w", tensor([4], [1], numel=1 << 62))), [("0", f4)]))
put("duplicate_name", zipped(sd((b"w", tensor([4], [1])), (b"w", tensor([4], [1]))), [("0", f4)]))
put("int_key", zipped(b"\x80\x02}(K\x01" + tensor([4], [1]) + b"u.", [("0", f4)]))
# Zip structure: an entry count with no ZIP64 locator, a central directory past the end,
# a local header offset past the end, two data.pkl, no data.pkl.
good = zipped(sd((b"w", tensor([4], [1]))), [("0", f4)])
eocd = good.rfind(b"PK\x05\x06")
put("zip_entries_ffff", good[:eocd + 8] + b"\xff\xff\xff\xff" + good[eocd + 12:])
put("zip_cd_past_end", good[:eocd + 16] + b"\xff\xff\xff\x7f" + good[eocd + 20:])
cd = good.find(b"PK\x01\x02")
put("zip_local_past_end", good[:cd + 42] + b"\x00\x00\x00\x7f" + good[cd + 46:])
put("zip_no_data_pkl", zipped(b"", name="x").replace(b"x/data.pkl", b"x/data.pkX"))
two = io.BytesIO()
with zipfile.ZipFile(two, "w") as z:
    z.writestr("a/data.pkl", sd())
    z.writestr("b/data.pkl", sd())
put("zip_two_pickles", two.getvalue())
# The legacy format: a storage count past the end of the file, a wrong magic, an unlisted key.
put("legacy_count_huge", legacy(sd((b"w", tensor([4], [1]))), ["0"], [(1 << 61, f4)]))
put("legacy_magic", legacy(sd()).replace(b"\x6c\xfc\x9c\x46", b"\x6c\xfc\x9c\x47", 1))
put("legacy_unknown_key", legacy(sd((b"w", tensor([4], [1]))), ["9"], [(4, f4)]))
put("legacy_count_mismatch", legacy(sd((b"w", tensor([4], [1]))), ["0"], [(3, bytes(12))]))
print(f"wrote {len(os.listdir(out))} inputs to {out}")
