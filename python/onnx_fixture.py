#!/usr/bin/env python3
"""ONNX fixtures for the C++ import tests, written on demand (and deleted) by them.

    onnx_fixture.py model NAME OUT_BASE [--size 64] [--batch 2] [--opset 13] [--preserve]
        torchvision NAME (random weights, random BatchNorm statistics, 10 classes) exported
        by torch.onnx.export to OUT_BASE.onnx; OUT_BASE.safetensors holds "input" and the
        eval-mode "logits". --preserve exports with training=TrainingMode.PRESERVE, which
        keeps BatchNormalization nodes with torchvision's parameter names instead of folding
        them into the convolutions, and also writes the train-mode reference (float64):
        "train_logits", "g", "grad.<param>" = d sum(train_logits * g) / d param and
        "after.<buffer>" = the running statistics after that forward pass.
    onnx_fixture.py small OUT_DIR
        mix.onnx + mix.safetensors: a small CNN using the operators torchvision classifiers
        do not (broadcast Mul/Add, Clip, asymmetric Pad, AveragePool with ceil_mode and
        count_include_pad=0, LeakyReLU, Sigmoid, Tanh, depthwise dilated Conv, a view()
        that exports as Shape/Gather/Unsqueeze/Concat/Reshape, LogSoftmax) with a dynamic
        batch dimension; "input" (batch 3) and "logits".
        dropout.onnx: x -> Dropout(ratio 0.25) -> y, for train()/eval().
        reshape.onnx: x (N, ?) -> Reshape to (3, -1), for an error at run time.
        Invalid models for the error tests: not_protobuf.onnx, missing_initializer.onnx,
        dangling.onnx, cycle.onnx, unsupported.onnx.

torch.onnx.export (torch 1.13) exports AdaptiveAvgPool2d only when the output size divides
the input size, so alexnet (6x6) and vgg11_bn (7x7) need their 224x224 inputs.
"""
import argparse
import copy
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

import safetensors_io  # noqa: E402
from export_torchvision import build  # noqa: E402


def randomize_batchnorm(model, gen):
    """Random statistics and affine parameters, so eval-mode BatchNorm is not the identity."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)


def export(model, x, path, opset, preserve=False, dynamic_batch=False):
    kwargs = {}
    if preserve:
        kwargs['training'] = torch.onnx.TrainingMode.PRESERVE
    if dynamic_batch:
        kwargs.update(input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'N'}})
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(model, x, path, opset_version=opset, **kwargs)
    onnx.checker.check_model(onnx.load(path))


def model_fixture(a):
    torch.manual_seed(0)
    model = build(a.name, 10)
    gen = torch.Generator().manual_seed(1)
    randomize_batchnorm(model, gen)
    x = torch.randn((a.batch, 3, a.size, a.size), generator=gen)
    model.eval()
    t = {'input': x}
    with torch.no_grad():
        t['logits'] = model(x)
    export(model, x, a.out + '.onnx', a.opset, preserve=a.preserve)
    if a.preserve:
        # float64, as python/torchvision_fixture.py: float32 PyTorch is not an oracle for
        # gradients through BatchNorm over a small batch.
        m = model.double().train()
        logits = m(x.double())
        g = torch.randn(logits.shape, generator=gen, dtype=torch.float64)
        (logits * g).sum().backward()
        t['train_logits'] = logits.detach().float()
        t['g'] = g.float()
        for k, p in m.named_parameters():
            t['grad.' + k] = p.grad.float()
        for k, b in m.named_buffers():
            if b.is_floating_point():
                t['after.' + k] = b.float()
    safetensors_io.save(a.out + '.safetensors', t, {'model': a.name})


class Mix(torch.nn.Module):
    """Operators the torchvision classifiers do not export, with PyTorch's semantics."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.scale = torch.nn.Parameter(torch.rand(1, 8, 1, 1) + 0.5)
        self.shift = torch.nn.Parameter(torch.randn(8, 1, 1) * 0.1)
        self.dw = torch.nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8, bias=False)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8 * 3 * 3, 6)

    def forward(self, x):
        x = self.conv(x) * self.scale + self.shift             # Mul, Add broadcast over (N, C, H, W)
        x = torch.clamp(x, -1.5, 2.0)                           # Clip
        x = F.leaky_relu(self.dw(x), 0.2)                       # depthwise dilated Conv, LeakyRelu
        x = self.bn(x)                                          # BatchNormalization (not after a conv)
        x = F.pad(x, (1, 0, 2, 1))                              # Pad: W (1, 0), H (2, 1)
        x = F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True, count_include_pad=False)
        x = torch.sigmoid(x) * torch.tanh(x)
        x = F.max_pool2d(x, 2, 2, ceil_mode=True)
        x = x.view(x.size(0), -1)                               # Shape, Gather, Unsqueeze, Concat, Reshape
        return F.log_softmax(self.fc(x), dim=1)


