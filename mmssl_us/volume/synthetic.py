"""Small synthetic 3D ultrasound volumes: a speckled ellipsoid under depth attenuation.

The physics is that of the 2D B-mode generator (:mod:`mmssl_us.synthetic`), in 3D: random
scatterers (in-phase and quadrature amplitudes) seen through a separable Gaussian
point-spread function, envelope detection (fully developed speckle), two-way attenuation
integrated down the beam (axis 0, depth; :func:`~mmssl_us.synthetic.echo.two_way_loss_db`),
a time-gain compensation that does not cancel it exactly
(:func:`~mmssl_us.synthetic.echo.tgc_db`) and log compression to 8 bits
(:func:`~mmssl_us.synthetic.echo.log_compress`). The structure is an ellipsoid (a cyst-like
hypoechoic lesion or a hyperechoic one, with a bright rim) at a random position, size and
orientation; its mask is the label (1), the rest is background (0).

:func:`write_volume_folder` writes the converter's input (:mod:`.convert`): ``images/`` and
``masks/`` (labelled patients) and ``unlabelled/`` (patients without masks), NIfTI with the
voxel spacing in the header. numpy, scipy and nibabel only.
"""
import os
import os.path as osp
from typing import Dict, Sequence, Tuple, Union

import numpy as np

from ..synthetic.echo import log_compress, tgc_db, two_way_loss_db
from ..validate import check_float, check_int

Size = Union[int, Sequence[int]]


def _size(size: Size) -> Tuple[int, int, int]:
    sides = (size, ) * 3 if isinstance(size, (int, np.integer)) else tuple(size)
    if len(sides) != 3:
        raise ValueError(f'size must be an int or three ints (D, H, W), got {size!r}')
    return tuple(check_int('size', s, low=8) for s in sides)


