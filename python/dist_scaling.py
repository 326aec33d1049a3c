#!/usr/bin/env python3
"""Predicted data-parallel scaling efficiency (docs/distributed.md): the ring-allreduce cost
model applied to resnet50 and resnet20 training, 1 to 256 workers, 10/25/100 Gb/s links.

Ring allreduce of B bytes over N workers: 2 (N - 1) steps, each moving B / N bytes per worker
and paying the link latency alpha:  T = 2 (N - 1) / N * B / bw + 2 (N - 1) * alpha.
Overlap (bucketed allreduce during backward): communication hides behind backward except
the last bucket and what exceeds backward:  step = fwd + max(bwd, T - T_last) + T_last,
with T_last the allreduce of the last bucket (25 MB or less).
Efficiency = step(1) / step(N): the throughput of N workers over N times one worker's.

Usage: python3 python/dist_scaling.py [--markdown]
"""
import sys

MODELS = {
    # name: (parameters, seconds of forward+backward per step of one worker, batch), the step
    # times of a V100-class GPU at batch 64 (resnet50, ~340 img/s fp32) and of resnet20 at
    # batch 128 on 32x32 inputs (~0.025 s); backward is 2/3 of a step.
    "resnet50": (25_557_032, 0.19, 64),
    "resnet20": (272_474, 0.025, 128),
}
LINKS = {"10 Gb/s": (10e9 / 8, 30e-6), "25 Gb/s": (25e9 / 8, 20e-6), "100 Gb/s": (100e9 / 8, 5e-6)}
WORKERS = [1, 2, 4, 8, 16, 32, 64, 128, 256]
BUCKET = 25e6


def ring(bytes_, n, bw, alpha):
    if n == 1:
        return 0.0
    return 2 * (n - 1) / n * bytes_ / bw + 2 * (n - 1) * alpha


def efficiency(params, step, n, bw, alpha, overlap=True):
    grad = 4 * params
    fwd, bwd = step / 3, 2 * step / 3
    t = ring(grad, n, bw, alpha)
    if not overlap:
        return step / (step + t)
    last = ring(min(grad, BUCKET), n, bw, alpha) if n > 1 else 0.0
    return step / (fwd + max(bwd, t - last) + last)


def main():
    md = "--markdown" in sys.argv
    for name, (params, step, batch) in MODELS.items():
        print(f"\n{name}: {params / 1e6:.2f} M parameters ({4 * params / 1e6:.1f} MB of float32 gradients), "
              f"{step * 1e3:.0f} ms per step of batch {batch} per worker; efficiency with overlap "
              f"(without overlap in parentheses)\n")
        head = ["workers"] + list(LINKS)
        if md:
            print("| " + " | ".join(head) + " |")
            print("|" + "---|" * len(head))
        else:
            print("  ".join(f"{h:>16}" for h in head))
        for n in WORKERS:
            cells = [str(n)]
            for bw, alpha in LINKS.values():
                e = efficiency(params, step, n, bw, alpha)
                e0 = efficiency(params, step, n, bw, alpha, overlap=False)
                cells.append(f"{100 * e:.0f}% ({100 * e0:.0f}%)")
            print(("| " + " | ".join(cells) + " |") if md else "  ".join(f"{c:>16}" for c in cells))


if __name__ == "__main__":
    main()
