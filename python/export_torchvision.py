#!/usr/bin/env python3
"""Writes a torchvision model's state_dict as safetensors (no safetensors package needed).

    /usr/bin/python3 python/export_torchvision.py resnet18 resnet18.safetensors [--num-classes N]
    /usr/bin/python3 python/export_torchvision.py --state-dict my_model.pth out.safetensors

With real ImageNet weights on disk (a .pth file you have), pass --state-dict: the keys
are torchvision's, which are convnet's, so `convnet infer --weights out.safetensors`
loads them into the same zoo model. Without one, the model is randomly initialized by
torchvision with --seed (no download is attempted).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torchvision  # noqa: E402

import safetensors_io  # noqa: E402


def build(name, num_classes=1000):
    """torchvision's constructor for one of convnet's zoo names (random weights)."""
    m = torchvision.models
    if name == 'googlenet':
        # convnet's googlenet is torchvision's without the auxiliary heads.
        return m.googlenet(weights=None, aux_logits=False, init_weights=True, num_classes=num_classes)
    if name == 'inception_v3':
        return m.inception_v3(weights=None, aux_logits=False, init_weights=True, num_classes=num_classes)
    return getattr(m, name)(weights=None, num_classes=num_classes)


def state_dict_tensors(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model', nargs='?')
    ap.add_argument('out')
    ap.add_argument('--num-classes', type=int, default=1000)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--state-dict', help='a .pth file with a state_dict to convert instead of random weights')
    a = ap.parse_args()
    if a.state_dict:
        sd = torch.load(a.state_dict, map_location='cpu')
        if 'state_dict' in sd:
            sd = sd['state_dict']
        tensors = {k: v for k, v in sd.items() if hasattr(v, 'shape')}
    else:
        torch.manual_seed(a.seed)
        tensors = state_dict_tensors(build(a.model, a.num_classes))
    safetensors_io.save(a.out, tensors, {'source': a.state_dict or f'torchvision {a.model} random seed {a.seed}'})
    print(f'wrote {len(tensors)} tensors to {a.out}')


if __name__ == '__main__':
    main()