def _rotation(rng: np.random.Generator) -> np.ndarray:
    """A random rotation matrix (QR of a Gaussian matrix, sign-fixed)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def generate_volume(seed: int, size: Size = 32,
                    dynamic_range: float = 50.0) -> Tuple[np.ndarray, np.ndarray]:
    """One synthetic volume and its mask, both DxHxW (axis 0 is depth, the beam's axis).

    Args:
        seed (int): Seed of everything drawn; the same seed gives the same volume.
        size (int | Sequence[int]): Sides (D, H, W), each at least 8. Defaults to 32.
        dynamic_range (float): Displayed dB window of the log compression. Defaults to 50.

    Returns:
        tuple[np.ndarray, np.ndarray]: uint8 grey levels and the uint8 mask (0 or 1).
    """
    from scipy.ndimage import gaussian_filter
    shape = _size(size)
    check_float('dynamic_range', dynamic_range, low=0, low_open=True)
    rng = np.random.default_rng(check_int('seed', seed, low=0))
    grid = np.stack(np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape],
                                indexing='ij'), axis=-1)
    n = np.array(shape, dtype=np.float64)
    radii = rng.uniform(0.22, 0.34, 3) * n
    centre = n / 2 + rng.uniform(-0.12, 0.12, 3) * n
    local = (grid - centre) @ _rotation(rng)
    rho = np.sqrt(np.sum((local / radii)**2, axis=-1))  # 1 on the ellipsoid's surface
    mask = (rho <= 1.0).astype(np.uint8)

    # echo level (dB) of the tissue: background, the structure (darker or brighter), its rim
    level = np.full(shape, -6.0) + rng.normal(0, 1.0)
    inner = rng.choice([-18.0, 6.0]) + rng.normal(0, 2.0)
    level[mask == 1] = inner
    level += 8.0 * np.exp(-((rho - 1.0) / 0.08)**2)
    # attenuation (dB / voxel, one way): soft tissue, less inside a fluid-like structure
    alpha = np.where(mask == 1, 0.04 if inner < -6 else 0.12, 0.1)
    loss = two_way_loss_db(alpha.reshape(shape[0], -1)).reshape(shape)
    gain = tgc_db(shape[0], 0.16).reshape(shape[0], 1, 1)

    # speckle: IQ scatterers through a separable Gaussian PSF (axial finer than lateral)
    sigma = (0.7, 1.1, 1.1)
    iq = [gaussian_filter(rng.normal(size=shape), sigma, mode='reflect') for _ in range(2)]
    power = (iq[0]**2 + iq[1]**2)
    power /= power.mean()
    intensity = power * 10.0**((level - loss) / 10.0)
    grey = log_compress(intensity, gain_db=12.0, dynamic_range=dynamic_range, gain_map_db=gain)
    return grey, mask


def write_volume_folder(out_dir: str, n_labelled: int = 10, n_unlabelled: int = 40,
                        size: Size = 32, spacing: Sequence[float] = (1.0, 1.0, 1.0),
                        seed: int = 0) -> Dict[str, int]:
    """Write synthetic volumes as NIfTI: ``images/`` + ``masks/`` and ``unlabelled/``.

    File names are ``<patient>_0.nii.gz`` (patients ``lab000``..., ``unl000``...), so the
    patient id is the name's prefix (:func:`mmssl_us.data.splits.patient_id`); each volume's
    seed is derived from ``seed`` and its patient. Arrays are written DxHxW in row-major order
    with the spacing (D, H, W) in mm in the header (the layout :mod:`.convert` reads).

    Args:
        out_dir (str): Folder to write into (created).
        n_labelled (int): Patients with a mask. Defaults to 10.
        n_unlabelled (int): Patients without one. Defaults to 40.
        size (int | Sequence[int]): Volume sides. Defaults to 32.
        spacing (Sequence[float]): Voxel spacing (D, H, W) in mm. Defaults to 1 mm.
        seed (int): Base seed. Defaults to 0.

    Returns:
        dict[str, int]: How many files were written per folder.
    """
    check_int('n_labelled', n_labelled, low=0)
    check_int('n_unlabelled', n_unlabelled, low=0)
    spacing = [check_float('spacing', s, low=0, low_open=True) for s in spacing]
    if len(spacing) != 3:
        raise ValueError(f'spacing must hold three values (D, H, W), got {spacing!r}')
    counts = dict(images=0, masks=0, unlabelled=0)
    for folder in counts:
        os.makedirs(osp.join(out_dir, folder), exist_ok=True)
    jobs = [(f'lab{i:03d}', True) for i in range(n_labelled)]
    jobs += [(f'unl{i:03d}', False) for i in range(n_unlabelled)]
    for k, (pid, labelled) in enumerate(jobs):
        grey, mask = generate_volume(seed * 100003 + k, size)
        name = f'{pid}_0.nii.gz'
        if labelled:
            write_nifti(osp.join(out_dir, 'images', name), grey, spacing)
            write_nifti(osp.join(out_dir, 'masks', name), mask, spacing)
            counts['images'] += 1
            counts['masks'] += 1
        else:
            write_nifti(osp.join(out_dir, 'unlabelled', name), grey, spacing)
            counts['unlabelled'] += 1
    return counts


def write_nifti(path: str, array: np.ndarray, spacing: Sequence[float]) -> None:
    """Write a row-major DxHxW array as NIfTI with ``spacing`` (D, H, W) in the header.

    nibabel indexes ``[x, y, z]``: the array is transposed and the spacing reversed, the
    inverse of :func:`mmssl_us.data.converters.medical_io.read_nifti`. Written atomically.
    """
    import nibabel as nib
    from ..fileio import atomic_write
    affine = np.diag(list(spacing)[::-1] + [1.0])
    img = nib.Nifti1Image(np.ascontiguousarray(np.transpose(array)), affine)
    img.header.set_xyzt_units('mm')
    atomic_write(path, img.to_bytes() if not path.endswith('.gz') else _gzip(img.to_bytes()))


def _gzip(data: bytes) -> bytes:
    import gzip
    return gzip.compress(data, compresslevel=1, mtime=0)
