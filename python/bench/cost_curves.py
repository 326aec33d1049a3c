#!/usr/bin/env python3
"""Inference cost curves: throughput (images/s) and median call latency (p50 ms) against batch
size and input size, for convnet (fp32, bf16), ONNX Runtime (fp32) and PyTorch (fp32 and bf16
autocast, the faster of NCHW and channels-last at each point), on the same machine, point by
point interleaved. Writes a JSON results file; plot_cost_curves.py draws the SVGs of
docs/performance.md from it.

  PY=$(../shared/bench/setup_modern_peer.sh)   # PyTorch 2.x, torchvision, onnxruntime
  $PY python/bench/cost_curves.py --convnet build/convnet --out docs/perf/cost_curves.json
  python3 python/bench/plot_cost_curves.py docs/perf/cost_curves.json docs/perf

Every runtime times the same network: convnet and ONNX Runtime the same exported .onnx file
(`convnet export`), PyTorch the torchvision model (resnet20_b: the shared peer's CIFAR ResNet-20).
A point: 2 warm-up calls, then calls until --seconds have passed (at least 3).
"""
import argparse, datetime, json, os, platform, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, '..', '..', '..', 'shared', 'bench'))

# model -> (classes, input size of the batch curve, batches, sizes of the size curve)
GRID = {
    'resnet20_b': (10, 32, [1, 8, 32, 128, 256], [32, 64, 128, 224]),
    'mobilenet_v2': (1000, 224, [1, 8, 32, 128], [32, 64, 128, 224]),
    'resnet18': (1000, 224, [1, 8, 32, 128], [32, 64, 128, 224]),
    'resnet50': (1000, 224, [1, 8, 32, 64], [32, 64, 128, 224]),
}


def timed(call, seconds):
    for _ in range(2): call()
    times, t0 = [], time.perf_counter()
    while time.perf_counter() - t0 < seconds or len(times) < 3:
        s = time.perf_counter(); call(); times.append(time.perf_counter() - s)
    return sum(times), times


def point(batch, total, times):
    return {'images_per_s': round(batch * len(times) / total, 1), 'p50_ms': round(statistics.median(times) * 1e3, 3)}


def worker_ort(a):
    import numpy as np, onnxruntime as ort
    so = ort.SessionOptions(); so.intra_op_num_threads = a.threads; so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(a.onnx, so, providers=['CPUExecutionProvider'])
    x = np.random.randn(a.batch, 3, a.size, a.size).astype(np.float32)
    name = s.get_inputs()[0].name
    total, times = timed(lambda: s.run(None, {name: x}), a.seconds)
    print(json.dumps(dict(point(a.batch, total, times), version='onnxruntime-' + ort.__version__)))


def worker_torch(a):
    import torch, torchvision
    torch.set_num_threads(a.threads)
    if a.model == 'resnet20_b':  # the shared peer's CIFAR ResNet-20 (1x1 projection shortcuts, as resnet20_b)
        sys.path.insert(0, SHARED)
        import pytorch_peer
        net = pytorch_peer.resnet_cifar(20, num_classes=a.classes)
    else:
        net = getattr(torchvision.models, a.model)(num_classes=a.classes)
    net.eval()
    x = torch.randn(a.batch, 3, a.size, a.size)
    out = {}
    for prec in ('fp32', 'bf16'):
        best = None
        for cl in (False, True):
            m, xi = (net.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)) if cl else (net, x)
            def call():
                with torch.inference_mode(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=prec == 'bf16'):
                    m(xi)
            total, times = timed(call, a.seconds)
            p = point(a.batch, total, times)
            if best is None or p['images_per_s'] > best['images_per_s']: best = dict(p, channels_last=cl)
        out[prec] = best
    out['version'] = 'torch-' + torch.__version__
    print(json.dumps(out))


def run_json(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(' '.join(cmd) + '\n' + r.stdout + r.stderr)
    return json.loads([l for l in r.stdout.splitlines() if l.startswith('{')][-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--convnet', default='build/convnet')
    ap.add_argument('--out', default='docs/perf/cost_curves.json')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seconds', type=float, default=1.5)
    ap.add_argument('--models', default=','.join(GRID))
    ap.add_argument('--worker', choices=['ort', 'torch'])
    ap.add_argument('--onnx'); ap.add_argument('--model'); ap.add_argument('--classes', type=int)
    ap.add_argument('--batch', type=int); ap.add_argument('--size', type=int)
    a = ap.parse_args()
    if a.worker == 'ort': return worker_ort(a)
    if a.worker == 'torch': return worker_torch(a)

    cpu = platform.processor()
    try:
        cpu = [l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')][0]
    except OSError:
        pass
    res = {'machine': f'{cpu}, {os.cpu_count()} CPUs, {a.threads} threads',
           'date': datetime.date.today().isoformat(), 'threads': a.threads, 'results': []}
    tmp = tempfile.mkdtemp()
    for model in a.models.split(','):
        classes, base, batches, sizes = GRID[model]
        points = [('batch', b, base) for b in batches] + [('size', 1, s) for s in sizes]
        for curve, batch, size in points:
            onnx = os.path.join(tmp, f'{model}_{size}.onnx')
            if not os.path.exists(onnx):
                subprocess.run([a.convnet, 'export', '--model', model, '--input-size', str(size), '--num-classes',
                                str(classes), '--onnx', onnx], check=True, capture_output=True)
            common = dict(model=model, curve=curve, batch=batch, size=size)
            for prec in ('fp32', 'bf16'):
                r = run_json([a.convnet, 'bench', '--onnx', onnx, '--mode', 'infer', '--batch', str(batch), '--threads',
                              str(a.threads), '--seconds', str(a.seconds), '--latency', '--precision', prec])
                res['results'].append(dict(common, runtime='convnet', precision=prec, images_per_s=r['images_per_s'],
                                           p50_ms=r['p50_ms']))
            base_cmd = [sys.executable, __file__, '--model', model, '--classes', str(classes), '--batch', str(batch),
                        '--size', str(size), '--threads', str(a.threads), '--seconds', str(a.seconds)]
            r = run_json(base_cmd + ['--worker', 'ort', '--onnx', onnx])
            res['results'].append(dict(common, runtime='onnxruntime', precision='fp32', images_per_s=r['images_per_s'],
                                       p50_ms=r['p50_ms'], version=r['version']))
            r = run_json(base_cmd + ['--worker', 'torch'])
            for prec in ('fp32', 'bf16'):
                res['results'].append(dict(common, runtime='pytorch', precision=prec, version=r['version'], **r[prec]))
            line = [x for x in res['results'] if x['model'] == model and x['batch'] == batch and x['size'] == size
                    and x['curve'] == curve]
            print(model, curve, 'batch', batch, 'size', size, ' '.join(
                f"{x['runtime']}/{x['precision']}={x['images_per_s']}" for x in line), flush=True)
            os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
            with open(a.out, 'w') as f: json.dump(res, f, indent=1)


if __name__ == '__main__':
    main()
