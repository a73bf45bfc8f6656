"""Check that the mmssl_us stack is importable at the versions the README pins.

Exit status 0 when complete; otherwise prints what is missing or wrong and exits 1.
Used by tools/setup.sh to decide whether anything needs installing. The optional packages
(mmdet and what it imports, for configs/faster_rcnn; tensorboard; nnunetv2 for the 3D path) are
reported but do not change the exit
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
# optional: the 3D path (mmssl_us/volume: Models Genesis 3D pretraining handed to nnU-Net v2);
# tools/setup.sh installs it without changing torch/numpy/mmcv/mmengine/mmseg/mmpretrain (a
# constraints file) and goes on without it when that fails (the 3D tests skip)
NNUNET = [
    ('nnunetv2', '2.8.*', 'nnU-Net v2: 3D planning, preprocessing, fine-tuning (mmssl_us/volume)'),
    ('dynamic_network_architectures', None, "nnU-Net's PlainConvUNet"),
    ('batchgenerators', None, "nnU-Net's data loading"),
    ('SimpleITK', None, "nnU-Net's NIfTI reader"),
]
GROUPS = dict(mmdet=OPTIONAL, tensorboard=TENSORBOARD, nnunet=NNUNET)
ALL_OPTIONAL = OPTIONAL + TENSORBOARD + NNUNET


def _version(mod) -> str:
    """``mod.__version__``, else the installed distribution's version (nnunetv2 has none)."""
    found = getattr(mod, '__version__', None)
    if found is None:
        try:
            from importlib.metadata import version
            found = version(mod.__name__)
        except Exception:  # noqa: BLE001 - a module without distribution metadata
            found = None
    return found


def _matches(found, version: str) -> bool:
    """``found == version``, or, for a version ending in '.*', the same prefix."""
    if found is None:
        return False
    if version.endswith('.*'):
        return found.startswith(version[:-1])
    return found == version


def _check(expected, quiet, label=''):
    """Problems (str) of ``expected``; prints the ok ones unless ``quiet``."""
    problems = []
    for name, version, why in expected:
        try:
            mod = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - report any import failure
            problems.append(f'{name}: cannot import ({exc.__class__.__name__}: {exc}) - {why}')
            continue
        found = _version(mod)
        if version is not None and not _matches(found, version):
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
        expected = GROUPS[args.group] if args.group else ALL_OPTIONAL
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
        for p in _check(ALL_OPTIONAL, args.quiet, ' (optional)'):
            print('missing (optional, not required) ' + p)
    return 1 if problems else 0

if __name__ == '__main__':
    sys.exit(main())
