#!/usr/bin/env python3
"""Runs an ONNX file in ONNX Runtime (CPU) on the tensors of a safetensors file: the second
opinion on what `convnet export` writes (tests/models/test_onnx_export.cpp).

    ort_run.py MODEL.onnx INPUTS.safetensors OUTPUTS.safetensors [THREADS]

INPUTS holds one tensor per graph input, under the input's name. OUTPUTS receives every
graph output under its name, as float32. Run it with the project's ONNX Runtime
environment: .venv/bin/python (scripts/install-deps.sh makes it). Prints one line:
    OK onnxruntime=<version> outputs=<name>:<shape>,...
"""
import os
import sys

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

model, inputs, outputs = sys.argv[1:4]
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
so = ort.SessionOptions()
so.intra_op_num_threads = threads
so.inter_op_num_threads = 1
sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
feeds, _ = safetensors_io.load(inputs)
names = [i.name for i in sess.get_inputs()]
missing = [n for n in names if n not in feeds]
if missing:
    sys.exit(f"{inputs}: no tensor for the graph input(s) {missing}; it has {sorted(feeds)}")
got = sess.run(None, {n: np.ascontiguousarray(feeds[n]) for n in names})
result = {o.name: np.asarray(v, dtype=np.float32) for o, v in zip(sess.get_outputs(), got)}
safetensors_io.save(outputs, result)
print("OK onnxruntime=%s outputs=%s" % (ort.__version__, ",".join(
    "%s:%s" % (k, list(v.shape)) for k, v in result.items())))
