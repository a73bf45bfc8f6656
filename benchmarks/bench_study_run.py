"""Where the time of one study fine-tuning run goes, and what two cheaper settings save.

Runs :func:`mmssl_us.study.finetune.finetune_once` (random init, the quickstart's FCN R18-D8
recipe) on a generated synthetic knee set (or ``--data``), alternating two settings run by run
so that load from other processes hits both alike. ``--compare`` picks the pair:

- ``eval-batch`` (default): validation and test one image per forward pass (``before``: the
  loaders' ``batch_size=1`` of the segmentation configs) against ``--eval-batch`` images per
  pass (``after``; whole images of one size, so the metrics cannot change: the script checks
  that the test mIoU and the validation curve are equal and exits 1 otherwise);
- ``output-stride``: the backbone at output stride 8 (``D8``: mmseg's FCN R-D8, strides
  (1, 2, 1, 1), dilations (1, 1, 2, 4)) against output stride 16 (``D16``: strides
  (1, 2, 2, 1), dilations (1, 1, 1, 2); the last stage still dilated, as mmseg's
  DeepLabV3+/PSPNet D16 variants). This one changes the model: the script prints each run's
  best val mIoU (the figure a protocol is chosen on) and its test mIoU, which is not for
  choosing.
- ``zero-init``: the random arm's backbone with mmseg's ``zero_init_residual=True`` (the last
  norm of every residual block starts at zero: what the study's random arm gets) against
  ``False`` (every norm starts at one: what DenseCL's, BYOL's and the same-start arm's backbones
  start from). A one-setting check of the init scheme's share in "pretrained vs random"; like
  ``output-stride`` it changes the model, so judge it on best val mIoU, over ``--seeds``.
- ``precision``: training steps in float32 against bfloat16 CPU autocast
  (``mmssl_us.engine.CPUAutocastOptimWrapper``; weights, gradients, optimizer state,
  validation and test stay float32). It changes training's numbers: judge it on best val
  mIoU, paired over ``--seeds``.

It prints, per run and as medians, the seconds spent building the runner, in training steps,
in validation passes and in the test, and the total.

    python benchmarks/bench_study_run.py                       # 2 x 2 runs of 100 iterations
    python benchmarks/bench_study_run.py --iters 400 --val-interval 50 --repeats 1
    python benchmarks/bench_study_run.py --compare output-stride --data data/knee \
        --iters 600 --val-interval 50 --lr 0.02 --warmup 15 --fraction 0.1 --repeats 1
    python benchmarks/bench_study_run.py --compare zero-init --data data/knee --iters 600 \
        --val-interval 50 --lr 0.02 --warmup 15 --fraction 0.1 --repeats 1 --seeds 0 1 2
    python benchmarks/bench_study_run.py --compare precision --data data/knee --iters 600 \
        --val-interval 50 --lr 0.02 --warmup 15 --fraction 0.1 --repeats 1 --seeds 0 1 2
"""
import argparse
import json
import os.path as osp
import statistics
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(ROOT, 'configs', 'fcn', 'fcn_r50-d8-random_1xb16-40k_knee-256x256.py')
PHASES = ('seconds_build', 'seconds_train', 'seconds_val', 'seconds_test', 'seconds')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--iters', type=int, default=100, help='fine-tuning iterations')
    p.add_argument('--val-interval', type=int, default=25)
    p.add_argument('--repeats', type=int, default=2, help='runs of each setting')
    p.add_argument('--eval-batch', type=int, default=8, help="the 'after' eval batch size")
    p.add_argument('--patients', type=int, default=30, help='patients per split')
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--crop', type=int, default=64)
    p.add_argument('--lr', type=float, default=0.01)
    p.add_argument('--data', default=None, help='existing knee-layout folder (default: make one)')
    p.add_argument('--config', default=CONFIG,
                   help='fine-tuning config whose dataset reads --data (default: the knee one)')
    p.add_argument('--compare', choices=sorted(COMPARE), default='eval-batch')
    p.add_argument('--fraction', type=float, default=1.0, help='label fraction of every run')
    p.add_argument('--seeds', type=int, nargs='+', default=[0],
                   help='study seeds (each draws its own labelled subset); every setting runs '
                        'on each')
    p.add_argument('--warmup', type=int, default=None,
                   help='warm-up iterations (default: iters // 20)')
    return p.parse_args(argv)


