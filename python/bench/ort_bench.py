#!/usr/bin/env python3
"""Inference throughput of an ONNX file in ONNX Runtime (CPU), for scripts/bench_vs_ort.sh.

    ort_bench.py MODEL.onnx --batch 32 [--threads 2] [--seconds 4]

The input shape comes from the graph (its batch dimension replaced by --batch). All graph
optimizations on, one inter-op thread, --threads intra-op threads, random float32 input.
Prints one JSON line: {"engine": "onnxruntime-<version>", "batch": B, "threads": T,
"images_per_second": X, "ms_per_batch": Y}. Run it with the project's .venv/bin/python.
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--seconds", type=float, default=4)
a = ap.parse_args()
so = ort.SessionOptions()
so.intra_op_num_threads = a.threads
so.inter_op_num_threads = 1
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
inp = sess.get_inputs()[0]
shape = [a.batch] + [int(d) for d in inp.shape[1:]]
x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
for _ in range(3):  # warm-up: allocations, kernel selection
    sess.run(None, {inp.name: x})
runs, start = 0, time.perf_counter()
while runs < 3 or time.perf_counter() - start < a.seconds:
    sess.run(None, {inp.name: x})
    runs += 1
elapsed = time.perf_counter() - start
print(json.dumps({"engine": "onnxruntime-" + ort.__version__, "batch": a.batch, "threads": a.threads,
                  "images_per_second": round(runs * a.batch / elapsed, 1), "ms_per_batch": round(1e3 * elapsed / runs, 3)}))
