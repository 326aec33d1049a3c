#!/usr/bin/env python3
"""SVG plots of cost_curves.py's results (no plotting library needed):

  python3 python/bench/plot_cost_curves.py docs/perf/cost_curves.json docs/perf

For each model, two pictures: MODEL_batch.svg (images/s against batch size, at the model's base
input size) and MODEL_size.svg (p50 latency of one image against input size). Both axes are
logarithmic; every picture names the machine and the date of the measurement.
"""
import json, math, os, sys
from xml.sax.saxutils import escape

SERIES = [('convnet', 'fp32', '#1f77b4', ''), ('convnet', 'bf16', '#1f77b4', '6,4'),
          ('onnxruntime', 'fp32', '#2ca02c', ''), ('pytorch', 'fp32', '#d62728', ''),
          ('pytorch', 'bf16', '#d62728', '6,4')]
W, H, L, R, T, B = 640, 400, 70, 170, 40, 60


def log_ticks(lo, hi):
    ticks, e = [], math.floor(math.log10(lo))
    while 10 ** e <= hi * 1.0001:
        for m in (1, 2, 5):
            v = m * 10 ** e
            if lo / 1.0001 <= v <= hi * 1.0001: ticks.append(v)
        e += 1
    return ticks or [lo, hi]


def fmt(v):
    return f'{v:g}' if v < 1e4 else f'{v / 1e3:g}k'


def plot(path, title, subtitle, xlabel, ylabel, lines, xs_all):
    ys_all = [y for _, _, _, pts in lines for _, y in pts]
    if not ys_all: return
    x0, x1 = min(xs_all), max(xs_all)
    y0, y1 = min(ys_all) / 1.3, max(ys_all) * 1.3
    lx = lambda x: L + (math.log(x) - math.log(x0)) / max(1e-9, math.log(x1) - math.log(x0)) * (W - L - R)
    ly = lambda y: H - B - (math.log(y) - math.log(y0)) / (math.log(y1) - math.log(y0)) * (H - T - B)
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{L}" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
         f'<text x="{L}" y="31" fill="#555">{escape(subtitle)}</text>']
    for x in sorted(set(xs_all)):
        o.append(f'<line x1="{lx(x):.1f}" y1="{T}" x2="{lx(x):.1f}" y2="{H - B}" stroke="#eee"/>')
        o.append(f'<text x="{lx(x):.1f}" y="{H - B + 14}" text-anchor="middle">{fmt(x)}</text>')
    for y in log_ticks(y0, y1):
        o.append(f'<line x1="{L}" y1="{ly(y):.1f}" x2="{W - R}" y2="{ly(y):.1f}" stroke="#eee"/>')
        o.append(f'<text x="{L - 4}" y="{ly(y) + 4:.1f}" text-anchor="end">{fmt(y)}</text>')
    o.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#888"/>')
    o.append(f'<text x="{(L + W - R) / 2}" y="{H - B + 32}" text-anchor="middle">{escape(xlabel)}</text>')
    o.append(f'<text transform="translate(16,{(T + H - B) / 2}) rotate(-90)" text-anchor="middle">{escape(ylabel)}</text>')
    for k, (name, color, dash, pts) in enumerate(lines):
        pts = sorted(pts)
        d = ' '.join(f'{lx(x):.1f},{ly(y):.1f}' for x, y in pts)
        o.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/>')
        for x, y in pts: o.append(f'<circle cx="{lx(x):.1f}" cy="{ly(y):.1f}" r="2.5" fill="{color}"/>')
        yy = T + 14 + 18 * k
        o.append(f'<line x1="{W - R + 10}" y1="{yy - 4}" x2="{W - R + 34}" y2="{yy - 4}" stroke="{color}" '
                 f'stroke-width="2" stroke-dasharray="{dash}"/>')
        o.append(f'<text x="{W - R + 40}" y="{yy}">{escape(name)}</text>')
    o.append('</svg>')
    with open(path, 'w') as f: f.write('\n'.join(o) + '\n')


def main():
    src, out = sys.argv[1], sys.argv[2]
    res = json.load(open(src))
    os.makedirs(out, exist_ok=True)
    sub = f"{res['machine']}; {res['date']}"
    for model in dict.fromkeys(r['model'] for r in res['results']):
        for curve, xkey, ykey, xlabel, ylabel in [
                ('batch', 'batch', 'images_per_s', 'batch size', 'images/s'),
                ('size', 'size', 'p50_ms', 'input size (H = W), batch 1', 'p50 latency of one call (ms)')]:
            rows = [r for r in res['results'] if r['model'] == model and r['curve'] == curve]
            if not rows: continue
            lines = []
            for rt, prec, color, dash in SERIES:
                pts = [(r[xkey], r[ykey]) for r in rows if r['runtime'] == rt and r['precision'] == prec]
                if pts: lines.append((f'{rt} {prec}', color, dash, pts))
            size = rows[0]['size']
            title = (f'{model}: throughput against batch size ({size}x{size})' if curve == 'batch'
                     else f'{model}: latency against input size (batch 1)')
            plot(os.path.join(out, f'{model}_{curve}.svg'), title, sub, xlabel, ylabel, lines,
                 [r[xkey] for r in rows])


def tables(res):
    """Markdown: every point, convnet beside the others (ratios against ONNX Runtime fp32)."""
    rows = res['results']
    get = lambda m, c, b, s, rt, p: next((r for r in rows if (r['model'], r['curve'], r['batch'], r['size'],
                                                               r['runtime'], r['precision']) == (m, c, b, s, rt, p)), None)
    out = ['| model | input | batch | convnet fp32 | convnet bf16 | ONNX Runtime fp32 | PyTorch fp32 | PyTorch bf16 '
           '| fp32 / ORT | bf16 / ORT |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|']
    seen = set()
    for r in rows:
        key = (r['model'], r['batch'], r['size'])
        if key in seen: continue
        seen.add(key)
        m, c, b, s = r['model'], r['curve'], r['batch'], r['size']
        v = {k: get(m, c, b, s, *k) for k in [('convnet', 'fp32'), ('convnet', 'bf16'), ('onnxruntime', 'fp32'),
                                             ('pytorch', 'fp32'), ('pytorch', 'bf16')]}
        cell = lambda x: f"{x['images_per_s']:,.0f} ({x['p50_ms']:.2f} ms)" if x else '-'
        ort = v[('onnxruntime', 'fp32')]
        ratio = lambda x: f"{x['images_per_s'] / ort['images_per_s']:.2f}x" if x and ort else '-'
        out.append(f'| {m} | {s}x{s} | {b} | ' + ' | '.join(cell(x) for x in v.values()) +
                   f" | {ratio(v[('convnet', 'fp32')])} | {ratio(v[('convnet', 'bf16')])} |")
    return '\n'.join(out) + '\n'


if __name__ == '__main__':
    main()
    res = json.load(open(sys.argv[1]))
    with open(os.path.join(sys.argv[2], 'table.md'), 'w') as f:
        f.write(f"Images/s (p50 ms of one call); {res['machine']}; {res['date']}.\n\n" + tables(res))
