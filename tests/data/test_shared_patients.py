"""One patient comparison for every split-overlap check (issue 19): the segmentation datasets'
build check, a folder study's view and the leakage report find the same shared patients, at
any depth of a split and whatever the case of the id."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl_us.data.leakage import find_leakage
from mmssl_us.data.splits import group_by_patient, shared_patients
from mmssl_us.seg.datasets.checks import check_split_overlap


def _png(path, value):
    os.makedirs(osp.dirname(path), exist_ok=True)
    rng = np.random.default_rng(value)
    cv2.imwrite(path, rng.integers(0, 255, (16, 16), dtype=np.uint8))


def test_ids_compared_case_folded_and_written_as_first_seen():
    groups = group_by_patient(['a/P07_0.png', 'b/p07_1.png', 'c/_x.png', 'Q1_0.png'])
    assert groups == {'p07': ('P07', [0, 1]), 'q1': ('Q1', [3])}  # '_x' names no patient
    found = shared_patients({'train': ['P07_0.png', 'A_1.png'], 'val': ['B_0.png'],
                             'test': ['p07_3.png']})
    assert [(s.first, s.second, s.ids, s.example) for s in found] == [
        ('train', 'test', ['P07'], ('P07_0.png', 'p07_3.png'))]


@pytest.mark.parametrize('test_name', ['p1_3.png', 'deeper/P1_3.png'])
def test_the_dataset_check_and_the_leakage_report_agree(tmp_path, test_name):
    """Before, the build check listed each split's top level only and compared ids case by
    case, so both files here went unnoticed by it while the leakage report found them."""
    root = tmp_path / 'images'
    _png(str(root / 'train' / 'P1_0.png'), 1)
    _png(str(root / 'test' / 'P2_0.png'), 2)
    _png(str(root / 'test' / test_name), 3)

    def patient(path):
        return osp.basename(path).split('_')[0]

    with pytest.raises(ValueError, match=r"train and test .*share 1 patient.*\['P1'\]"):
        check_split_overlap(str(root / 'train'), patient, '.png')
    report = find_leakage(str(tmp_path), splits=('train', 'test'), pool=None)
    assert [it.category for it in report.cross_split] == ['patient']


def test_a_folder_study_refuses_a_patient_whose_case_differs(tmp_path):
    from mmssl_us.data.layout import prepare_folder
    src = tmp_path / 'src'
    for split, name, value in (('train', 'P0_0.png', 1), ('train', 'P0_1.png', 2),
                               ('train', 'P1_0.png', 3), ('train', 'P2_0.png', 4),
                               ('test', 'p0_9.png', 5)):
        _png(str(src / 'images' / split / name), value)
        os.makedirs(src / 'masks' / split, exist_ok=True)
        cv2.imwrite(str(src / 'masks' / split / name), np.zeros((16, 16), np.uint8))
    with pytest.raises(ValueError, match=r"1 patient\(s\) are in both (train|val) and test .*\['P0'\]"):
        prepare_folder(str(src), str(tmp_path / 'view'), log=None)