def write_model(path, nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, 'test', inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    with open(path, 'wb') as f:
        f.write(model.SerializeToString())


def small_fixtures(out):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    mix = Mix()
    randomize_batchnorm(mix, gen)
    mix.eval()
    x = torch.randn((3, 3, 16, 16), generator=gen)
    with torch.no_grad():
        logits = mix(x)
    export(mix, x, os.path.join(out, 'mix.onnx'), 13, dynamic_batch=True)
    # The gradients the imported graph must give, in eval mode (the graph was exported in
    # eval form), from float64: d sum(logits * g) / d param for every parameter.
    m64 = copy.deepcopy(mix).double().eval()
    logits64 = m64(x.double())
    g = torch.randn(logits64.shape, generator=gen, dtype=torch.float64)
    (logits64 * g).sum().backward()
    t = {'input': x, 'logits': logits, 'g': g.float()}
    for k, p in m64.named_parameters():
        t['grad.' + k] = p.grad.float()
    safetensors_io.save(os.path.join(out, 'mix.safetensors'), t)

    # Symbolic spatial dimensions: torchvision's mobilenet_v3_small (10 classes) exported with
    # N, H and W dynamic, and its logits at two input sizes.
    import torchvision
    mnet = torchvision.models.mobilenet_v3_small(num_classes=10)
    randomize_batchnorm(mnet, gen)
    mnet.eval()
    xa = torch.randn((2, 3, 64, 64), generator=gen)
    xb = torch.randn((1, 3, 96, 80), generator=gen)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(mnet, xa, os.path.join(out, 'symbolic_hw.onnx'), opset_version=13, input_names=['input'],
                          output_names=['logits'], dynamic_axes={'input': {0: 'N', 2: 'H', 3: 'W'}})
    with torch.no_grad():
        safetensors_io.save(os.path.join(out, 'symbolic_hw.safetensors'),
                            {'xa': xa, 'xb': xb, 'logits_a': mnet(xa), 'logits_b': mnet(xb)})

    # Two inputs and three outputs (float, float, int64), for `convnet infer --onnx`.
    xv = torch.randn((2, 5), generator=gen)
    bias = torch.randn((2, 5), generator=gen)
    write_model(os.path.join(out, 'multi.onnx'),
                [helper.make_node('Add', ['x', 'bias'], ['sum'], name='add'),
                 helper.make_node('Softmax', ['sum'], ['probs'], name='softmax', axis=1),
                 helper.make_node('Shape', ['x'], ['x_shape'], name='shape')],
                [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 5]),
                 helper.make_tensor_value_info('bias', TensorProto.FLOAT, ['N', 5])],
                [helper.make_tensor_value_info('probs', TensorProto.FLOAT, None),
                 helper.make_tensor_value_info('sum', TensorProto.FLOAT, None),
                 helper.make_tensor_value_info('x_shape', TensorProto.INT64, None)])
    safetensors_io.save(os.path.join(out, 'multi.safetensors'),
                        {'x': xv, 'bias': bias, 'want_probs': torch.softmax(xv + bias, 1), 'want_sum': xv + bias})

    write_model(os.path.join(out, 'dropout.onnx'),
                [helper.make_node('Dropout', ['x', 'ratio'], ['y'], name='drop')],
                [helper.make_tensor_value_info('x', TensorProto.FLOAT, [None, 1000])],
                [helper.make_tensor_value_info('y', TensorProto.FLOAT, None)],
                [helper.make_tensor('ratio', TensorProto.FLOAT, [], [0.25])])
    write_model(os.path.join(out, 'reshape.onnx'),
                [helper.make_node('Reshape', ['x', 'shape'], ['y'], name='rows_of_3')],
                [helper.make_tensor_value_info('x', TensorProto.FLOAT, [None, None])],
                [helper.make_tensor_value_info('y', TensorProto.FLOAT, None)],
                [helper.make_tensor('shape', TensorProto.INT64, [2], [3, -1])])
    with open(os.path.join(out, 'not_protobuf.onnx'), 'wb') as f:
        f.write(b'this is not an ONNX model, just some text\n' * 4)
    x_info = helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 3, 8, 8])
    y_info = helper.make_tensor_value_info('y', TensorProto.FLOAT, None)
    w = helper.make_tensor('conv.bias', TensorProto.FLOAT, [4], [0.0] * 4)
    # The Conv's weight 'conv.weight' is neither an initializer nor a graph input.
    write_model(os.path.join(out, 'missing_initializer.onnx'),
                [helper.make_node('Conv', ['x', 'conv.weight', 'conv.bias'], ['y'], name='conv')], [x_info], [y_info],
                [w])
    # 'ghost' is produced by no node.
    write_model(os.path.join(out, 'dangling.onnx'),
                [helper.make_node('Relu', ['x'], ['r'], name='relu'),
                 helper.make_node('Add', ['r', 'ghost'], ['y'], name='add')], [x_info], [y_info])
    # a -> b -> c -> a
    write_model(os.path.join(out, 'cycle.onnx'),
                [helper.make_node('Relu', ['x'], ['r'], name='relu'),
                 helper.make_node('Add', ['r', 'c'], ['a'], name='loop_a'),
                 helper.make_node('Sigmoid', ['a'], ['b'], name='loop_b'),
                 helper.make_node('Tanh', ['b'], ['c'], name='loop_c'),
                 helper.make_node('Identity', ['c'], ['y'], name='out')], [x_info], [y_info])
    write_model(os.path.join(out, 'unsupported.onnx'),
                [helper.make_node('Relu', ['x'], ['r'], name='relu'),
                 helper.make_node('Round', ['r'], ['e'], name='round_1'),
                 helper.make_node('Pad', ['e', 'pads'], ['p'], name='mirror_pad', mode='mirror'),
                 helper.make_node('ThresholdedRelu', ['p'], ['s'], name='thresholded_1'),
                 helper.make_node('Round', ['s'], ['y'], name='round_2')], [x_info], [y_info],
                [helper.make_tensor('pads', TensorProto.INT64, [8], [0, 0, 1, 1, 0, 0, 1, 1])])


