"""The one HC18 CSV reader: release and converted variants, bad rows named by file and line."""
import csv
import os.path as osp

import pytest

from mmssl_us.data.hc18_csv import HC18Row, pixel_sizes, read_hc18_csv

from ._helpers import HC18_DIR, hc18_available

RELEASE = 'filename,pixel size(mm),head circumference (mm)\n'


def _write(tmp_path, text, name='hc.csv', encoding='utf-8', newline='\n'):
    path = tmp_path / name
    path.write_bytes(text.replace('\n', newline).encode(encoding))
    return str(path)


@pytest.mark.parametrize('encoding,newline', [('utf-8', '\n'), ('utf-8-sig', '\r\n')])
def test_release_variant(tmp_path, encoding, newline):
    path = _write(tmp_path, RELEASE + '000_HC.png,0.069135804,44.3\n001_2HC.png,0.1,0\n',
                  encoding=encoding, newline=newline)
    assert read_hc18_csv(path) == [HC18Row('000_HC.png', 0.069135804, 44.3, None),
                                   HC18Row('001_2HC.png', 0.1, 0.0, None)]


def test_test_set_variant_without_circumference(tmp_path):
    path = _write(tmp_path, 'filename,pixel size(mm)\n000_HC.png,0.2\n')
    assert read_hc18_csv(path) == [HC18Row('000_HC.png', 0.2, None, None)]


def test_converted_variant_and_loose_header(tmp_path):
    path = _write(tmp_path, 'Filename, Pixel Size (mm) ,head circumference(mm),split\n'
                  ' 010_HC.png , 0.25 ,,train\n\n011_HC.png,0.5,90.5,test\n')
    assert read_hc18_csv(path) == [HC18Row('010_HC.png', 0.25, None, 'train'),
                                   HC18Row('011_HC.png', 0.5, 90.5, 'test')]
    assert pixel_sizes(path) == {'010_HC.png': 0.25, '011_HC.png': 0.5}


@pytest.mark.parametrize('row,match', [
    ('011_HC.png,-2,1', r"line 3 \(011_HC.png\): bad pixel size '-2'"),
    ('011_HC.png,0,1', "bad pixel size '0'"),
    ('011_HC.png,abc,1', "bad pixel size 'abc'"),
    ('011_HC.png,nan,1', "bad pixel size 'nan'"),
    ('011_HC.png,inf,1', "bad pixel size 'inf'"),
    ('011_HC.png,,1', "bad pixel size ''"),
    ('011_HC.png,0.1,x', "line 3 .*bad head circumference 'x'"),
    ('011_HC.png,0.1,-1', "bad head circumference '-1'"),
    (',0.1,1', 'line 3: empty filename'),
    ('010_HC.png,0.1,1', 'line 3: 010_HC.png is listed again .first on line 2'),
])
def test_bad_row_names_file_and_line(tmp_path, row, match):
    path = _write(tmp_path, RELEASE + '010_HC.png,0.1,1\n' + row + '\n')
    with pytest.raises(ValueError, match=match) as info:
        read_hc18_csv(path)
    assert path in str(info.value)


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.csv'):
        read_hc18_csv(str(tmp_path / 'nothere.csv'))
    with pytest.raises(ValueError, match='needs the columns'):
        read_hc18_csv(_write(tmp_path, 'name,size\na.png,0.1\n'))
    with pytest.raises(ValueError, match='lists no images'):
        read_hc18_csv(_write(tmp_path, RELEASE))
    with pytest.raises(ValueError, match='needs the columns'):
        read_hc18_csv(_write(tmp_path, ''))


def test_real_release_csv():
    """The real HC18 CSV: every row read, values as a plain csv parse gives them."""
    if not hc18_available():
        pytest.skip(f'{HC18_DIR} not present')
    path = osp.join(HC18_DIR, 'training_set_pixel_size_and_HC.csv')
    with open(path, newline='') as f:
        plain = list(csv.DictReader(f))
    rows = read_hc18_csv(path)
    assert len(rows) == len(plain) == 248
    for row, ref in zip(rows, plain):
        assert row.filename == ref['filename']
        assert row.pixel_size_mm == float(ref['pixel size(mm)'])
        assert row.head_circumference_mm == float(ref['head circumference (mm)'])
        assert row.split is None
        assert osp.isfile(osp.join(HC18_DIR, 'training_set', row.filename))
