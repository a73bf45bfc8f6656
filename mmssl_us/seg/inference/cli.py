"""The command line of inference: ``tools/infer.py`` / ``python -m mmssl_us.seg.inference``."""
from __future__ import annotations

import argparse
import os.path as osp
from typing import List, Optional, Tuple

from ...validate import check_float, check_int

from .inferencer import SegInferencer, dataset_cfg
from .run import run_inference

__all__ = ['infer_parser', 'main']


def infer_parser() -> argparse.ArgumentParser:
    """The arguments of ``tools/infer.py`` / ``python -m mmssl_us.seg.inference``."""
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Segment a folder (images and videos at any depth), an image or a video: '
        'writes OUT/masks (uint8 labels), OUT/overlays (palette blend) and OUT/summary.csv '
        '(pixels per class; for HC18 the fitted ellipse and head circumference)')
    parser.add_argument('config', help='segmentation config (ours or mmseg\'s)')
    parser.add_argument('checkpoint', help='checkpoint of that config\'s model')
    parser.add_argument('input', help='a folder, an image or a video (.avi/.mp4)')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--device', help='cpu, cuda or cuda:N (default: cuda when available)')
    parser.add_argument('--opacity', type=float, default=0.5,
                        help='weight of the class colour in the overlays, (0, 1] (default 0.5)')
    parser.add_argument('--head-label', type=int,
                        help='label whose fitted ellipse gives the head circumference '
                        '(default: 1 for an HC18Dataset config, else none)')
    size = parser.add_mutually_exclusive_group()
    size.add_argument('--pixel-size', type=float, metavar='MM',
                      help='pixel size in mm of every input (HC in mm)')
    size.add_argument('--pixel-size-csv', metavar='CSV',
                      help='HC18-style CSV (filename, pixel size(mm)) matched by file name; '
                      'default for an HC18 config: <data_root>/pixel_size.csv when it exists')
    parser.add_argument('--frame-step', type=int, default=1,
                        help='segment every k-th video frame (default 1: all)')
    parser.add_argument('--skip-bad', action='store_true',
                        help='leave unreadable images/videos out (listed in summary.csv) '
                        'instead of stopping at the first')
    parser.add_argument('--batch-size', type=int, default=8,
                        help='images or frames per forward pass (default 8)')
    parser.add_argument('--partial-load', action='store_true',
                        help='load a checkpoint that fits the model only in part')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. model.test_cfg.mode=slide')
    return parser


def _hc18_defaults(inferencer: SegInferencer, args: argparse.Namespace
                   ) -> Tuple[Optional[int], Optional[str]]:
    """Head label and pixel-size CSV for an HC18 config when the user gave neither."""
    head_label, csv_path = args.head_label, args.pixel_size_csv
    if inferencer.dataset_type != 'HC18Dataset':
        return head_label, csv_path
    if head_label is None:
        head_label = 1
    if csv_path is None and args.pixel_size is None:
        dataset = dataset_cfg(inferencer.cfg)
        guess = dataset.get('pixel_size_file', 'pixel_size.csv')
        if dataset.get('data_root') and not osp.isabs(guess):
            guess = osp.join(dataset['data_root'], guess)
        if osp.isfile(guess):
            print(f'pixel sizes from {guess} (the config\'s HC18 dataset)')
            csv_path = guess
        else:
            print(f'no pixel size given and {guess} not found: head circumference in pixels '
                  '(use --pixel-size or --pixel-size-csv)')
    return head_label, csv_path


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point; returns the exit status."""
    args = infer_parser().parse_args(argv)
    check_float('--opacity', args.opacity, low=0, high=1, low_open=True)
    check_int('--frame-step', args.frame_step, low=1)
    check_int('--batch-size', args.batch_size, low=1)
    if args.pixel_size is not None:
        check_float('--pixel-size', args.pixel_size, low=0, low_open=True)
    if args.head_label is not None:
        check_int('--head-label', args.head_label, low=0)
    if not osp.exists(args.input):
        raise FileNotFoundError(f'input not found: {args.input}')
    inferencer = SegInferencer(args.config, args.checkpoint, device=args.device,
                               cfg_options=args.cfg_options, partial_load=args.partial_load,
                               batch_size=args.batch_size)
    head_label, csv_path = _hc18_defaults(inferencer, args)
    run_inference(inferencer, args.input, args.out, opacity=args.opacity, head_label=head_label,
                  pixel_size=args.pixel_size, pixel_size_csv=csv_path,
                  frame_step=args.frame_step, skip_bad=args.skip_bad)
    return 0
