#!/usr/bin/env python3
"""One model's parity fixture from torchvision, written on demand by the C++ model tests.

    torchvision_fixture.py NAME OUT.safetensors --mode eval|train [--size 64] [--batch 2] [--num-classes 10]
                           [--pth OUT.pth]   # also the state dict as torch.save writes it
    torchvision_fixture.py --counts NAME [NAME ...]     # prints {"name": parameter count} at 1000 classes

eval: weights ("param.<key>"), "input", "logits" in eval mode.
train: also "g", "grad.<param>" = d sum(logits * g) / d param, "after.<buffer>" = BatchNorm
running statistics after the forward pass, all computed in float64; and in the "config"
metadata, "torch_f32": how far PyTorch's own float32 gradients are from those float64 ones
(the largest per-tensor relative L2 error, the whole-network one, and the largest
elementwise error relative to its tensor's largest magnitude; the worst of NCHW on 1 and 2
threads and channels_last, each in "torch_f32_runs"), so the C++ test can show its own
error beside what float32 can reach at all. Dropout and stochastic depth are disabled
(p = 0) in train mode so that both sides compute the same function; the C++ side does the same.
"""
import argparse
import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torchvision  # noqa: E402

import safetensors_io  # noqa: E402
from export_torchvision import build  # noqa: E402


def no_random_layers(model):
    """Dropout and stochastic depth off, so both sides compute the same function."""
    for mod in model.modules():
        if isinstance(mod, (torch.nn.Dropout, torchvision.ops.StochasticDepth)):
            mod.p = 0.0


def reference_stats(grads64):
    """Per parameter: its float64 gradient, squared L2 norm and largest magnitude (computed
    once: vgg11_bn has 129M parameters, and every pass over them costs a second)."""
    stats = {k: (g, float(torch.dot(g.flatten(), g.flatten())), float(g.abs().max())) for k, g in grads64.items()}
    top = max(m for _, _, m in stats.values())
    return stats, top


