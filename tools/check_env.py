"""Check that the mmssl_us stack is importable at the versions the README pins.

Exit status 0 when complete; otherwise prints what is missing or wrong and exits 1.
Used by tools/setup.sh to decide whether anything needs installing. The optional packages
(mmdet and what it imports, for configs/faster_rcnn) are reported but do not change the exit
status unless ``--optional`` is given, with which only they are checked.
"""
import argparse
import importlib
import os
import sys

# (module, required version or None, why)
EXPECTED = [
    ('torch', None, 'any torch < 2.14 (mmcv 2.1.0 builds with C++17)'),
    ('torchvision', None, 'mmpretrain imports it'),
    ('mmcv', '2.1.0', 'mmseg 1.2.2 asserts mmcv < 2.2.0'),
    ('mmcv.ops', None, 'mmseg.models imports mmcv.ops (needs the full build)'),
    ('mmengine', '0.10.7', 'pinned'),
    ('mmseg', '1.2.2', 'pinned'),
    ('mmpretrain', '1.2.0', 'pinned'),
    ('ftfy', None, 'imported by mmseg, undeclared'),
    ('regex', None, 'imported by mmseg, undeclared'),
    ('cv2', None, 'image and video IO'),
    ('matplotlib', None, 'plots'),
    ('scipy', None, 'statistics'),
    ('sklearn', None, 't-SNE'),
    ('nibabel', None, 'CAMUS NIfTI volumes'),
    ('pytest', None, 'the tests'),
    ('mmssl_us', None, 'this plugin (pip install -e .)'),
]

# optional: the detection transfer (configs/faster_rcnn); tools/setup.sh installs them and goes
# on without them when that fails (tests that need mmdet skip)
OPTIONAL = [
    ('mmdet', '3.3.0', 'detection transfer (configs/faster_rcnn); accepts mmcv 2.1.0'),
    ('pycocotools', None, 'imported by mmdet (COCO datasets, masks)'),
    ('shapely', None, 'imported by mmdet (mask structures)'),
    ('terminaltables', None, 'imported by mmdet (evaluation tables)'),
]
# optional: TensorBoard logging (tools/train.py --tensorboard, MMSSL_US_TENSORBOARD=1);
# tools/setup.sh installs it and goes on without it when that fails (its tests skip)
TENSORBOARD = [
    ('tensorboard', None, 'TensorBoard logging (--tensorboard, MMSSL_US_TENSORBOARD=1)'),
]
GROUPS = dict(mmdet=OPTIONAL, tensorboard=TENSORBOARD)


def _check(expected, quiet, label=''):
    """Problems (str) of ``expected``; prints the ok ones unless ``quiet``."""
    problems = []
    for name, version, why in expected:
        try:
            mod = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - report any import failure
            problems.append(f'{name}: cannot import ({exc.__class__.__name__}: {exc}) - {why}')
            continue
        found = getattr(mod, '__version__', None)
        if version is not None and found != version:
            problems.append(f'{name}: found {found}, need {version} - {why}')
        elif not quiet:
            print(f'ok  {name} {found or ""}{label}')
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--quiet', action='store_true')
    parser.add_argument('--optional', action='store_true',
                        help='check the optional packages only (exit 1 when one is missing)')
    parser.add_argument('--group', choices=sorted(GROUPS),
                        help='with --optional: only this group (default: all)')
    args = parser.parse_args()
    if args.optional:
        expected = GROUPS[args.group] if args.group else OPTIONAL + TENSORBOARD
        problems = _check(expected, args.quiet, ' (optional)')
        for p in problems:
            if not args.quiet:
                print('MISSING (optional) ' + p)
        return 1 if problems else 0
    problems = _check(EXPECTED, args.quiet)
    # the plugin must be this checkout's (pip install -e .), not another copy on the path
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        import mmssl_us
        where = os.path.dirname(os.path.dirname(os.path.abspath(mmssl_us.__file__)))
        if where != root:
            problems.append(f'mmssl_us: imported from {where}, not from this checkout {root}')
    except ImportError:
        pass  # reported above
    for p in problems:
        if not args.quiet:
            print('MISSING ' + p)
    if not args.quiet:
        for p in _check(OPTIONAL + TENSORBOARD, args.quiet, ' (optional)'):
            print('missing (optional, not required) ' + p)
    return 1 if problems else 0

if __name__ == '__main__':
    sys.exit(main())
