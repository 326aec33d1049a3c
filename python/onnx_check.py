#!/usr/bin/env python3
"""Validates ONNX files written by `convnet export` / io::export_onnx with python3-onnx.

    onnx_check.py FILE.onnx...

For each file: onnx.checker.check_model(path, full_check=True) (which runs strict shape
inference with type checks), and reports the opset, the declared input and output shapes,
the inferred output shape and the metadata, one line per file:
       OK <file> opset=13 input=[batch,3,32,32] output=[batch,5] inferred=[batch,5] metadata={k=v,...}
or     FAIL <file>: <message>
Always exits 0 after the last file; the C++ test reads the lines.
"""
import sys

import onnx


def dims(value_info):
    out = []
    for d in value_info.type.tensor_type.shape.dim:
        out.append(d.dim_param if d.HasField("dim_param") else str(d.dim_value) if d.HasField("dim_value") else "?")
    return "[" + ",".join(out) + "]"


def check(path):
    # By path: the C++ checker reads the file itself (no 2 GiB limit, no copy through Python);
    # full_check runs strict shape inference with type checks (and writes the inferred
    # shapes back into the file).
    onnx.checker.check_model(path, full_check=True)
    model = onnx.load(path, load_external_data=False)  # shapes and types suffice below
    opset = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    # Shape inference needs the initializers' dims and types, not their bytes: infer the
    # output shape on a copy without them (VGG's classifier alone is 400 MB).
    for init in model.graph.initializer:
        init.ClearField("raw_data")
        init.ClearField("external_data")
        init.data_location = onnx.TensorProto.DEFAULT
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    out_name = model.graph.output[0].name
    produced = {o for n in inferred.graph.node for o in n.output}
    assert out_name in produced, "no node produces the graph output %r" % out_name
    inferred_out = [v for v in inferred.graph.output if v.name == out_name][0]
    meta = ",".join("%s=%s" % (p.key, p.value) for p in model.metadata_props)
    return "opset=%d input=%s output=%s inferred=%s metadata={%s}" % (
        opset[0], dims(model.graph.input[0]), dims(model.graph.output[0]), dims(inferred_out), meta)


for path in sys.argv[1:]:
    try:
        print("OK %s %s" % (path, check(path)), flush=True)
    except Exception as e:  # report every file, then let the C++ test decide
        msg = str(e).replace("\n", " ")
        print("FAIL %s: %s" % (path, msg[:2000]), flush=True)