def f32_error(model32, stats, top):
    """How far float32 gradients are from the float64 ones: the largest per-tensor relative
    L2 error, the whole-network one, and the largest elementwise error relative to its
    tensor's largest magnitude."""
    err2 = ref2 = 0.0
    worst_l2 = worst_elem = 0.0
    chunk = 1 << 20  # float64 differences 8 MB at a time: vgg11_bn's 103M-weight layer in one
    # piece would take 0.8 GB of fresh pages per run, and page faults were most of its time
    for k, p in model32.named_parameters():
        ref, rn2, rmax = stats[k]
        r, q = ref.flatten(), p.grad.flatten()
        en2 = emax = 0.0
        for i in range(0, r.numel(), chunk):
            e = torch.sub(r[i:i + chunk], q[i:i + chunk])  # promoted to float64
            en2 += float(torch.dot(e, e))
            emax = max(emax, float(e.abs_().max()))
        err2 += en2
        ref2 += rn2
        if rmax < 1e-6 * top:
            continue  # analytically zero (a conv bias before BatchNorm): no relative error
        worst_l2 = max(worst_l2, en2**0.5 / (rn2**0.5 + 1e-30))
        worst_elem = max(worst_elem, emax / (rmax + 1e-30))
    return {'tensor_l2': worst_l2, 'network_l2': (err2 / ref2) ** 0.5, 'elementwise': worst_elem}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('names', nargs='+')
    ap.add_argument('--counts', action='store_true')
    ap.add_argument('--mode', default='eval')
    ap.add_argument('--size', type=int, default=64)
    ap.add_argument('--batch', type=int, default=2)
    ap.add_argument('--num-classes', type=int, default=10)
    ap.add_argument('--pth', help='also torch.save the state dict (eval mode) to this .pth file')
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.counts:
        # Counts need no initial values: the initializers become no-ops (vgg19 alone draws
        # 143M values), the parameters stay as torch.empty made them.
        # Restored afterwards: python/test_worker.py runs the next fixture in this process.
        saved = {fn: getattr(torch.nn.init, fn) for fn in dir(torch.nn.init)
                 if fn.endswith('_') and not fn.startswith('_')}
        try:
            for fn in saved:
                setattr(torch.nn.init, fn, lambda t, *args, **kwargs: t)
            out = {}
            for n in a.names:
                out[n] = sum(p.numel() for p in build(n, 1000).parameters())
        finally:
            for fn, f in saved.items():
                setattr(torch.nn.init, fn, f)
        print(json.dumps(out))
        return
    name, path = a.names
    torch.manual_seed(0)
    model = build(name, a.num_classes)
    # Random BatchNorm statistics and affine parameters, so eval mode is not the identity.
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
                mod.running_mean.copy_(torch.randn(mod.running_mean.shape, generator=gen) * 0.1)
                mod.running_var.copy_(torch.rand(mod.running_var.shape, generator=gen) + 0.5)
                mod.weight.copy_(torch.rand(mod.weight.shape, generator=gen) + 0.5)
                mod.bias.copy_(torch.randn(mod.bias.shape, generator=gen) * 0.1)
    t = {'param.' + k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn((a.batch, 3, a.size, a.size), generator=gen)
    t['input'] = x
    config = {'name': name, 'mode': a.mode}
    if a.pth:
        torch.save(model.state_dict(), a.pth)
    if a.mode == 'eval':
        model.eval()
        with torch.no_grad():
            t['logits'] = model(x)
    else:
        # PyTorch in float32 on the same weights and input, to measure float32's own error.
        model32 = copy.deepcopy(model).float()
        model32.train()
        no_random_layers(model32)
        # The reference runs in float64: float32 PyTorch itself is not within 1e-3 of the
        # exact gradients of deep nets (GoogLeNet, DenseNet), so it cannot be the oracle.
        model = model.double()
        x = x.double()
        model.train()
        no_random_layers(model)
        logits = model(x)
        g = torch.randn(logits.shape, generator=gen, dtype=torch.float64)
        (logits * g).sum().backward()
        t['logits'] = logits.detach().float()
        t['g'] = g.float()
        for k, p in model.named_parameters():
            t['grad.' + k] = p.grad.float()
        for k, b in model.named_buffers():
            t['after.' + k] = b.float() if b.is_floating_point() else b.clone()
        stats, top = reference_stats({k: p.grad for k, p in model.named_parameters()})
        # float32 rounding is chaotic here (BatchNorm over 18 values in the deepest blocks
        # amplifies it): one float32 run is one draw. PyTorch's own error is the worst of
        # the runs a user gets from the same code: NCHW on 1 and 2 threads, channels_last.
        # One float32 model for the three runs, its gradients zeroed in place between them (a
        # copy per run was 1 GB of fresh pages for vgg11_bn); the running statistics a run
        # updates do not enter a train-mode gradient. channels_last comes last: it converts
        # the model's 4-D weights.
        variants = {}
        for label, threads, fmt in (('nchw_1t', 1, torch.contiguous_format), ('nchw_2t', 2, torch.contiguous_format),
                                    ('nhwc_1t', 1, torch.channels_last)):
            torch.set_num_threads(threads)
            m = model32.to(memory_format=fmt)
            for p in m.parameters():
                if p.grad is not None:
                    p.grad.zero_()
            (m(x.float().contiguous(memory_format=fmt)) * g.float()).sum().backward()
            variants[label] = f32_error(m, stats, top)
        torch.set_num_threads(1)
        config['torch_f32'] = {k: max(v[k] for v in variants.values())
                               for k in ('tensor_l2', 'network_l2', 'elementwise')}
        config['torch_f32_runs'] = variants
    safetensors_io.save(path, t, {'config': json.dumps(config)})


if __name__ == '__main__':
    main()
