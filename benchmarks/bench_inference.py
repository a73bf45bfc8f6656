"""Images/s of inference before and after the move onto mmseg's ``MMSegInferencer``, side by side.

Runs the same job twice in fresh subprocesses: once with ``--old`` (a checkout of the code before
the move, e.g. ``git worktree add /tmp/old <commit>``) first on ``PYTHONPATH``, once with this
tree. Each builds a tiny FCN (ResNet-18, 8-channel head, random weights, seed 0) from the knee
config, writes ``--n`` grey 64x64 images and times ``run_inference`` on them (model built
beforehand; masks, overlays and summary written, as the tool does). Prints measured figures only.

Example:
    nice -n 19 python benchmarks/bench_inference.py --old /work/main --n 32
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
KNEE = osp.join('configs', 'fcn', 'fcn_r50-d8-random_1xb16-40k_knee-256x256.py')

CHILD = r'''
import json, os.path as osp, sys, time
import cv2, numpy as np, torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS
import mmssl_us
from mmssl_us.seg.config_utils import seg_cfg_options
from mmssl_us.seg.inference import SegInferencer, run_inference
config, tmp, n, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(1)
options = seg_cfg_options(Config.fromfile(config), img_scale=64, depth=18, head_channels=8)
cfg = Config.fromfile(config)
cfg.merge_from_dict(options)
torch.manual_seed(0)
with DefaultScope.overwrite_default_scope('mmseg'):
    model = MODELS.build(cfg.model)
ckpt = osp.join(tmp, 'tiny.pth')
torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
src = osp.join(tmp, 'in')
rng = np.random.default_rng(0)
import os
os.makedirs(src, exist_ok=True)
for i in range(n):
    cv2.imwrite(osp.join(src, f'{i:03d}.png'), rng.integers(0, 255, (64, 64)).astype(np.uint8))
kwargs = {'batch_size': batch} if 'batch_size' in SegInferencer.__init__.__code__.co_varnames else {}
inferencer = SegInferencer(config, ckpt, device='cpu', cfg_options=options, **kwargs)
run_inference(inferencer, src, osp.join(tmp, 'warm'), progress=False)  # warm-up
start = time.perf_counter()
run_inference(inferencer, src, osp.join(tmp, 'out'), progress=False)
wall = time.perf_counter() - start
print('RESULT ' + json.dumps(dict(module=mmssl_us.__file__, seconds=wall, images=n,
                                  batch=kwargs.get('batch_size', 1))))
'''


def _run(tree: str, n: int, batch: int, config: str) -> dict:
    env = dict(os.environ, PYTHONPATH=tree, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, '-c', CHILD, config, tmp, str(n), str(batch)],
                             env=env, capture_output=True, text=True, cwd=tree)
    if out.returncode != 0:
        raise RuntimeError(f'benchmark on {tree} failed:\n{out.stderr[-3000:]}')
    line = [x for x in out.stdout.splitlines() if x.startswith('RESULT ')][-1]
    return json.loads(line[len('RESULT '):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--old', required=True, help='checkout of the code before the move')
    parser.add_argument('--n', type=int, default=32, help='images (default 32)')
    parser.add_argument('--batch-size', type=int, default=8, help='new code\'s batch (8)')
    args = parser.parse_args()
    # the old tree's knee config for both: the same pipeline, so the figures differ by the
    # inference code only (later configs read with LoadUltrasoundFrame, which the old code lacks)
    config = osp.join(osp.abspath(args.old), KNEE)
    for name, tree in (('old', osp.abspath(args.old)), ('new', ROOT)):
        r = _run(tree, args.n, args.batch_size, config)
        print(f'{name}: {r["images"]} images 64x64 in {r["seconds"]:.2f} s = '
              f'{r["images"] / r["seconds"]:.1f} images/s (batch {r["batch"]}, 1 thread, '
              f'{r["module"]})')


if __name__ == '__main__':
    main()
