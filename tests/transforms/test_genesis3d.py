"""Models Genesis distortions on volumes (``ndim=3``): the same contract as in 2D (seeded
repeatability, channels alike, ``prob`` is the frequency of change, ``gt_img`` untouched,
``__repr__``), each distortion's defining property on 3D boxes, and the refusal of an image
where a volume is needed."""
import inspect

import numpy as np
import pytest

from mmssl_us.transforms import (BezierIntensityMap, GenesisFlip, GenesisPainting,
                                 KeepRestorationTarget, LocalPixelShuffle)
from mmssl_us.transforms.genesis import inpaint, outpaint, shuffle_blocks

DISTORTIONS = [
    (LocalPixelShuffle, dict(num_blocks=100, ndim=3)),
    (BezierIntensityMap, dict(ndim=3)),
    (GenesisPainting, dict(ndim=3)),
]
ALL = DISTORTIONS + [(GenesisFlip, dict(ndim=3))]
IDS = [cls.__name__ for cls, _ in ALL]
DIST_IDS = IDS[:-1]
SHAPE = (14, 18, 22)


def _volume(channels: int = 0) -> np.ndarray:
    """A speckled ellipsoid in a dark background (DxHxW, or DxHxWxC with equal channels)."""
    rng = np.random.default_rng(7)
    zz, yy, xx = np.meshgrid(*[np.linspace(-1, 1, n) for n in SHAPE], indexing='ij')
    inside = zz**2 + yy**2 + xx**2 < 0.7
    vol = np.where(inside, np.clip(rng.rayleigh(60.0, SHAPE), 1, 255), 5).astype(np.uint8)
    return np.stack([vol] * channels, axis=-1) if channels else vol


def _run(t, img, seed, **extra):
    np.random.seed(seed)
    return t(dict(img=img.copy(), **extra))


def _tolerance(p: float, n: int) -> float:
    """Four binomial standard deviations."""
    return 4.0 * np.sqrt(p * (1 - p) / n) + 1e-9


# ---------------------------------------------------------------- the shared transform contract
@pytest.mark.parametrize('cls, kwargs', ALL, ids=IDS)
def test_seeded_runs_repeat_and_different_seeds_differ(cls, kwargs):
    t, vol = cls(**kwargs, prob=0.9), _volume()
    a, b = _run(t, vol, 1)['img'], _run(t, vol, 1)['img']
    np.testing.assert_array_equal(a, b)
    assert a.shape == SHAPE and a.dtype == np.uint8
    outs = [_run(t, vol, s)['img'] for s in range(2, 8)]
    assert any(not np.array_equal(outs[0], o) for o in outs[1:])


@pytest.mark.parametrize('cls, kwargs', ALL, ids=IDS)
def test_grey_and_multichannel_volumes_get_the_same_change(cls, kwargs):
    t = cls(**kwargs, prob=1.0)
    for seed in range(3):
        grey = _run(t, _volume(), seed)['img']
        multi = _run(t, _volume(2), seed)['img']
        assert multi.shape == SHAPE + (2, )
        for c in range(2):
            np.testing.assert_array_equal(multi[..., c], grey)


@pytest.mark.parametrize('cls, kwargs', DISTORTIONS, ids=DIST_IDS)
def test_distortions_change_img_only_and_prob_zero_is_identity(cls, kwargs):
    vol = _volume()
    seg = (vol > 5).astype(np.uint8)
    for seed in range(4):
        res = _run(cls(**kwargs, prob=1.0), vol, seed, gt_img=vol.copy(), gt_seg_map=seg.copy())
        np.testing.assert_array_equal(res['gt_img'], vol)
        np.testing.assert_array_equal(res['gt_seg_map'], seg)
    assert not np.array_equal(res['img'], vol)
    np.testing.assert_array_equal(_run(cls(**kwargs, prob=0.0), vol, 0)['img'], vol)


@pytest.mark.parametrize('cls, kwargs, changed_given_applied', [
    (LocalPixelShuffle, dict(num_blocks=30, ndim=3), 1.0),
    (BezierIntensityMap, dict(ndim=3), 1.0),
    (GenesisPainting, dict(ndim=3), 0.8 + 0.2 * 0.95),
], ids=DIST_IDS)
def test_prob_is_the_frequency_of_change(cls, kwargs, changed_given_applied):
    n, vol = 200, _volume()
    for prob in (0.3, 0.9):
        t = cls(**kwargs, prob=prob)
        changed = np.mean([not np.array_equal(_run(t, vol, s)['img'], vol) for s in range(n)])
        expected = prob * changed_given_applied
        assert abs(changed - expected) < _tolerance(expected, n), (prob, changed)


