"""Generated images: determinism, exact masks, footprint, shadowing, frames of a patient."""
import hashlib
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mmssl_us.synthetic import (P_NO_EFFUSION, TISSUE_ID, derive_seed, generate_frame,
                                generate_image)
from mmssl_us.synthetic import generator

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SIZE = (128, 128)


def _digest(seed, frame=0, size=SIZE, geometry='random'):
    s = generate_frame(seed, frame, size, geometry)
    return hashlib.sha256(s.image.tobytes() + s.mask.tobytes()).hexdigest()


@pytest.mark.slow
def test_same_seed_same_bytes_in_a_fresh_process():
    here = [_digest(s) for s in (0, 7, 123456789)]
    code = ('import hashlib; from mmssl_us.synthetic import generate_frame\n'
            'for s in (0, 7, 123456789):\n'
            '    x = generate_frame(s, 0, (128, 128))\n'
            '    print(hashlib.sha256(x.image.tobytes() + x.mask.tobytes()).hexdigest())\n')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == here


def test_same_seed_same_bytes_without_the_cache():
    first = _digest(42, frame=3)
    generator._patient.cache_clear()
    assert _digest(42, frame=3) == first


def test_different_seeds_differ():
    a, _ = generate_image(1, SIZE)
    b, _ = generate_image(2, SIZE)
    assert (a != b).mean() > 0.5


def test_derive_seed_is_stable_and_distinct():
    seeds = {derive_seed(0, k) for k in range(1000)}
    assert len(seeds) == 1000
    assert derive_seed(3, 5) == derive_seed(3, 5) != derive_seed(5, 3)
    with pytest.raises(ValueError, match='-1'):
        derive_seed(0, -1)


@pytest.mark.parametrize('seed', range(12))
def test_mask_is_exact_and_inside_the_footprint(seed):
    s = generate_frame(seed, 0, SIZE)
    assert s.image.dtype == np.uint8 and s.mask.dtype == np.uint8
    assert s.image.shape == s.mask.shape == SIZE
    assert set(np.unique(s.mask)) <= {0, 1}
    np.testing.assert_array_equal(s.mask, s.tissue == TISSUE_ID['recess'])
    assert not s.mask[~s.footprint].any()
    assert not s.image[~s.footprint].any()  # black outside the footprint
    soft = np.isin(s.tissue, [TISSUE_ID[t] for t in ('skin', 'fat', 'tendon', 'fat_pad')])
    assert (s.image[soft] > 0).mean() > 0.8  # tissue above the recess is not black
    assert not s.tissue[~s.footprint].any() and s.tissue[s.footprint].all()


def test_convex_images_leave_black_corners():
    for seed in range(5):
        s = generate_frame(seed, 0, SIZE, 'convex')
        assert s.geometry.kind == 'convex'
        assert (~s.footprint).sum() > 0.1 * s.image.size
        assert s.image[0, 0] == 0 and s.image[0, -1] == 0


def test_effusion_is_darker_than_its_surroundings():
    ratios = []
    for seed in range(40):
        s = generate_frame(seed, 0, SIZE)
        if not s.mask.any():
            continue
        ring = cv2.dilate(s.mask, np.ones((7, 7), np.uint8)).astype(bool)
        ring &= ~s.mask.astype(bool) & s.footprint
        inside, around = s.image[s.mask > 0].mean(), s.image[ring].mean()
        assert inside < around, f'seed {seed}: effusion {inside:.1f} vs around {around:.1f}'
        ratios.append(inside / around)
    assert len(ratios) > 25 and np.mean(ratios) < 0.35


def test_share_of_images_with_a_label():
    n = 200
    present = np.mean([generate_frame(seed, 0, (64, 64)).mask.any() for seed in range(n)])
    expected = 1 - P_NO_EFFUSION
    assert abs(present - expected) < 3 * np.sqrt(expected * (1 - expected) / n)


def test_bone_shadows_what_lies_below():
    checked = 0
    for seed in range(20):
        s = generate_frame(seed, 0, SIZE, 'linear')
        bone = s.tissue == TISSUE_ID['bone']
        below = bone.copy()
        below[4:] &= bone[:-4]  # at least 4 pixels under the cortex, clear of its blur
        below[:4] = False
        if below.sum() < 200:
            continue
        cols = below.any(0)
        above = np.isin(s.tissue, [TISSUE_ID[t] for t in ('tendon', 'fat_pad', 'prefemoral')])
        above &= cols[None, :]
        assert s.image[below].mean() < 0.5 * s.image[above].mean(), f'seed {seed}'
        checked += 1
    assert checked >= 10


def test_frames_of_a_patient_share_anatomy_and_move():
    frames = [generate_frame(11, f, SIZE) for f in range(3)]
    other = generate_frame(12, 0, SIZE)
    for f in frames[1:]:
        np.testing.assert_array_equal(f.footprint, frames[0].footprint)
        assert f.geometry == frames[0].geometry
        assert (f.image != frames[0].image).mean() > 0.3

    def corr(a, b):
        m = a.footprint & b.footprint
        return np.corrcoef(a.image[m].astype(float), b.image[m].astype(float))[0, 1]

    same = [corr(frames[0], f) for f in frames[1:]]
    assert min(same) > corr(frames[0], other) + 0.1
    # Effusion size changes a little between frames, but stays.
    areas = [f.mask.sum() for f in frames]
    if areas[0]:
        assert 0.6 < min(areas) / max(areas) <= 1.0


def test_sizes_and_geometries():
    s = generate_frame(5, 0, (96, 160), 'linear')
    assert s.image.shape == (96, 160) and s.geometry.kind == 'linear'
    img, mask = generate_image(5, 64)
    assert img.shape == mask.shape == (64, 64)


@pytest.mark.parametrize('kwargs,name', [
    (dict(seed=-1), '-1'), (dict(seed=1.5), '1.5'), (dict(seed=True), 'True'),
    (dict(seed=0, size=(16, 16)), '16'), (dict(seed=0, size=(64, 64, 3)), '64, 64, 3'),
    (dict(seed=0, geometry='sector'), 'sector')])
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        generate_image(**kwargs)


def test_bad_frame_is_named():
    with pytest.raises(ValueError, match='-2'):
        generate_frame(0, -2)


def test_opencv_threads_do_not_change_the_bytes():
    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(1)
        generator._patient.cache_clear()
        one = _digest(99, size=(256, 256))
        cv2.setNumThreads(4)
        generator._patient.cache_clear()
        four = _digest(99, size=(256, 256))
    finally:
        cv2.setNumThreads(before)
    assert one == four
