"""Models Genesis distortions: each one's defining property, its rates over many seeds, seeded
repeatability, and the "keep both" contract (``gt_img`` untouched by distortions, flipped with
``img``, packed for the model)."""
import inspect

import numpy as np
import pytest
from mmcv.transforms.utils import cache_random_params
from mmengine.registry import DefaultScope

from mmssl_us.transforms import (BezierIntensityMap, GenesisFlip, GenesisPainting,
                                 KeepRestorationTarget, LocalPixelShuffle, draw_footprint)
from mmssl_us.transforms.genesis import bezier_lut, inpaint, outpaint, shuffle_blocks
from .conftest import textured

DISTORTIONS = [
    (LocalPixelShuffle, dict(num_blocks=200)),
    (BezierIntensityMap, dict()),
    (GenesisPainting, dict()),
]
ALL = DISTORTIONS + [(GenesisFlip, dict())]
IDS = [cls.__name__ for cls, _ in ALL]
DIST_IDS = IDS[:-1]


def _image(channels: int = 0) -> np.ndarray:
    grey = textured(draw_footprint('convex', (60, 80)), seed=7, dark_holes=False)
    return np.dstack([grey] * channels) if channels else grey


def _run(t, img, seed, **extra):
    np.random.seed(seed)
    return t(dict(img=img.copy(), **extra))


def _tolerance(p: float, n: int) -> float:
    """Four binomial standard deviations (a false alarm about once in 16000 runs)."""
    return 4.0 * np.sqrt(p * (1 - p) / n) + 1e-9


# ---------------------------------------------------------------- the shared transform contract
@pytest.mark.parametrize('cls, kwargs', ALL, ids=IDS)
def test_seeded_runs_repeat_and_different_seeds_differ(cls, kwargs):
    t, img = cls(**kwargs, prob=0.9), _image()
    a, b = _run(t, img, 1)['img'], _run(t, img, 1)['img']
    np.testing.assert_array_equal(a, b)
    outs = [_run(t, img, s)['img'] for s in range(2, 8)]
    assert any(not np.array_equal(outs[0], o) for o in outs[1:])


@pytest.mark.parametrize('cls, kwargs', ALL, ids=IDS)
def test_grey_and_three_channel_images_get_the_same_change(cls, kwargs):
    t = cls(**kwargs, prob=1.0)
    for seed in range(3):
        grey = _run(t, _image(), seed)['img']
        rgb = _run(t, _image(3), seed)['img']
        assert grey.dtype == rgb.dtype == np.uint8
        assert grey.shape == (60, 80) and rgb.shape == (60, 80, 3)
        for c in range(3):
            np.testing.assert_array_equal(rgb[..., c], grey)


@pytest.mark.parametrize('cls, kwargs', DISTORTIONS, ids=DIST_IDS)
def test_distortions_change_img_only_and_prob_zero_is_identity(cls, kwargs):
    img = _image()
    seg = np.arange(60 * 80).reshape(60, 80).astype(np.uint8)
    for seed in range(5):
        res = _run(cls(**kwargs, prob=1.0), img, seed, gt_img=img.copy(), gt_seg_map=seg.copy())
        np.testing.assert_array_equal(res['gt_img'], img)
        np.testing.assert_array_equal(res['gt_seg_map'], seg)
    assert not np.array_equal(res['img'], img)
    res = _run(cls(**kwargs, prob=0.0), img, 0)
    np.testing.assert_array_equal(res['img'], img)


@pytest.mark.parametrize('cls, kwargs, changed_given_applied', [
    (LocalPixelShuffle, dict(num_blocks=50), 1.0),
    (BezierIntensityMap, dict(), 1.0),
    # an in-painting draws its first box with probability 0.95 only (as the reference)
    (GenesisPainting, dict(), 0.8 + 0.2 * 0.95),
], ids=DIST_IDS)
def test_prob_is_the_frequency_of_change(cls, kwargs, changed_given_applied):
    n, img = 300, _image()
    for prob in (0.3, 0.9):
        t = cls(**kwargs, prob=prob)
        changed = np.mean([not np.array_equal(_run(t, img, s)['img'], img) for s in range(n)])
        expected = prob * changed_given_applied
        assert abs(changed - expected) < _tolerance(expected, n), (prob, changed)


@pytest.mark.parametrize('cls, kwargs', ALL, ids=IDS)
def test_repr_lists_every_argument(cls, kwargs):
    text = repr(cls(**kwargs))
    for name in inspect.signature(cls.__init__).parameters:
        if name != 'self':
            assert f'{name}=' in text, name


@pytest.mark.parametrize('cls, kwargs', ALL, ids=IDS)
def test_random_parameters_can_be_shared(cls, kwargs):
    t, img = cls(**kwargs, prob=0.9), _image()
    for seed in range(4):
        np.random.seed(seed)
        with cache_random_params(t):
            a = t(dict(img=img.copy()))['img']
            b = t(dict(img=img.copy()))['img']
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('cls, kwargs', ALL, ids=IDS)
def test_bad_probability_and_bad_images_are_errors(cls, kwargs):
    with pytest.raises(ValueError, match='1.5'):
        cls(**kwargs, prob=1.5)
    with pytest.raises(ValueError, match='float32.*scan.png'):
        cls(**kwargs)(dict(img=np.zeros((8, 8), np.float32), img_path='scan.png'))


