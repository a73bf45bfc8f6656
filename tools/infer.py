"""Segment images and videos: python tools/infer.py CONFIG CHECKPOINT INPUT OUT [options].

INPUT is a folder (images and videos at any depth), an image or a video. Writes OUT/masks
(uint8 label maps), OUT/overlays (the prediction blended in the dataset's palette) and
OUT/summary.csv (pixels per class; for HC18 the fitted ellipse and the head circumference, in
mm when the pixel size is known). The same as ``python -m mmssl_us.seg.inference``; see --help.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mmssl_us.seg.inference import main  # noqa: E402

if __name__ == '__main__':
    from mmssl_us.cli import run_main  # noqa: E402
    sys.exit(run_main(main))
