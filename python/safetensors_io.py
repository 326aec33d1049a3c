"""Minimal safetensors writer/reader (no safetensors package needed).

Layout: 8-byte little-endian header length, JSON header, raw little-endian data.
"""
import json
import struct

import numpy as np

_DTYPES = {np.dtype('float32'): 'F32', np.dtype('float64'): 'F64', np.dtype('int64'): 'I64',
           np.dtype('int32'): 'I32', np.dtype('uint8'): 'U8'}
_NP = {v: k for k, v in _DTYPES.items()}


def _as_numpy(t):
    if hasattr(t, 'detach'):
        t = t.detach().cpu().contiguous().numpy()
    t = np.asarray(t)
    return np.ascontiguousarray(t).reshape(np.shape(t))  # keep 0-d arrays 0-d


def save(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = _as_numpy(tensors[name])
        b = a.tobytes()
        header[name] = {'dtype': _DTYPES[a.dtype], 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header['__metadata__'] = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in metadata.items()}
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load(path):
    with open(path, 'rb') as f:
        n, = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop('__metadata__', {})
    out = {}
    for name, info in header.items():
        b, e = info['data_offsets']
        out[name] = np.frombuffer(data[b:e], dtype=_NP[info['dtype']]).reshape(info['shape'])
    return out, meta
