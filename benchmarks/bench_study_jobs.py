"""A study's fine-tuning runs one at a time (``study.jobs=1``) against two at once
(``study.jobs=2``: two spawned worker processes, each on half the threads), in one run.

Both run the same tiny study through :func:`mmssl_us.study.runner.run_study`: the random arm,
``--runs`` seeds at ``--fraction``, the quickstart's FCN R18-D8 recipe of
``benchmarks/bench_study_run.py`` (``--iters`` iterations, validation every
``--val-interval``), on a generated synthetic knee set (or ``--data``). It prints each
setting's wall time for the whole set of runs, runs per hour, and each run's own seconds, best
val mIoU and test mIoU: the figures of one seed should agree between the two settings up to the
rounding of another thread count (one thread sums in another order than two).

With ``--repeats 2`` the two settings run in the order 1, 2, 2, 1, so that a drift of the
machine's speed hits both alike. Nothing else should run on the machine meanwhile: the point
is how two runs share its cores.

    python benchmarks/bench_study_jobs.py                       # 4 runs of 100 iterations each way
    python benchmarks/bench_study_jobs.py --data data/hc18 --config \\
        configs/fcn/fcn_r50-d8-random_1xb16-40k_hc18-256x256.py --fraction 0.2 --eval-batch 1
"""
import argparse
import os.path as osp
import statistics
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from bench_study_run import CONFIG, knee_data, spec  # noqa: E402  (the quickstart's recipe)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--runs', type=int, default=4, help='runs of each setting (seeds 0..runs-1)')
    p.add_argument('--jobs', type=int, default=2, help='runs at once in the parallel setting')
    p.add_argument('--iters', type=int, default=100, help='fine-tuning iterations')
    p.add_argument('--val-interval', type=int, default=25)
    p.add_argument('--eval-batch', type=int, default=8)
    p.add_argument('--patients', type=int, default=30, help='patients per split')
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--crop', type=int, default=64)
    p.add_argument('--lr', type=float, default=0.02)
    p.add_argument('--warmup', type=int, default=None)
    p.add_argument('--fraction', type=float, default=1.0)
    p.add_argument('--bf16', action='store_true', help='training steps in bfloat16 (the HC18 '
                   "study's CPUAutocastOptimWrapper)")
    p.add_argument('--repeats', type=int, default=1, choices=(1, 2),
                   help='2: the settings in the order 1, jobs, jobs, 1')
    p.add_argument('--data', default=None, help='existing knee-layout folder (default: make one)')
    p.add_argument('--config', default=CONFIG, help='fine-tuning config whose dataset reads '
                   '--data (default: the knee one)')
    return p.parse_args(argv)


def run(args, data, jobs, work_dir):
    """One study of ``args.runs`` runs with ``study.jobs=jobs``: (wall seconds, rows)."""
    from mmssl_us.study.results import read_results
    from mmssl_us.study.runner import run_study
    extra = ({'optim_wrapper.type': 'CPUAutocastOptimWrapper',
              'optim_wrapper.dtype': 'bfloat16'} if args.bf16 else {})
    study = dict(data_root=data, inits=['random'], fractions=[args.fraction],
                 seeds=list(range(args.runs)), baseline='random', jobs=jobs,
                 finetune=spec(args, args.eval_batch, extra))
    cfg = osp.join(work_dir + '.py')
    with open(cfg, 'w', encoding='utf-8') as f:
        f.write(f'study = {study!r}\n')
    t0 = time.perf_counter()
    run_study(cfg, work_dir, log=lambda line: print(f'  jobs={jobs} {line}', flush=True))
    seconds = time.perf_counter() - t0
    rows = sorted(read_results(osp.join(work_dir, 'results.csv')), key=lambda r: r['seed'])
    return seconds, rows


def main(argv=None):
    args = parse_args(argv)
    import torch
    tmp = tempfile.mkdtemp(prefix='bench_study_jobs_')
    data = args.data or knee_data(args, tmp)
    threads = torch.get_num_threads()
    order = [1, args.jobs] if args.repeats == 1 else [1, args.jobs, args.jobs, 1]
    results = {1: [], args.jobs: []}
    for i, jobs in enumerate(order):
        results[jobs].append(run(args, data, jobs, osp.join(tmp, f'study{i}_jobs{jobs}')))
    print(f'\n{args.runs} runs of {args.iters} iterations (validation every '
          f'{args.val_interval}, fraction {args.fraction:g}, '
          f'{"bfloat16" if args.bf16 else "float32"}), this process on {threads} threads:')
    print('| setting | wall time, all runs | runs per hour | median seconds per run |')
    print('|---|---|---|---|')
    walls = {}
    for jobs, outs in results.items():
        walls[jobs] = statistics.median(s for s, _ in outs)
        per_run = statistics.median(r['seconds'] for _, rows in outs for r in rows)
        name = (f'jobs=1 ({threads} threads)' if jobs == 1 else
                f'jobs={jobs} ({max(1, threads // jobs)} thread(s) each)')
        print(f'| {name} | {walls[jobs]:.1f} s | {3600 * args.runs / walls[jobs]:.1f} | '
              f'{per_run:.1f} s |')
    print(f'\nwall time, jobs={args.jobs} against jobs=1: '
          f'{walls[args.jobs] / walls[1]:.2f}x ({walls[1] / walls[args.jobs]:.2f}x the runs '
          'per hour)')
    print('\nper seed, jobs=1 against jobs=%d (first repeat):' % args.jobs)
    print('| seed | best val mIoU | test mIoU | best iteration |')
    print('|---|---|---|---|')
    for a, b in zip(results[1][0][1], results[args.jobs][0][1]):
        print(f'| {int(a["seed"])} | {a["best_val"]:.2f} / {b["best_val"]:.2f} | '
              f'{a["mIoU"]:.2f} / {b["mIoU"]:.2f} | {int(a["best_iter"])} / '
              f'{int(b["best_iter"])} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
