"""Behaviour every ultrasound transform shares: seeding, shapes, channels, keys, repr."""
import inspect

import numpy as np
import pytest
from mmcv.transforms.utils import cache_random_params

from mmssl_us.transforms import (AcousticShadow, AnisotropicPSFBlur, DepthAttenuation,
                                 GainChange, LogCompression, SectorRandomResizedCrop,
                                 SpeckleNoise, TGCCurve, draw_footprint)
from .conftest import textured

PHOTOMETRIC = [
    (SpeckleNoise, dict(distribution='gamma')),
    (SpeckleNoise, dict(distribution='rayleigh')),
    (DepthAttenuation, dict()),
    (TGCCurve, dict()),
    (AcousticShadow, dict()),
    (AcousticShadow, dict(reflector='detect', threshold=150, apex=(0.5, -0.4))),
    (LogCompression, dict()),
    (GainChange, dict()),
    (AnisotropicPSFBlur, dict()),
]
ALL = PHOTOMETRIC + [(SectorRandomResizedCrop, dict(scale=(24, 32)))]
IDS = [f'{cls.__name__}-{i}' for i, (cls, _) in enumerate(ALL)]


def _build(cls, kwargs, prob=1.0):
    if cls is SectorRandomResizedCrop:
        return cls(**kwargs)
    return cls(**kwargs, prob=prob)


def _image(channels: int = 0) -> np.ndarray:
    grey = textured(draw_footprint('convex', (60, 80)), seed=7, dark_holes=False)
    grey[20:23, 30:45] = 250  # a reflector for the detecting shadow
    return np.dstack([grey] * channels) if channels else grey


def _run(t, img, seed, **extra):
    np.random.seed(seed)
    return t(dict(img=img.copy(), **extra))


@pytest.mark.parametrize('cls, kwargs', ALL, ids=IDS)
def test_seeded_runs_repeat_and_different_seeds_differ(cls, kwargs):
    t, img = _build(cls, kwargs), _image()
    a, b = _run(t, img, 1)['img'], _run(t, img, 1)['img']
    np.testing.assert_array_equal(a, b)
    outs = [_run(t, img, s)['img'] for s in range(2, 6)]
    assert any(not np.array_equal(outs[0], o) for o in outs[1:])


@pytest.mark.parametrize('cls, kwargs', ALL, ids=IDS)
def test_grey_and_three_channel_images_keep_dtype_and_shape(cls, kwargs):
    t = _build(cls, kwargs)
    grey = _run(t, _image(), 3)['img']
    rgb = _run(t, _image(3), 3)['img']
    assert grey.dtype == rgb.dtype == np.uint8
    expected = (24, 32) if cls is SectorRandomResizedCrop else (60, 80)
    assert grey.shape == expected and rgb.shape == expected + (3, )
    for c in range(3):  # every channel gets the same change as a grey image
        np.testing.assert_array_equal(rgb[..., c], grey)
    if cls is not SectorRandomResizedCrop:
        assert not np.array_equal(grey, _image())  # prob=1: it did something


@pytest.mark.parametrize('cls, kwargs', PHOTOMETRIC, ids=IDS[:-1])
def test_photometric_leave_seg_map_alone_and_prob_zero_is_identity(cls, kwargs):
    img, seg = _image(), np.arange(60 * 80).reshape(60, 80).astype(np.uint8)
    res = _run(_build(cls, kwargs), img, 0, gt_seg_map=seg.copy())
    np.testing.assert_array_equal(res['gt_seg_map'], seg)
    res = _run(_build(cls, kwargs, prob=0.0), img, 0)
    np.testing.assert_array_equal(res['img'], img)


@pytest.mark.parametrize('cls, kwargs', PHOTOMETRIC, ids=IDS[:-1])
def test_prob_is_the_frequency_of_change(cls, kwargs):
    t, img = _build(cls, kwargs, prob=0.3), _image()
    changed = [not np.array_equal(_run(t, img, s)['img'], img) for s in range(200)]
    assert 0.3 - 0.12 < np.mean(changed) < 0.3 + 0.12


@pytest.mark.parametrize('cls, kwargs', ALL, ids=IDS)
def test_repr_lists_every_argument(cls, kwargs):
    text = repr(_build(cls, kwargs))
    for name in inspect.signature(cls.__init__).parameters:
        if name != 'self':
            assert f'{name}=' in text, name


@pytest.mark.parametrize('cls, kwargs', ALL, ids=IDS)
def test_random_parameters_can_be_shared(cls, kwargs):
    """Within ``cache_random_params`` two images get the same draw (one cached method)."""
    t, img = _build(cls, kwargs), _image()
    np.random.seed(9)
    with cache_random_params(t):
        a = t(dict(img=img.copy()))['img']
        b = t(dict(img=img.copy()))['img']
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('cls, kwargs', PHOTOMETRIC, ids=IDS[:-1])
def test_bad_probability_and_bad_images_are_errors(cls, kwargs):
    with pytest.raises(ValueError, match='1.5'):
        cls(**kwargs, prob=1.5)
    t = _build(cls, kwargs)
    with pytest.raises(ValueError, match='float32.*scan.png'):
        t(dict(img=np.zeros((8, 8), np.float32), img_path='scan.png'))