def test_published_defaults():
    """The reference's config: local_rate 0.5, nonlinear_rate 0.9, paint_rate 0.9,
    outpaint_rate 0.8, flip_rate 0.4; 10000 shuffled windows, 5 painted boxes."""
    assert (LocalPixelShuffle().prob, LocalPixelShuffle().num_blocks) == (0.5, 10000)
    assert LocalPixelShuffle().max_block_frac == 0.1
    assert (BezierIntensityMap().prob, BezierIntensityMap().reverse_prob) == (0.9, 0.5)
    paint = GenesisPainting()
    assert (paint.prob, paint.outpaint_prob, paint.max_boxes, paint.continue_prob,
            paint.margin) == (0.9, 0.8, 5, 0.95, 3)
    flip = GenesisFlip()
    assert (flip.prob, flip.max_flips, flip.directions) == (0.4, 3, ('horizontal', 'vertical'))


# ------------------------------------------------------------------------ local pixel shuffling
def test_shuffle_keeps_each_disjoint_blocks_histogram_and_the_rest():
    img = np.random.default_rng(0).integers(0, 256, (40, 50), dtype=np.uint8)
    boxes = [(0, 0, 5, 7), (10, 20, 6, 6), (29, 40, 10, 10), (39, 0, 1, 50)]
    out = shuffle_blocks(img, boxes, np.random.default_rng(1))
    inside = np.zeros(img.shape, bool)
    for y, x, h, w in boxes:
        a, b = img[y:y + h, x:x + w], out[y:y + h, x:x + w]
        np.testing.assert_array_equal(np.sort(a, axis=None), np.sort(b, axis=None))
        assert not np.array_equal(a, b)  # really permuted
        inside[y:y + h, x:x + w] = True
    np.testing.assert_array_equal(out[~inside], img[~inside])


def test_shuffled_pixels_move_less_than_one_window():
    """Channels 0 and 1 hold each pixel's row and column: after the shuffle every pixel holds
    the coordinates of a source pixel within one window (at most 4 x 5 here) of it."""
    h, w = 40, 50
    rows, cols = np.mgrid[0:h, 0:w]
    img = np.dstack([rows, cols, np.zeros_like(rows)]).astype(np.uint8)
    t = LocalPixelShuffle(prob=1.0, num_blocks=2000, max_block_frac=0.1)
    out = _run(t, img, 3)['img']
    dy, dx = out[..., 0].astype(int) - rows, out[..., 1].astype(int) - cols
    assert np.abs(dy).max() <= 3 and np.abs(dx).max() <= 4
    assert (dy != 0).mean() > 0.3 and (dx != 0).mean() > 0.3  # most pixels did move


# -------------------------------------------------------------------- Bezier intensity mapping
def test_bezier_with_collinear_control_points_is_the_identity():
    lut = bezier_lut((1 / 3, 1 / 3), (2 / 3, 2 / 3), reverse=False)
    np.testing.assert_array_equal(lut, np.arange(256))
    np.testing.assert_array_equal(bezier_lut((1 / 3, 1 / 3), (2 / 3, 2 / 3), reverse=True),
                                  255 - np.arange(256))
    with pytest.raises(ValueError, match='1.2'):
        bezier_lut((0.1, 1.2), (0.5, 0.5), reverse=False)


def test_bezier_map_is_monotone_spans_the_range_and_is_reversed_half_the_time():
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16)
    t, n = BezierIntensityMap(prob=1.0), 400
    reversed_ = 0
    for seed in range(n):
        lut = _run(t, ramp, seed)['img'].reshape(256).astype(int)
        steps = np.diff(lut)
        if lut[0] == 255:
            reversed_ += 1
            assert lut[255] == 0 and (steps <= 0).all(), seed
        else:
            assert (lut[0], lut[255]) == (0, 255) and (steps >= 0).all(), seed
    assert abs(reversed_ / n - 0.5) < _tolerance(0.5, n)


# ------------------------------------------------------------------------- in- and out-painting
def _union(shape, boxes):
    mask = np.zeros(shape, bool)
    for y, x, h, w in boxes:
        mask[y:y + h, x:x + w] = True
    return mask


def test_inpainting_fills_up_to_five_inner_boxes_with_noise():
    img = np.full((70, 84), 77, np.uint8)
    counts = []
    for seed in range(100):
        out, boxes = inpaint(img, np.random.default_rng(seed))
        counts.append(len(boxes))
        mask = _union(img.shape, boxes)
        np.testing.assert_array_equal(out[~mask], img[~mask])
        if boxes:
            assert (out[mask] == 77).mean() < 0.03  # noise: 1/256 equal by chance
        for y, x, h, w in boxes:
            assert 70 // 6 <= h <= 70 // 3 and 84 // 6 <= w <= 84 // 3
            assert y >= 3 and x >= 3 and y + h <= 70 - 3 and x + w <= 84 - 3
    assert max(counts) <= 5 and min(counts) == 0 and counts.count(5) > 50  # 0.95^5 = 0.77


