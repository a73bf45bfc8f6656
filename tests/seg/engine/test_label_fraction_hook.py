"""LabelFractionHook writes what the training dataset selected."""
import os.path as osp
from types import SimpleNamespace

import pytest
from mmengine.dataset import ConcatDataset

import mmssl_us.seg  # noqa: F401
from mmssl_us.seg.datasets import KneeRecessDataset
from mmssl_us.seg.engine import LabelFractionHook


def _knee(root, **kwargs):
    return KneeRecessDataset(data_root=root, data_prefix=dict(
        img_path='images/train', seg_map_path='masks/train'), **kwargs)


def _runner(dataset, work_dir):
    return SimpleNamespace(train_dataloader=SimpleNamespace(dataset=dataset),
                           work_dir=str(work_dir))


def _read(path):
    header, files = {}, []
    with open(path) as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('# ') and ': ' in line:
                key, value = line[2:].split(': ', 1)
                header[key] = value
            elif not line.startswith('#'):
                files.append(line)
    return header, files


def test_writes_selected_files_fraction_and_seed(knee_root, tmp_path):
    ds = _knee(knee_root, label_fraction=0.34, fraction_seed=5)
    LabelFractionHook().before_train(_runner(ds, tmp_path / 'work'))
    header, files = _read(tmp_path / 'work' / 'label_fraction_train.txt')
    assert header['fraction'] == '0.34' and header['seed'] == '5'
    assert header['patients'] == '2 of 6' and header['images'] == '4 of 12'
    assert files == [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    assert all(osp.isfile(f) for f in files)


def test_looks_through_concat(knee_root, tmp_path):
    ds = ConcatDataset([_knee(knee_root, label_fraction=0.5), _knee(knee_root)])
    LabelFractionHook(filename='frac.txt').before_train(_runner(ds, tmp_path))
    text = open(tmp_path / 'frac.txt').read()
    assert text.count('# dataset: KneeRecessDataset') == 2
    assert '# fraction: 0.5' in text and '# fraction: 1.0' in text


def test_lazy_dataset_is_initialised_first(knee_root, tmp_path):
    ds = _knee(knee_root, label_fraction=0.5, lazy_init=True)
    assert ds.fraction_record is None
    LabelFractionHook().before_train(_runner(ds, tmp_path))
    header, files = _read(tmp_path / 'label_fraction_train.txt')
    assert header['fraction'] == '0.5' and len(files) == 6


def test_plain_filename_only():
    with pytest.raises(ValueError, match='a/b.txt'):
        LabelFractionHook(filename='a/b.txt')
