#!/usr/bin/env python3
"""Inputs for fine-tuning a torchvision model from the CLI (tests/e2e/test_finetune_export.cpp):

    finetune_fixture.py NAME OUT_DIR

OUT_DIR/weights.pth: torch.save of torchvision's NAME (random weights, 10 classes), the way
published checkpoints are written; OUT_DIR/images/{train,val}/{red,blue}/*.png: 8 + 8 noisy
40x40 RGB images per class, an image-folder dataset of two easily told classes.
"""
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image

name, out = sys.argv[1:3]
torch.manual_seed(0)
torch.save(getattr(torchvision.models, name)(weights=None, num_classes=10).state_dict(),
           os.path.join(out, 'weights.pth'))
rng = np.random.default_rng(0)
for split in ('train', 'val'):
    for cls, colour in (('red', (200, 30, 30)), ('blue', (30, 30, 200))):
        d = os.path.join(out, 'images', split, cls)
        os.makedirs(d, exist_ok=True)
        for i in range(8):
            a = (np.array(colour) + rng.integers(-30, 30, (40, 40, 3))).clip(0, 255).astype(np.uint8)
            Image.fromarray(a).save(os.path.join(d, f'{i}.png'))