def test_outpainting_keeps_inner_boxes_intact_and_replaces_the_rest():
    img = np.full((70, 84), 77, np.uint8)
    for seed in range(100):
        out, boxes = outpaint(img, np.random.default_rng(seed))
        assert 1 <= len(boxes) <= 5
        mask = _union(img.shape, boxes)
        np.testing.assert_array_equal(out[mask], img[mask])
        assert (out[~mask] == 77).mean() < 0.03
        for y, x, h, w in boxes:
            assert 70 - 4 * 70 // 7 <= h <= 70 - 3 * 70 // 7
            assert 84 - 4 * 84 // 7 <= w <= 84 - 3 * 84 // 7
            assert y >= 3 and x >= 3 and y + h <= 70 - 3 and x + w <= 84 - 3
    rgb = np.dstack([img] * 3)
    out3, _ = outpaint(rgb, np.random.default_rng(0))
    np.testing.assert_array_equal(out3[..., 2], outpaint(img, np.random.default_rng(0))[0])


def test_painting_mode_rates():
    """Out-painting always replaces the 3-pixel border, in-painting never touches it: over many
    seeds 0.9 x 0.8 of the images are out-painted and 0.9 x 0.2 x 0.95 in-painted."""
    img, n = np.full((42, 42), 77, np.uint8), 500
    t = GenesisPainting()
    border = np.ones(img.shape, bool)
    border[3:-3, 3:-3] = False
    out_n = in_n = 0
    for seed in range(n):
        out = _run(t, img, seed)['img']
        if (out[border] != 77).any():
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


def test_flip_moves_target_with_image_at_the_reference_rate():
    img = _image()
    assert _net_flip_rate(0.4, 3, 2) == pytest.approx(0.352)
    n = 500
    for kwargs in (dict(), dict(directions=('horizontal', ))):
        t, flipped = GenesisFlip(**kwargs), 0
        for seed in range(n):
            res = _run(t, img, seed, gt_img=img.copy())
            expected = img
            if res['flip_direction'] in ('vertical', 'diagonal'):
                expected = expected[::-1]
            if res['flip_direction'] in ('horizontal', 'diagonal'):
                expected = expected[:, ::-1]
            np.testing.assert_array_equal(res['img'], expected)
            np.testing.assert_array_equal(res['gt_img'], expected)
            assert res['flip'] == (res['flip_direction'] is not None)
            flipped += res['flip']
        rate = _net_flip_rate(0.4, 3, len(t.directions))
        assert abs(flipped / n - rate) < _tolerance(rate, n), (kwargs, flipped / n, rate)


# --------------------------------------------------------------- the target and the whole chain
def test_target_is_a_copy():
    img = _image()
    res = KeepRestorationTarget()(dict(img=img))
    res['img'][:] = 0
    np.testing.assert_array_equal(res['gt_img'], _image())
    with pytest.raises(ValueError, match="'img'"):
        KeepRestorationTarget(key='img')


GENESIS_PIPELINE = [
    dict(type='KeepRestorationTarget'),
    dict(type='GenesisFlip'),
    dict(type='LocalPixelShuffle', num_blocks=500, prob=1.0),
    dict(type='BezierIntensityMap', prob=1.0),
    dict(type='GenesisPainting', prob=1.0),
]


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmseg'])
def test_both_hosts_build_the_chain_and_pack_the_target(scope):
    from mmcv.transforms import Compose
    from mmengine.registry import TRANSFORMS
    import mmssl_us.pretrain  # noqa: F401  (RepeatGreyChannels; mmpretrain's PackInputs)
    cfgs = GENESIS_PIPELINE + [dict(type='mmpretrain.RepeatGreyChannels', channels=3),
                               dict(type='mmpretrain.PackInputs', algorithm_keys=['gt_img'])]
    with DefaultScope.overwrite_default_scope(scope):
        pipeline = Compose([TRANSFORMS.build(c) for c in cfgs])
    img = _image()
    outs = [_run(pipeline, img, seed) for seed in (5, 5, 6)]
    packed, sample = outs[0]['inputs'], outs[0]['data_samples']
    assert tuple(packed.shape) == (3, 60, 80)
    target = sample.gt_img
    assert target.shape == (60, 80) and target.dtype == np.uint8
    flip = sample.metainfo.get('flip_direction')
    expected = {None: img, 'horizontal': img[:, ::-1], 'vertical': img[::-1],
                'diagonal': img[::-1, ::-1]}[flip]
    np.testing.assert_array_equal(target, expected)
    assert not np.array_equal(packed[0].numpy(), target)  # the input is distorted
    np.testing.assert_array_equal(outs[1]['inputs'].numpy(), packed.numpy())  # seeded repeat
    assert not np.array_equal(outs[2]['inputs'].numpy(), packed.numpy())