#: --compare: the two settings, each as (eval batch size or None for --eval-batch, extra
#: config overrides)
COMPARE = {
    'eval-batch': {'before': (1, {}), 'after': (None, {})},
    'output-stride': {
        'D8': (None, {'model.backbone.strides': (1, 2, 1, 1),
                      'model.backbone.dilations': (1, 1, 2, 4)}),
        'D16': (None, {'model.backbone.strides': (1, 2, 2, 1),
                       'model.backbone.dilations': (1, 1, 1, 2)})},
    'zero-init': {
        'zero_init_residual=True': (None, {'model.backbone.zero_init_residual': True}),
        'zero_init_residual=False': (None, {'model.backbone.zero_init_residual': False})},
    'precision': {
        'float32': (None, {}),
        'bfloat16': (None, {'optim_wrapper.type': 'CPUAutocastOptimWrapper',
                            'optim_wrapper.dtype': 'bfloat16'})},
}


def spec(args, eval_batch, extra=None):
    warmup = args.warmup if args.warmup is not None else max(1, args.iters // 20)
    return dict(config=args.config,
                shrink=dict(crop_size=args.crop, img_scale=args.size, max_iters=args.iters,
                            val_interval=args.val_interval, batch_size=8, depth=18,
                            head_channels=128, num_workers=0,
                            warmup_iters=warmup, eval_batch_size=eval_batch),
                cfg_options=dict({'log_level': 'WARNING', 'optim_wrapper.optimizer.lr': args.lr,
                                  'default_hooks.checkpoint.interval': args.iters},
                                 **(extra or {})))


def knee_data(args, tmp):
    """A synthetic knee set of ``args.patients`` patients per split (4 frames each) in tmp."""
    from mmssl_us.synthetic.writer import write_knee_dataset
    data = osp.join(tmp, 'knee')
    t0 = time.perf_counter()
    write_knee_dataset(data, n_patients=3 * args.patients, frames_per_patient=4,
                       n_unlabelled=0, split=(1 / 3, 1 / 3, 1 / 3), seed=0,
                       size=(args.size, args.size), progress_every=10**9)
    print(f'data: {3 * args.patients} patients x 4 frames in {data} '
          f'({time.perf_counter() - t0:.1f} s)')
    return data


def main(argv=None):
    args = parse_args(argv)
    from mmssl_us.study.finetune import RunKey, finetune_once
    tmp = tempfile.mkdtemp(prefix='bench_study_run_')
    data = args.data or knee_data(args, tmp)
    settings = {name: (args.eval_batch if batch is None else batch, extra)
                for name, (batch, extra) in COMPARE[args.compare].items()}
    rows = {name: [] for name in settings}
    for rep in range(args.repeats):
        for seed in args.seeds:
            for name, (batch, extra) in settings.items():
                row = finetune_once(RunKey('random', args.fraction, seed),
                                    spec(args, batch, extra), None,
                                    osp.join(tmp, f'{name}_{rep}_seed{seed}'), data)
                rows[name].append(row)
                print(f'{name} (eval batch {batch}) run {rep + 1} seed {seed}: ' + ', '.join(
                    f'{k[8:] or "total"} {row[k]:.1f} s' for k in PHASES) +
                    f' | best val mIoU {row["best_val"]:.2f} at {row["best_iter"]}'
                    f' | test mIoU {row["mIoU"]:.2f}', flush=True)
    print(f'\nmedian seconds per run ({args.iters} iterations, validation every '
          f'{args.val_interval}, label fraction {args.fraction:g}, {args.repeats} run(s) '
          f'each, seeds {args.seeds}):')
    print('| setting | runner build | training steps | validation | test | total | '
          'best val mIoU |')
    print('|---|---|---|---|---|---|---|')
    for name in settings:
        med = [statistics.median(r[k] for r in rows[name]) for k in PHASES]
        val = statistics.median(r['best_val'] for r in rows[name])
        print(f'| {name} (eval batch {settings[name][0]}) | ' +
              ' | '.join(f'{m:.1f}' for m in med) + f' | {val:.2f} |')
    if len(args.seeds) > 1:
        names = list(settings)
        diffs = [b['best_val'] - a['best_val'] for a, b in zip(rows[names[0]], rows[names[1]])]
        print(f'\nbest val mIoU, {names[1]} minus {names[0]}, paired by seed: ' +
              ', '.join(f'{d:+.2f}' for d in diffs) +
              f' (mean {statistics.mean(diffs):+.2f})')
    if args.compare != 'eval-batch':
        return 0
    same = all(a['mIoU'] == b['mIoU'] and json.loads(a['curve']) == json.loads(b['curve'])
               for a, b in zip(rows['before'], rows['after']))
    print(f'\ntest mIoU and validation curves identical before/after: {same}')
    return 0 if same else 1


if __name__ == '__main__':
    sys.exit(main())
