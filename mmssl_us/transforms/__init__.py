"""Ultrasound augmentations, registered in mmengine's root ``TRANSFORMS`` registry.

Importing this package registers every transform, so pipelines built from the mmpretrain
or the mmseg default scope find them by name. All act on ``results['img']`` (uint8, HxW or
HxWxC; every channel gets the same change), draw their randomness from ``np.random`` (so
``np.random.seed`` and mmengine's seeding make them reproducible) and are applied with a
probability ``prob``, except the crop and ``KeepRestorationTarget``, which always apply.

Which transform models which physical effect:

============================  ==========================================================
``SpeckleNoise``              interference of echoes from sub-resolution scatterers:
                              a unit-mean multiplicative field (Rayleigh or gamma)
``DepthAttenuation``          uncompensated tissue attenuation: amplitude falls as
                              ``10 ** (-alpha * depth / 20)`` down the rows
``TGCCurve``                  the operator's time-gain-compensation sliders: a smooth
                              gain curve over depth through random control points
``AcousticShadow``            shadowing behind bone, calcification or gas: darkening
                              below a (detected or random) reflector along the beams,
                              vertical (linear probe) or radial from an apex (sector)
``LogCompression``            the scanner's dynamic-range setting: envelope re-compressed
                              with another range in dB
``GainChange``                the receiver gain knob: envelope scaled before compression
``AnisotropicPSFBlur``        finite resolution: a Gaussian point-spread function,
                              shorter along the beam (axial) than across it (lateral)
``SectorRandomResizedCrop``   the probe's field of view: random resized crops that stay
                              inside the imaged (linear / convex / phased) footprint
============================  ==========================================================

Models Genesis (Zhou et al. 2019/2021) distortions for restorative pretraining
(:mod:`.genesis`; the reference implementation's rates as defaults):

============================  ==========================================================
``KeepRestorationTarget``     copies ``img`` to ``gt_img``, the restoration target, before
                              any distortion (deterministic)
``GenesisFlip``               up to 3 flips (each with ``prob`` 0.4) of ``img`` and
                              ``gt_img`` alike
``LocalPixelShuffle``         pixels permuted within 10000 small windows (``prob`` 0.5)
``BezierIntensityMap``        grey levels through a random monotone Bezier curve, reversed
                              half the time (``prob`` 0.9)
``GenesisPainting``           out-painting (0.8) or in-painting (0.2) with noise
                              (``prob`` 0.9)
============================  ==========================================================

Loading (:mod:`.loading`): ``LoadUltrasoundFrame`` (file, video frame or decoded array to grey
uint8 by the one reading rule, ``channels`` 1 or 3) and ``RepeatGreyChannels``, used by the
pretraining and the fine-tuning pipelines alike.

The distortions change ``img`` only; ``PackInputs(algorithm_keys=['gt_img'])`` hands the
target to the model. Photometric transforms leave ``gt_seg_map`` untouched; the crop crops
it alike. The
helpers :func:`estimate_sector_mask`, :func:`fit_footprint` and :func:`draw_footprint`
describe footprints; :mod:`.geometry` documents the probe models.
"""
from .attenuation import DepthAttenuation, TGCCurve
from .dynamic_range import GainChange, LogCompression
from .footprint import estimate_sector_mask, fit_footprint, fit_sector
from .genesis import (BezierIntensityMap, GenesisFlip, GenesisPainting, KeepRestorationTarget,
                      LocalPixelShuffle)
from .geometry import draw_footprint, sector_mask
from .loading import LoadUltrasoundFrame, RepeatGreyChannels
from .psf import AnisotropicPSFBlur
from .sector import SectorRandomResizedCrop
from .shadow import AcousticShadow
from .speckle import SpeckleNoise

__all__ = [
    'SpeckleNoise', 'DepthAttenuation', 'TGCCurve', 'AcousticShadow', 'LogCompression',
    'GainChange', 'AnisotropicPSFBlur', 'SectorRandomResizedCrop', 'estimate_sector_mask',
    'fit_footprint', 'fit_sector', 'draw_footprint', 'sector_mask', 'KeepRestorationTarget',
    'GenesisFlip', 'LocalPixelShuffle', 'BezierIntensityMap', 'GenesisPainting',
    'LoadUltrasoundFrame', 'RepeatGreyChannels'
]
