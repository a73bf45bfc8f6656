"""Figure: synthetic knee-recess images (effusion outlined) above real ultrasound scans.

Real images come from the infant hip NHBS SPJ dataset (musculoskeletal, the closest to the
knee) and HC18 (fetal head); they are read, never copied. The synthetic examples are the first
seeds from ``--seed`` on that give two linear images with effusion, one convex image with
effusion and one image without effusion.

Example:
    python tools/analysis/plot_synthetic_vs_real.py --out docs/figures/synthetic_vs_real.png
"""
import argparse
import glob
import io
import os
import os.path as osp
import sys

import cv2
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mmssl_us.synthetic import generate_frame  # noqa: E402

DATA = '/work/shared/data'


def pick_synthetic(first_seed: int, size: int) -> list:
    """Samples for the figure: (title, sample) for 2 linear + 1 convex with effusion, 1 without."""
    wanted = [('linear', True), ('linear', True), ('convex', True), (None, False)]
    picked, seed = [], first_seed
    while wanted:
        s = generate_frame(seed, 0, size)
        for i, (kind, effusion) in enumerate(wanted):
            if bool(s.mask.any()) == effusion and kind in (None, s.geometry.kind):
                what = 'effusion' if effusion else 'no effusion'
                picked.append((f'synthetic seed {seed}\n{s.geometry.kind}, {what}', s))
                del wanted[i]
                break
        seed += 1
    return picked


def pick_real(hip_dir: str, hc18_dir: str) -> list:
    """(title, image) for two hip and two HC18 images; stops if a folder is missing."""
    out = []
    for folder, pattern, names, label in (
            (hip_dir, '**/standard_*.png', ('standard_24.png', 'standard_18.png'), 'infant hip'),
            (hc18_dir, '*_HC.png', ('001_HC.png', '010_HC.png'), 'HC18 fetal head')):
        files = sorted(glob.glob(osp.join(folder, pattern), recursive=True))
        if not files:
            raise FileNotFoundError(f'no {pattern} images under {folder}')
        chosen = [f for f in files if osp.basename(f) in names] or files[:2]
        for f in chosen[:2]:
            img = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
            if img is None:
                raise OSError(f'cannot read {f}')
            out.append((f'real: {label}\n{osp.basename(f)}', img))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='docs/figures/synthetic_vs_real.png')
    parser.add_argument('--seed', type=int, default=0, help='first synthetic seed to try')
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--hip', default=osp.join(DATA, 'nhbs_hip_spj', 'SPJ_dataset'))
    parser.add_argument('--hc18', default=osp.join(DATA, 'hc18', 'training_set'))
    parser.add_argument('--dpi', type=int, default=90)
    args = parser.parse_args(argv)
    try:
        real = pick_real(args.hip, args.hc18)
    except (FileNotFoundError, OSError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    synthetic = pick_synthetic(args.seed, args.size)
    fig, axes = plt.subplots(2, 4, figsize=(11, 6.4), constrained_layout=True)
    for ax, (title, s) in zip(axes[0], synthetic):
        ax.imshow(s.image, cmap='gray', vmin=0, vmax=255)
        if s.mask.any():
            ax.contour(s.mask, levels=[0.5], colors='yellow', linewidths=0.8)
        ax.set_title(title, fontsize=8)
    for ax, (title, img) in zip(axes[1], real):
        ax.imshow(img, cmap='gray', vmin=0, vmax=255, aspect='equal')
        ax.set_title(title, fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle('Top: synthetic knee recess (mmssl_us.synthetic), effusion mask outlined. '
                 'Bottom: real scans.', fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=args.dpi)
    plt.close(fig)
    # Re-encode without the alpha channel at the highest PNG compression (smaller file).
    rgba = cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_COLOR)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    cv2.imwrite(args.out, rgba, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f'{args.out}: {os.path.getsize(args.out) / 1024:.0f} KB')
    return 0


if __name__ == '__main__':
    from mmssl_us.cli import run_main  # noqa: E402
    sys.exit(run_main(main))
