"""MetaImage and NIfTI reading: values, axis order, byte order, errors."""
import numpy as np
import pytest

from mmssl_us.data.converters.medical_io import read_image_2d, read_mhd, read_nifti

from ._writers import write_mhd, write_nifti


@pytest.mark.parametrize('dtype,msb,compressed', [(np.uint8, False, False),
                                                  (np.int16, True, False),
                                                  (np.float32, False, True),
                                                  (np.uint16, True, True)])
def test_mhd_roundtrip(tmp_path, dtype, msb, compressed):
    rng = np.random.default_rng(0)
    array = rng.integers(0, 200, (7, 11)).astype(dtype)  # rows != cols catches transposes
    path = str(tmp_path / 'im.mhd')
    write_mhd(path, array, msb=msb, compressed=compressed)
    out, header = read_mhd(path)
    assert out.shape == (7, 11) and header['DimSize'] == '11 7'
    np.testing.assert_array_equal(out, array)
    assert out.dtype == np.dtype(dtype)


def test_mhd_3d_singleton_squeezed(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(1, 3, 4)
    path = str(tmp_path / 'im.mhd')
    write_mhd(path, array)
    np.testing.assert_array_equal(read_image_2d(path), array[0])


def test_mhd_truncated_raw_named(tmp_path):
    path = str(tmp_path / 'im.mhd')
    write_mhd(path, np.zeros((4, 5), np.uint8))
    with open(tmp_path / 'im.raw', 'wb') as f:
        f.write(b'\0' * 7)
    with pytest.raises(ValueError, match='im.raw holds 7 bytes.*needs 20'):
        read_mhd(path)


def test_mhd_missing_field_named(tmp_path):
    path = tmp_path / 'bad.mhd'
    path.write_text('NDims = 2\nDimSize = 2 2\n')
    with pytest.raises(ValueError, match='bad.mhd: MetaImage header lacks ElementType'):
        read_mhd(str(path))


def test_nifti_rows_cols(tmp_path):
    array = np.arange(7 * 11, dtype=np.uint8).reshape(7, 11)
    path = str(tmp_path / 'im.nii.gz')
    write_nifti(path, array)
    np.testing.assert_array_equal(read_nifti(path), array)
    np.testing.assert_array_equal(read_image_2d(path), array)


def test_not_2d_refused(tmp_path):
    path = str(tmp_path / 'vol.mhd')
    write_mhd(path, np.zeros((3, 4, 5), np.uint8))
    with pytest.raises(ValueError, match='vol.mhd is not a 2-D image'):
        read_image_2d(path)


def test_unknown_format_named():
    with pytest.raises(ValueError, match='x.png'):
        read_image_2d('x.png')