def activation_fixtures(out):
    """act_<name>.onnx: x (2, 3, 4, 5) -> one activation -> y, written with onnx.helper (the
    second exporter: attributes as other exporters set them, e.g. paddle2onnx's HardSigmoid
    alpha 0.2), and activations.safetensors: "x" and "y_<name>" computed by PyTorch."""
    import torch.nn.functional as F
    gen = torch.Generator().manual_seed(7)
    x = torch.randn((2, 3, 4, 5), generator=gen) * 4
    x.view(-1)[::7] = 3.0
    x.view(-1)[3::7] = -3.0
    x.view(-1)[5::7] = 0.0
    x_info = helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 3, 4, 5])
    y_info = helper.make_tensor_value_info('y', TensorProto.FLOAT, ['N', 3, 4, 5])
    ln_w5, ln_b5 = torch.rand(5, generator=gen) + 0.5, torch.randn(5, generator=gen)
    ln_w345 = torch.rand((3, 4, 5), generator=gen) + 0.5
    in_w, in_b = torch.rand(3, generator=gen) + 0.5, torch.randn(3, generator=gen)
    slope45 = torch.randn((4, 5), generator=gen) * 0.3
    cases = {
        'hardsigmoid_paddle': ([helper.make_node('HardSigmoid', ['x'], ['y'], alpha=0.2, beta=0.5)],
                               torch.clamp(0.2 * x + 0.5, 0, 1)),
        'hardsigmoid_default': ([helper.make_node('HardSigmoid', ['x'], ['y'])], torch.clamp(0.2 * x + 0.5, 0, 1)),
        'hardsigmoid_torch': ([helper.make_node('HardSigmoid', ['x'], ['y'], alpha=1 / 6, beta=0.5)], F.hardsigmoid(x)),
        'hardswish': ([helper.make_node('HardSwish', ['x'], ['y'])], F.hardswish(x)),
        'elu': ([helper.make_node('Elu', ['x'], ['y'], alpha=0.5)], F.elu(x, 0.5)),
        'selu': ([helper.make_node('Selu', ['x'], ['y'])], F.selu(x)),
        'softplus': ([helper.make_node('Softplus', ['x'], ['y'])], F.softplus(x)),
        'softsign': ([helper.make_node('Softsign', ['x'], ['y'])], F.softsign(x)),
        'erf': ([helper.make_node('Erf', ['x'], ['y'])], torch.erf(x)),
        # GELU as exporters before opset 20 write it: x * 0.5 * (1 + erf(x / sqrt 2))
        'gelu_decomposed': ([helper.make_node('Div', ['x', 'sqrt2'], ['d']), helper.make_node('Erf', ['d'], ['e']),
                             helper.make_node('Add', ['e', 'one'], ['a']), helper.make_node('Mul', ['x', 'a'], ['m']),
                             helper.make_node('Mul', ['m', 'half'], ['y'])], F.gelu(x)),
        'gelu_half_first': ([helper.make_node('Mul', ['x', 'half'], ['h']),
                             helper.make_node('Mul', ['x', 'rsqrt2'], ['d']), helper.make_node('Erf', ['d'], ['e']),
                             helper.make_node('Add', ['one', 'e'], ['a']), helper.make_node('Mul', ['h', 'a'], ['y'])],
                            F.gelu(x)),
        'silu_decomposed': ([helper.make_node('Sigmoid', ['x'], ['s']), helper.make_node('Mul', ['x', 's'], ['y'])],
                            F.silu(x)),
        'prelu': ([helper.make_node('PRelu', ['x', 'slope'], ['y'])], F.prelu(x, torch.tensor([0.1, -0.2, 0.3]))),
        # Attribute values outside PyTorch's functions, as other exporters may write them.
        'prelu_broadcast': ([helper.make_node('PRelu', ['x', 'slope45'], ['y'])],
                            torch.where(x >= 0, x, x * slope45)),
        'selu_alpha2': ([helper.make_node('Selu', ['x'], ['y'], alpha=2.0, gamma=3.0)], 3.0 * F.elu(x, 2.0)),
        'hardsigmoid_beta': ([helper.make_node('HardSigmoid', ['x'], ['y'], alpha=0.5, beta=0.6)],
                             torch.clamp(0.5 * x + 0.6, 0, 1)),
        # The normalizations (opset 17's LayerNormalization, InstanceNormalization).
        'layernorm_last': ([helper.make_node('LayerNormalization', ['x', 'ln_w5', 'ln_b5'], ['y'], epsilon=1e-6)],
                           F.layer_norm(x, (5,), ln_w5, ln_b5, 1e-6)),
        'layernorm_axis1': ([helper.make_node('LayerNormalization', ['x', 'ln_w345'], ['y'], axis=1)],
                            F.layer_norm(x, (3, 4, 5), ln_w345, None, 1e-5)),
        'instancenorm': ([helper.make_node('InstanceNormalization', ['x', 'in_w', 'in_b'], ['y'], epsilon=1e-3)],
                         F.instance_norm(x, weight=in_w, bias=in_b, eps=1e-3)),
        # LayerNorm as exporters before opset 17 write it: ReduceMean, Sub, Pow, ReduceMean, Add,
        # Sqrt, Div, then the affine.
        'layernorm_decomposed': ([helper.make_node('ReduceMean', ['x'], ['mu'], axes=[-1]),
                                  helper.make_node('Sub', ['x', 'mu'], ['xc']),
                                  helper.make_node('Pow', ['xc', 'two'], ['sq']),
                                  helper.make_node('ReduceMean', ['sq'], ['var'], axes=[-1]),
                                  helper.make_node('Add', ['var', 'eps'], ['ve']),
                                  helper.make_node('Sqrt', ['ve'], ['sd']),
                                  helper.make_node('Div', ['xc', 'sd'], ['n']),
                                  helper.make_node('Mul', ['n', 'ln_w5'], ['nw']),
                                  helper.make_node('Add', ['nw', 'ln_b5'], ['y'])],
                                 F.layer_norm(x, (5,), ln_w5, ln_b5, 1e-5)),
        # Max / Min / Where / comparisons / Reciprocal / Floor and a batched MatMul:
        # where(x > 0, max(x, min(x, 1)), floor(x) / 4) + 1 / (1 + |x|) + (x x^T) x / 64
        'math_mix': ([helper.make_node('Greater', ['x', 'zero'], ['pos']),
                      helper.make_node('Min', ['x', 'one'], ['lo']),
                      helper.make_node('Max', ['x', 'lo'], ['hi']),
                      helper.make_node('Floor', ['x'], ['fl']),
                      helper.make_node('Div', ['fl', 'four'], ['fq']),
                      helper.make_node('Where', ['pos', 'hi', 'fq'], ['w']),
                      helper.make_node('Abs', ['x'], ['ax']),
                      helper.make_node('Add', ['ax', 'one'], ['ax1']),
                      helper.make_node('Reciprocal', ['ax1'], ['r']),
                      helper.make_node('Transpose', ['x'], ['xt'], perm=[0, 1, 3, 2]),
                      helper.make_node('MatMul', ['x', 'xt'], ['xx']),
                      helper.make_node('MatMul', ['xx', 'x'], ['xxx']),
                      helper.make_node('Div', ['xxx', 'sixtyfour'], ['mm']),
                      helper.make_node('Add', ['w', 'r'], ['wr']),
                      helper.make_node('Add', ['wr', 'mm'], ['y'])],
                     torch.where(x > 0, torch.maximum(x, torch.minimum(x, torch.tensor(1.0))), torch.floor(x) / 4)
                     + 1 / (1 + x.abs()) + torch.matmul(torch.matmul(x, x.transpose(2, 3)), x) / 64),
    }
    consts = [helper.make_tensor('sqrt2', TensorProto.FLOAT, [], [2 ** 0.5]),
              helper.make_tensor('one', TensorProto.FLOAT, [], [1.0]),
              helper.make_tensor('half', TensorProto.FLOAT, [], [0.5]),
              helper.make_tensor('two', TensorProto.FLOAT, [], [2.0]),
              helper.make_tensor('rsqrt2', TensorProto.FLOAT, [], [0.5 ** 0.5]),
              helper.make_tensor('eps', TensorProto.FLOAT, [], [1e-5]),
              helper.make_tensor('zero', TensorProto.FLOAT, [], [0.0]),
              helper.make_tensor('four', TensorProto.FLOAT, [], [4.0]),
              helper.make_tensor('sixtyfour', TensorProto.FLOAT, [], [64.0]),
              helper.make_tensor('slope', TensorProto.FLOAT, [3, 1, 1], [0.1, -0.2, 0.3])]
    for name, v in (('ln_w5', ln_w5), ('ln_b5', ln_b5), ('ln_w345', ln_w345), ('in_w', in_w), ('in_b', in_b),
                    ('slope45', slope45)):
        consts.append(helper.make_tensor(name, TensorProto.FLOAT, list(v.shape), v.flatten().tolist()))
    t = {'x': x}
    for name, (nodes, y) in cases.items():
        for i, n in enumerate(nodes):
            n.name = f'{name}_{i}'
        used = {i for n in nodes for i in n.input}
        graph = helper.make_graph(nodes, name, [x_info], [y_info], [c for c in consts if c.name in used])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
        onnx.checker.check_model(model, full_check=True)
        with open(os.path.join(out, f'act_{name}.onnx'), 'wb') as f:
            f.write(model.SerializeToString())
        t['y_' + name] = y
    # Attribute values the importer refuses, by name.
    write_model(os.path.join(out, 'act_cast_half.onnx'),
                [helper.make_node('Cast', ['x'], ['y'], name='to_half', to=TensorProto.FLOAT16)], [x_info], [y_info])
    safetensors_io.save(os.path.join(out, 'activations.safetensors'), t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['model', 'small'])
    ap.add_argument('args', nargs='+')
    ap.add_argument('--size', type=int, default=64)
    ap.add_argument('--batch', type=int, default=2)
    ap.add_argument('--opset', type=int, default=13)
    ap.add_argument('--preserve', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.mode == 'model':
        a.name, a.out = a.args
        model_fixture(a)
    else:
        small_fixtures(a.args[0])
        activation_fixtures(a.args[0])


if __name__ == '__main__':
    main()
