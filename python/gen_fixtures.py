#!/usr/bin/env python3
"""Writes the PyTorch (1.13, Debian's python3-torch) fixtures the C++ tests compare against.

    /usr/bin/python3 python/gen_fixtures.py OUT_DIR

Every module in python/fixtures/ with a generate(writer) function contributes cases.
A case is a safetensors file with the inputs, parameters, outputs and gradients, and a
"config" metadata entry (JSON) with the op's arguments. Gradients are those of
sum(out * g) for a random g stored in the file, so every output element matters.
Seeds are fixed: the same torch version writes the same files.
"""
import importlib
import json
import os
import pkgutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import safetensors_io  # noqa: E402


class Writer:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0

    def case(self, name, tensors, config=None):
        path = os.path.join(self.out_dir, name + '.safetensors')
        safetensors_io.save(path, tensors, {'config': json.dumps(config or {})})
        self.count += 1


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else 'fixtures'
    only = sys.argv[2:]  # optional: module names to run
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    w = Writer(out)
    import fixtures
    t0 = time.time()
    for m in pkgutil.iter_modules(fixtures.__path__):
        if only and m.name not in only:
            continue
        mod = importlib.import_module('fixtures.' + m.name)
        if hasattr(mod, 'generate'):
            torch.manual_seed(1234)
            mod.generate(w)
    print(f'gen_fixtures: wrote {w.count} fixtures to {out} in {time.time() - t0:.1f}s (torch {torch.__version__})')


if __name__ == '__main__':
    main()
