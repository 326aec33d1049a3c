#!/usr/bin/env python3
"""Rewrites where an ONNX model's external data points, for the hostile-file tests
(tests/models/test_onnx_export.cpp): every initializer stored outside the model gets
`location` = LOCATION (and, when given, `offset` / `length` = the raw strings given).

    onnx_relocate_external.py IN.onnx OUT.onnx LOCATION [OFFSET [LENGTH]]
"""
import sys

import onnx

src, dst, location = sys.argv[1:4]
extra = dict(zip(("offset", "length"), sys.argv[4:6]))
m = onnx.load(src, load_external_data=False)
n = 0
for t in m.graph.initializer:
    if t.data_location != onnx.TensorProto.EXTERNAL:
        continue
    entries = {e.key: e.value for e in t.external_data}
    entries["location"] = location
    entries.update(extra)
    del t.external_data[:]
    for k, v in entries.items():
        e = t.external_data.add()
        e.key, e.value = k, v
    n += 1
assert n > 0, "no external initializer in " + src
with open(dst, "wb") as f:
    f.write(m.SerializeToString())
print("relocated", n)
