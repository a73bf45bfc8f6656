"""Speckle: random scatterers seen through a point-spread function, then envelope detection.

The model is the usual baseband (IQ) one: each pixel of the beam grid holds the complex
amplitude of the scatterers inside it, the scanner's point-spread function (PSF) is a
separable Gaussian (axial x lateral) and the envelope is the modulus of the filtered IQ
signal. Where many scatterers share a resolution cell the envelope is Rayleigh distributed
(fully developed speckle, mean / std = sqrt(pi / (4 - pi)) = 1.91); where they are sparse
(fat, fluid with debris) the texture is grainier, as on a scanner. Intensities are linear
(not dB); :mod:`.echo` turns them into grey levels.
"""
from typing import Tuple

import cv2
import numpy as np

from ..validate import check_float


def gaussian_psf(sigma_axial: float, sigma_lateral: float) -> Tuple[np.ndarray, np.ndarray]:
    """Build the two 1-D kernels of a separable Gaussian PSF.

    The 2-D kernel ``outer(axial, lateral)`` has unit energy (its squared values sum to 1),
    so filtering white scatterers of variance ``v`` gives a field of variance ``v``: the mean
    speckle intensity equals the mean scatterer power.

    Args:
        sigma_axial (float): Standard deviation of the PSF along depth, in pixels.
        sigma_lateral (float): Standard deviation of the PSF across beams, in pixels.

    Returns:
        tuple[np.ndarray, np.ndarray]: The axial and lateral kernels (float64, odd lengths).
    """
    kernels = []
    for name, sigma in (('sigma_axial', sigma_axial), ('sigma_lateral', sigma_lateral)):
        sigma = check_float(name, sigma, low=0, low_open=True)  # pixels
        half = max(1, int(np.ceil(3.5 * sigma)))
        x = np.arange(-half, half + 1, dtype=np.float64)
        k = np.exp(-0.5 * (x / sigma)**2)
        kernels.append(k / np.sqrt(np.sum(k * k)))
    return kernels[0], kernels[1]


def draw_scatterers(rng: np.random.Generator,
                    shape: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw the random part of a scatterer field.

    The amplitudes are uniform rather than normal (three times cheaper to draw): the PSF sums
    tens of them, so the filtered field is Gaussian all the same (central limit theorem).

    Args:
        rng (np.random.Generator): Source of randomness.
        shape (tuple[int, int]): Beam-grid shape (depth samples, lines).

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: In-phase and quadrature amplitudes (zero
        mean, unit variance, float64) and a uniform [0, 1) field that decides where scatterers
        sit.
    """
    i = (rng.random(shape) - 0.5) * np.sqrt(12.0)
    q = (rng.random(shape) - 0.5) * np.sqrt(12.0)
    return i, q, rng.random(shape)


def speckle_intensity(level_db: np.ndarray,
                      density: np.ndarray,
                      scatterers: Tuple[np.ndarray, np.ndarray, np.ndarray],
                      psf: Tuple[np.ndarray, np.ndarray],
                      coherent: Tuple[np.ndarray, np.ndarray, np.ndarray] = None,
                      noise_power: float = 0.0) -> np.ndarray:
    """Filter a scatterer field by the PSF and detect its envelope.

    A pixel holds a scatterer where ``u < density``; its complex amplitude has power
    ``10^(level_db / 10) / density``, so that the expected intensity is ``10^(level_db / 10)``
    whatever the density. Receiver noise of power ``noise_power`` is added everywhere before
    filtering (it takes the PSF's grain) and ``coherent`` adds in-phase amplitudes (specular
    reflectors such as bone cortex echo as a continuous line rather than as speckle).

    Args:
        level_db (np.ndarray): Expected echo intensity per pixel in dB, HxW.
        density (np.ndarray | float): Fraction of pixels holding a scatterer, in (0, 1].
        scatterers (tuple): ``(i, q, u)`` as returned by :func:`draw_scatterers`.
        psf (tuple[np.ndarray, np.ndarray]): Axial and lateral kernels (:func:`gaussian_psf`).
        coherent (tuple, optional): Rows, columns and amplitudes of specular reflectors
            (repeated pixels add up). Defaults to None.
        noise_power (float): Receiver noise power (linear). Defaults to 0.0.

    Returns:
        np.ndarray: Envelope intensity ``|I + jQ|^2`` after the PSF, float64 HxW.
    """
    i, q, u = scatterers
    level_db = np.asarray(level_db, dtype=np.float64)
    if level_db.shape != i.shape:
        raise ValueError(f'level_db has shape {level_db.shape}, scatterers have {i.shape}')
    check_float('noise_power', noise_power, low=0)
    density = np.broadcast_to(density, level_db.shape)
    if np.any(density <= 0) or np.any(density > 1):
        raise ValueError('density must lie in (0, 1], got values in '
                         f'[{density.min()!r}, {density.max()!r}]')
    # Each of I and Q carries half of the power: 10^(L/10) / (2 density) where occupied.
    var = np.exp(level_db * (np.log(10.0) / 10.0))
    var /= 2.0 * density
    var[u >= density] = 0.0
    if noise_power > 0:
        var += 0.5 * noise_power
    scale = np.sqrt(var, out=var)
    a_i = i * scale
    a_q = np.multiply(q, scale, out=scale)
    if coherent is not None and len(coherent[0]):
        rr, cc, amp = coherent
        np.add.at(a_i, (rr, cc), amp)
    kz, kx = psf
    # sepFilter2D takes the kernel along x (columns, lateral) first, then along y (depth).
    f_i = cv2.sepFilter2D(a_i, cv2.CV_64F, kx, kz, borderType=cv2.BORDER_REFLECT_101)
    f_q = cv2.sepFilter2D(a_q, cv2.CV_64F, kx, kz, borderType=cv2.BORDER_REFLECT_101)
    f_i *= f_i
    f_q *= f_q
    f_i += f_q
    return f_i
