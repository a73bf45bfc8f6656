"""Reading the medical image formats of the public ultrasound releases: MetaImage and NIfTI.

MetaImage (``.mhd`` text header + raw bytes, used by the 2019 CAMUS release) is simple enough
to read here without SimpleITK. NIfTI (``.nii``/``.nii.gz``, the 2023 CAMUS release) is read
with nibabel. Both return arrays in row-major image order: ``(rows, cols)`` for 2-D data,
``(slices, rows, cols)`` for 3-D, i.e. the order SimpleITK's ``GetArrayFromImage`` uses.
"""
import os.path as osp
import zlib
from typing import Dict, Tuple

import numpy as np

__all__ = ['read_mhd_header', 'read_mhd', 'read_nifti', 'read_image_2d', 'to_png', 'main']

_MET_TYPES = {
    'MET_UCHAR': np.uint8, 'MET_CHAR': np.int8, 'MET_USHORT': np.uint16,
    'MET_SHORT': np.int16, 'MET_UINT': np.uint32, 'MET_INT': np.int32,
    'MET_ULONG_LONG': np.uint64, 'MET_LONG_LONG': np.int64, 'MET_FLOAT': np.float32,
    'MET_DOUBLE': np.float64,
}


def read_mhd_header(path: str) -> Dict[str, str]:
    """Parse the ``key = value`` lines of a MetaImage header.

    Args:
        path (str): The ``.mhd`` file.

    Returns:
        dict[str, str]: Header fields (values as written).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'MetaImage header not found: {path}')
    header: Dict[str, str] = {}
    with open(path, 'r', encoding='latin-1') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            if '=' not in line:
                raise ValueError(f'{path}:{lineno}: not a "key = value" line: {line!r}')
            key, value = line.split('=', 1)
            header[key.strip()] = value.strip()
    return header


def read_mhd(path: str) -> Tuple[np.ndarray, Dict[str, str]]:
    """Read a MetaImage (``.mhd`` header with a separate raw file or ``LOCAL`` data).

    Args:
        path (str): The ``.mhd`` file.

    Returns:
        tuple[np.ndarray, dict]: The array, shaped ``DimSize`` reversed (slowest axis first),
        and the header.
    """
    header = read_mhd_header(path)
    for key in ('NDims', 'DimSize', 'ElementType', 'ElementDataFile'):
        if key not in header:
            raise ValueError(f'{path}: MetaImage header lacks {key}')
    dims = [int(v) for v in header['DimSize'].split()]
    if len(dims) != int(header['NDims']) or any(d <= 0 for d in dims):
        raise ValueError(f'{path}: bad DimSize {header["DimSize"]!r} for NDims '
                         f'{header["NDims"]}')
    if header['ElementType'] not in _MET_TYPES:
        raise ValueError(f'{path}: unsupported ElementType {header["ElementType"]!r}')
    if int(header.get('ElementNumberOfChannels', '1')) != 1:
        raise ValueError(f'{path}: multi-channel MetaImages are not supported')
    dtype = np.dtype(_MET_TYPES[header['ElementType']])
    msb = header.get('BinaryDataByteOrderMSB', header.get('ElementByteOrderMSB', 'False'))
    dtype = dtype.newbyteorder('>' if msb.lower() == 'true' else '<')
    if header['ElementDataFile'] == 'LOCAL':
        raise ValueError(f'{path}: ElementDataFile = LOCAL is not supported; use a separate '
                         'raw file')
    raw_path = osp.join(osp.dirname(path), header['ElementDataFile'])
    if not osp.isfile(raw_path):
        raise FileNotFoundError(f'raw data of {path} not found: {raw_path}')
    with open(raw_path, 'rb') as f:
        data = f.read()
    if header.get('CompressedData', 'False').lower() == 'true':
        data = zlib.decompress(data)
    count = int(np.prod(dims))
    if len(data) != count * dtype.itemsize:
        raise ValueError(f'{raw_path} holds {len(data)} bytes, the header of {path} needs '
                         f'{count * dtype.itemsize} ({dims} x {dtype})')
    array = np.frombuffer(data, dtype=dtype).reshape(dims[::-1])
    return array.astype(dtype.newbyteorder('='), copy=True), header


def read_nifti(path: str) -> np.ndarray:
    """Read a NIfTI image with nibabel, returned in row-major image order.

    nibabel indexes voxels as ``[x, y(, z)]``; the axes are reversed here so that a 2-D image
    comes back as ``(rows, cols)`` like :func:`read_mhd`.

    Args:
        path (str): ``.nii`` or ``.nii.gz`` file.

    Returns:
        np.ndarray: The voxel values (on-disk dtype, scaling applied when the header asks).
    """
    import nibabel as nib
    if not osp.isfile(path):
        raise FileNotFoundError(f'NIfTI file not found: {path}')
    try:
        img = nib.load(path)
        data = np.asanyarray(img.dataobj)
    except Exception as exc:  # nibabel raises several types for corrupt files
        raise ValueError(f'unreadable NIfTI file {path}: {exc}') from None
    return np.ascontiguousarray(np.transpose(data))


def read_image_2d(path: str) -> np.ndarray:
    """Read a 2-D image from ``.mhd`` or ``.nii(.gz)``, squeezing singleton axes.

    Args:
        path (str): The file.

    Returns:
        np.ndarray: ``(rows, cols)`` array.
    """
    lower = path.lower()
    if lower.endswith('.mhd'):
        array = read_mhd(path)[0]
    elif lower.endswith('.nii') or lower.endswith('.nii.gz'):
        array = read_nifti(path)
    else:
        raise ValueError(f'unsupported medical image format: {path} (use .mhd or .nii.gz)')
    array = np.squeeze(array)
    if array.ndim != 2:
        raise ValueError(f'{path} is not a 2-D image: shape {array.shape}')
    return array


def to_png(src: str, out: str, labels: bool = False) -> int:
    """Write every 2-D ``.nii``/``.nii.gz``/``.mhd`` file under ``src`` as an 8-bit PNG under
    ``out`` (same relative path and stem): images scaled to their full range
    (``v * 255 / max`` when they exceed 8 bits or are not integers), label maps (``labels``)
    kept as they are (integers 0-255). Returns the number of files written.

    Run as ``python -m mmssl_us.data.converters.medical_io SRC OUT [--labels]``.
    """
    import os
    from .common import write_png
    done = 0
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            lower = name.lower()
            stem = next((name[:-len(s)] for s in ('.nii.gz', '.nii', '.mhd')
                         if lower.endswith(s)), None)
            if stem is None:
                continue
            array = read_image_2d(osp.join(root, name))
            if labels:
                if (not np.issubdtype(array.dtype, np.integer) and not np.array_equal(
                        array, np.round(array))) or array.min() < 0 or array.max() > 255:
                    raise ValueError(f'{osp.join(root, name)} is no label map (values in '
                                     f'[{array.min()}, {array.max()}], dtype {array.dtype}); '
                                     'convert images without --labels')
                array = array.astype(np.uint8)
            elif array.dtype != np.uint8:
                array = array.astype(np.float64) - min(0.0, float(array.min()))
                top = float(array.max())
                scale = 255.0 / top if top > 255 or not top.is_integer() or top == 0 else 1.0
                array = np.clip(np.round(array * scale), 0, 255).astype(np.uint8)
            write_png(osp.join(out, osp.relpath(root, src), stem + '.png'), array)
            done += 1
    return done


def main(argv=None) -> int:
    """``python -m mmssl_us.data.converters.medical_io SRC OUT [--labels]``."""
    import argparse
    p = argparse.ArgumentParser(prog='python -m mmssl_us.data.converters.medical_io',
                                description='Write 2-D NIfTI / MetaImage files as 8-bit PNGs.')
    p.add_argument('src', help='folder with .nii, .nii.gz or .mhd files (any depth)')
    p.add_argument('out', help='output folder (same relative paths, .png)')
    p.add_argument('--labels', action='store_true', help='the files are label maps: keep values')
    args = p.parse_args(argv)
    n = to_png(args.src, args.out, labels=args.labels)
    print(f'wrote {n} PNG file(s) into {args.out}')
    return 0


if __name__ == '__main__':
    import sys

    from ...cli import run_main
    sys.exit(run_main(main))