@pytest.mark.parametrize('cls, kwargs', ALL + [(KeepRestorationTarget, dict(ndim=3))],
                         ids=IDS + ['KeepRestorationTarget'])
def test_repr_lists_every_argument_and_ndim_is_checked(cls, kwargs):
    text = repr(cls(**kwargs))
    for name in inspect.signature(cls.__init__).parameters:
        if name != 'self':
            assert f'{name}=' in text, name
    assert 'ndim=3' in text
    with pytest.raises(ValueError, match='ndim.*4'):
        cls(**{**kwargs, 'ndim': 4})


@pytest.mark.parametrize('cls, kwargs', ALL + [(KeepRestorationTarget, dict(ndim=3))],
                         ids=IDS + ['KeepRestorationTarget'])
def test_an_image_where_a_volume_is_needed_is_refused_by_name(cls, kwargs):
    with pytest.raises(ValueError, match=r'DxHxW.*\(30, 40\).*frame\.png'):
        cls(**kwargs)(dict(img=np.zeros((30, 40), np.uint8), img_path='frame.png'))
    with pytest.raises(ValueError, match='float32.*vol.nii.gz'):
        cls(**kwargs)(dict(img=np.zeros(SHAPE, np.float32), img_path='vol.nii.gz'))


def test_defaults_are_the_2d_ones():
    """The reference's rates hold in 3D too; only the flip gains the depth axis."""
    assert (LocalPixelShuffle(ndim=3).prob, LocalPixelShuffle(ndim=3).num_blocks) == (0.5, 10000)
    assert BezierIntensityMap(ndim=3).prob == 0.9
    paint = GenesisPainting(ndim=3)
    assert (paint.prob, paint.outpaint_prob, paint.max_boxes, paint.margin) == (0.9, 0.8, 5, 3)
    flip = GenesisFlip(ndim=3)
    assert (flip.prob, flip.max_flips) == (0.4, 3)
    assert flip.directions == ('horizontal', 'vertical', 'depth')
    with pytest.raises(ValueError, match='depth'):
        GenesisFlip(directions=('depth', ))  # a 2D image has no depth axis


# ------------------------------------------------------------------------ local pixel shuffling
def test_shuffle_keeps_each_disjoint_3d_blocks_histogram_and_the_rest():
    vol = np.random.default_rng(0).integers(0, 256, (12, 16, 20), dtype=np.uint8)
    boxes = [(0, 0, 0, 3, 4, 5), (5, 8, 10, 4, 4, 4), (11, 0, 0, 1, 16, 20)]
    out = shuffle_blocks(vol, boxes, np.random.default_rng(1))
    inside = np.zeros(vol.shape, bool)
    for z, y, x, d, h, w in boxes:
        a, b = vol[z:z + d, y:y + h, x:x + w], out[z:z + d, y:y + h, x:x + w]
        np.testing.assert_array_equal(np.sort(a, axis=None), np.sort(b, axis=None))
        assert not np.array_equal(a, b)
        inside[z:z + d, y:y + h, x:x + w] = True
    np.testing.assert_array_equal(out[~inside], vol[~inside])


def test_shuffled_voxels_move_less_than_one_window_on_every_axis():
    """Channels hold each voxel's z, y, x: after the shuffle every voxel holds the coordinates
    of a source voxel within one window (at most 3 x 4 x 5 voxels here) of it."""
    shape = (30, 40, 50)
    coords = np.meshgrid(*[np.arange(n) for n in shape], indexing='ij')
    vol = np.stack(coords, axis=-1).astype(np.uint8)
    t = LocalPixelShuffle(prob=1.0, num_blocks=3000, ndim=3)
    out = _run(t, vol, 3)['img']
    moves = [out[..., i].astype(int) - coords[i] for i in range(3)]
    for move, side in zip(moves, shape):
        assert np.abs(move).max() <= side // 10 - 1
        assert (move != 0).mean() > 0.2  # the voxels did move along this axis too


# -------------------------------------------------------------------- Bezier intensity mapping
def test_bezier_map_of_a_volume_is_monotone_voxel_by_voxel():
    ramp = np.arange(256, dtype=np.uint8).reshape(4, 8, 8)
    t, n, reversed_ = BezierIntensityMap(prob=1.0, ndim=3), 200, 0
    for seed in range(n):
        out = _run(t, ramp, seed)['img'].reshape(256).astype(int)
        steps = np.diff(out)
        if out[0] == 255:
            reversed_ += 1
            assert out[255] == 0 and (steps <= 0).all(), seed
        else:
            assert (out[0], out[255]) == (0, 255) and (steps >= 0).all(), seed
    assert abs(reversed_ / n - 0.5) < _tolerance(0.5, n)


