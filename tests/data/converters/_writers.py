"""Writers of the public formats, for building tiny inputs in the converter tests."""
import os.path as osp
import zlib

import numpy as np

_MET = {np.dtype(np.uint8): 'MET_UCHAR', np.dtype(np.int16): 'MET_SHORT',
        np.dtype(np.float32): 'MET_FLOAT', np.dtype(np.uint16): 'MET_USHORT'}


def write_mhd(path, array, msb=False, compressed=False, spacing=None):
    """MetaImage with a separate .raw file; ``array`` is (rows, cols) or (slices, rows, cols)."""
    array = np.asarray(array)
    raw_name = osp.basename(path)[:-4] + '.raw'
    data = array.astype(array.dtype.newbyteorder('>' if msb else '<')).tobytes()
    if compressed:
        data = zlib.compress(data)
    with open(osp.join(osp.dirname(path), raw_name), 'wb') as f:
        f.write(data)
    dims = ' '.join(str(d) for d in array.shape[::-1])
    lines = ['ObjectType = Image', f'NDims = {array.ndim}',
             f'BinaryData = True', f'BinaryDataByteOrderMSB = {msb}',
             f'CompressedData = {compressed}',
             f'ElementSpacing = {" ".join(["0.3"] * array.ndim) if spacing is None else spacing}',
             f'DimSize = {dims}', f'ElementType = {_MET[array.dtype]}',
             f'ElementDataFile = {raw_name}']
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def write_nifti(path, array):
    """NIfTI holding a (rows, cols) image the way the CAMUS release does: axes as x, y."""
    import nibabel as nib
    nib.save(nib.Nifti1Image(np.ascontiguousarray(np.asarray(array).T), np.eye(4)), path)
