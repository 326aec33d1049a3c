#!/usr/bin/env python3
"""DenseNet-BC (L = 100, k = 12) for CIFAR in PyTorch, as convnet's densenet_bc_100_12:
torchvision's DenseNet with growth 12, blocks (16, 16, 16), 24 initial features and a
single 3x3 convolution as the stem (no norm0/relu0/pool0), the same state_dict names.

    densenet_bc_fixture.py OUT.safetensors

Writes "param.<key>" (seeded random weights and BatchNorm statistics), "input" (2, 3, 8, 8),
"g", and from float64 in eval mode: "logits" and "grad.<param>" = d sum(logits * g) / d param.
"""
import os
import sys
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torchvision  # noqa: E402

import safetensors_io  # noqa: E402


def densenet_bc_100_12(num_classes=10):
    m = torchvision.models.DenseNet(growth_rate=12, block_config=(16, 16, 16), num_init_features=24, bn_size=4,
                                    drop_rate=0, num_classes=num_classes)
    f = OrderedDict((k, v) for k, v in m.features.named_children() if k not in ('conv0', 'norm0', 'relu0', 'pool0'))
    m.features = torch.nn.Sequential(OrderedDict(
        [('conv0', torch.nn.Conv2d(3, 24, 3, padding=1, bias=False))] + list(f.items())))
    return m


def main():
    out = sys.argv[1]
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = densenet_bc_100_12()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.copy_(torch.randn(mod.running_mean.shape, generator=gen) * 0.1)
                mod.running_var.copy_(torch.rand(mod.running_var.shape, generator=gen) + 0.5)
                mod.weight.copy_(torch.rand(mod.weight.shape, generator=gen) + 0.5)
                mod.bias.copy_(torch.randn(mod.bias.shape, generator=gen) * 0.1)
    t = {'param.' + k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn((2, 3, 8, 8), generator=gen)
    m64 = model.double().eval()
    logits = m64(x.double())
    g = torch.randn(logits.shape, generator=gen, dtype=torch.float64)
    (logits * g).sum().backward()
    t['input'] = x
    t['g'] = g.float()
    t['logits'] = logits.detach().float()
    for k, p in m64.named_parameters():
        t['grad.' + k] = p.grad.float()
    safetensors_io.save(out, t)


if __name__ == '__main__':
    main()