# ------------------------------------------------------------------------- in- and out-painting
def _union(shape, boxes):
    mask = np.zeros(shape, bool)
    for z, y, x, d, h, w in boxes:
        mask[z:z + d, y:y + h, x:x + w] = True
    return mask


def test_inpainting_fills_up_to_five_inner_3d_boxes_with_noise():
    shape = (24, 30, 36)
    vol = np.full(shape, 77, np.uint8)
    counts = []
    for seed in range(60):
        out, boxes = inpaint(vol, np.random.default_rng(seed), ndim=3)
        counts.append(len(boxes))
        mask = _union(shape, boxes)
        np.testing.assert_array_equal(out[~mask], vol[~mask])
        if boxes:
            assert (out[mask] == 77).mean() < 0.03
        for box in boxes:
            assert len(box) == 6
            for start, side, n in zip(box[:3], box[3:], shape):
                assert n // 6 <= side <= n // 3 and start >= 3 and start + side <= n - 3
    assert max(counts) <= 5 and counts.count(5) > 30


def test_outpainting_keeps_inner_3d_boxes_intact_and_replaces_the_rest():
    shape = (21, 28, 35)
    vol = np.full(shape, 77, np.uint8)
    for seed in range(60):
        out, boxes = outpaint(vol, np.random.default_rng(seed), ndim=3)
        assert 1 <= len(boxes) <= 5
        mask = _union(shape, boxes)
        np.testing.assert_array_equal(out[mask], vol[mask])
        assert (out[~mask] == 77).mean() < 0.03
        for box in boxes:
            for start, side, n in zip(box[:3], box[3:], shape):
                assert n - 4 * n // 7 <= side <= n - 3 * n // 7
                assert start >= 3 and start + side <= n - 3


def test_painting_mode_rates_in_3d():
    """Out-painting replaces the 3-voxel shell, in-painting never touches it."""
    vol, n = np.full((24, 24, 24), 77, np.uint8), 300
    shell = np.ones(vol.shape, bool)
    shell[3:-3, 3:-3, 3:-3] = False
    t, out_n, in_n = GenesisPainting(ndim=3), 0, 0
    for seed in range(n):
        out = _run(t, vol, seed)['img']
        if (out[shell] != 77).any():
            out_n += 1
        elif (out != 77).any():
            in_n += 1
    assert abs(out_n / n - 0.72) < _tolerance(0.72, n)
    assert abs(in_n / n - 0.171) < _tolerance(0.171, n)


# ---------------------------------------------------------------------------------------- flips
def _net_flip_rate(p: float, max_flips: int, axes: int) -> float:
    """Probability that the flips do not cancel out, by enumerating the flip sequences."""
    total = 0.0
    for k in range(1, max_flips + 1):
        p_k = p**k * ((1 - p) if k < max_flips else 1.0)
        sequences = np.array(np.meshgrid(*[range(axes)] * k)).reshape(k, -1).T
        odd = [any(np.count_nonzero(s == a) % 2 for a in range(axes)) for s in sequences]
        total += p_k * np.mean(odd)
    return total


def test_flip_moves_target_with_volume_on_three_axes_at_the_reference_rate():
    vol = _volume()
    axis = {'depth': 0, 'vertical': 1, 'horizontal': 2}
    t, n, flipped, seen = GenesisFlip(ndim=3), 400, 0, set()
    for seed in range(n):
        res = _run(t, vol, seed, gt_img=vol.copy())
        expected = vol
        for direction in res['flip_direction'] or ():
            expected = np.flip(expected, axis=axis[direction])
            seen.add(direction)
        np.testing.assert_array_equal(res['img'], expected)
        np.testing.assert_array_equal(res['gt_img'], expected)
        assert res['flip'] == (res['flip_direction'] is not None)
        flipped += res['flip']
    assert seen == set(axis)
    rate = _net_flip_rate(0.4, 3, 3)
    assert abs(flipped / n - rate) < _tolerance(rate, n), (flipped / n, rate)


def test_target_keeps_the_volume():
    vol = _volume()
    res = KeepRestorationTarget(ndim=3)(dict(img=vol.copy()))
    res['img'][:] = 0
    np.testing.assert_array_equal(res['gt_img'], vol)
