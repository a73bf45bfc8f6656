"""Command line of the synthetic knee dataset (``tools/generate_synthetic.py`` wraps it).

    python -m mmssl_us.synthetic.cli --out data/knee --patients 40 --frames 5 \\
        --unlabelled 400 --size 256 --seed 0 --workers 2

Writes the layout the knee configs read; re-running with the same arguments on a complete
folder does nothing. ``--mode echo`` writes apical four-chamber echocardiography clips in
EchoNet-Dynamic's layout instead (:mod:`.echonet`: ``Videos/*.avi``, ``FileList.csv``,
``VolumeTracings.csv``), one video per patient, ``--frames`` frames each (e.g.
``--mode echo --out data/echonet_synthetic --patients 40 --frames 32 --size 112``), for
``tools/dataset_converters/echonet.py``; ``--unlabelled`` and ``--geometry`` are knee options
(echo clips are always a phased-array sector, and the pool is the train videos). The study runner calls :func:`main` in-process with the flags of its
``synthetic`` dict.
"""
import argparse
import sys
from typing import List, Optional

from .writer import write_knee_dataset

__all__ = ['build_parser', 'parse_args', 'main']


def build_parser() -> argparse.ArgumentParser:
    """The generator's options (a study's ``synthetic`` dict holds those that take a value)."""
    parser = argparse.ArgumentParser(
        description='Generate synthetic knee-recess ultrasound images with effusion masks.')
    parser.add_argument('--out', default='data/knee', help='output folder (default data/knee)')
    parser.add_argument('--mode', default='knee', choices=('knee', 'echo'),
                        help='knee recess images (default), or echo: EchoNet-Dynamic-format '
                        'apical four-chamber clips')
    parser.add_argument('--patients', type=int, default=40, help='labelled patients')
    parser.add_argument('--frames', type=int, default=5, help='frames per patient')
    parser.add_argument('--unlabelled', type=int, default=400,
                        help='images in the unlabelled pretraining pool (other patients)')
    parser.add_argument('--split', type=float, nargs=3, default=(0.7, 0.15, 0.15),
                        metavar=('TRAIN', 'VAL', 'TEST'),
                        help='patient fractions per split (default 0.7 0.15 0.15)')
    parser.add_argument('--size', type=int, nargs='+', default=[256],
                        help='image size: one number (square) or HEIGHT WIDTH (default 256)')
    parser.add_argument('--seed', type=int, default=0, help='dataset seed (default 0)')
    parser.add_argument('--geometry', default='random', choices=('random', 'linear', 'convex'),
                        help='probe geometry (default random: 30%% convex)')
    parser.add_argument('--workers', type=int, default=1, help='parallel processes')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace a dataset written with other arguments')
    parser.add_argument('--progress-every', type=int, default=200,
                        help='images between progress lines')
    return parser


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Generate (or complete) the dataset; return 0, or 2 after printing why not."""
    args = parse_args(argv)
    if len(args.size) not in (1, 2):
        print(f'error: --size takes one or two numbers, got {args.size}', file=sys.stderr)
        return 2
    size = tuple(args.size) if len(args.size) == 2 else (args.size[0], args.size[0])
    needed = sum(1 for f in args.split if f > 0)  # every split asked for needs a patient
    for name, value, low in (('--patients', args.patients, max(1, needed)),
                             ('--frames', args.frames, 1), ('--unlabelled', args.unlabelled, 0)):
        if value < low:
            print(f'error: {name} must be at least {low} (the split {tuple(args.split)} needs '
                  f'a patient in each of its {needed} non-empty splits), got {value}'
                  if name == '--patients' else f'error: {name} must be at least {low}, '
                  f'got {value}', file=sys.stderr)
            return 2
    if args.mode == 'echo':
        return _echo(args, size)
    try:
        manifest = write_knee_dataset(
            args.out, n_patients=args.patients, frames_per_patient=args.frames,
            n_unlabelled=args.unlabelled, split=args.split, seed=args.seed, size=size,
            geometry=args.geometry, workers=args.workers, overwrite=args.overwrite,
            progress_every=args.progress_every)
    except (ValueError, FileExistsError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    counts = ', '.join(f'{k}: {v["images"]} images / {v["patients"]} patients'
                       for k, v in manifest['counts'].items())
    print(f'{args.out}: {counts}; {manifest["written"]} frames written')
    return 0


def _echo(args: argparse.Namespace, size) -> int:
    from .echonet import write_echonet_dataset
    try:
        manifest = write_echonet_dataset(args.out, n_videos=args.patients, frames=args.frames,
                                         split=args.split, seed=args.seed, size=size,
                                         overwrite=args.overwrite)
    except (ValueError, FileExistsError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    counts = ', '.join(f'{k}: {v} videos' for k, v in manifest['counts'].items())
    print(f'{args.out}: EchoNet-Dynamic layout, {counts}; {manifest["written"]} videos written')
    return 0


if __name__ == '__main__':
    from ..cli import run_main
    sys.exit(run_main(main))
