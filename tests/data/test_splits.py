"""Patient-level splits: largest-remainder counts, sha256 ranking, one implementation for the
converters and the synthetic generator."""
import hashlib
import json
import os.path as osp

import numpy as np
import pytest

from mmssl_us.data.splits import patient_rank, patient_splits, split_counts, split_patients

IDS = [f'S{k:04d}' for k in range(1, 41)]


def _reference(ids, counts, seed):
    """Plain re-implementation: rank by sha256('split:<seed>:<id>'); test, val, then train."""
    ranked = sorted(ids, key=lambda p: (hashlib.sha256(f'split:{seed}:{p}'.encode()).hexdigest(),
                                        p))
    n_train, n_val, n_test = counts
    return dict(train=sorted(ranked[n_test + n_val:]), val=sorted(ranked[n_test:n_test + n_val]),
                test=sorted(ranked[:n_test]))


@pytest.mark.parametrize('n,fractions,expected', [
    (40, (0.7, 0.15, 0.15), [28, 6, 6]),
    (10, (0.7, 0.15, 0.15), [7, 2, 1]),  # 7, 1.5, 1.5: the tie goes to val
    (5, (0.7, 0.15, 0.15), [3, 1, 1]),
    (3, (0.7, 0.15, 0.15), [1, 1, 1]),  # every non-empty fraction gets a patient
    (2, (0.7, 0.15, 0.15), [1, 1, 0]),
    (7, (1.0, 0.0, 0.0), [7, 0, 0]),
    (0, (0.5, 0.25, 0.25), [0, 0, 0]),
])
def test_counts(n, fractions, expected):
    assert split_counts(n, fractions) == expected


@pytest.mark.parametrize('fractions', [(0.5, 0.5), (0.6, 0.3, 0.3), (1.2, -0.1, -0.1),
                                       (float('nan'), 0.5, 0.5)])
def test_bad_fractions_are_named(fractions):
    with pytest.raises(ValueError, match='split'):
        split_counts(10, fractions)


def test_splits_are_disjoint_complete_and_seeded():
    ids = IDS
    a = patient_splits(ids, (0.7, 0.15, 0.15), seed=0)
    assert sorted(a['train'] + a['val'] + a['test']) == ids
    assert not set(a['train']) & set(a['val']) and not set(a['val']) & set(a['test'])
    assert [len(a[k]) for k in ('train', 'val', 'test')] == [28, 6, 6]
    assert patient_splits(ids, (0.7, 0.15, 0.15), seed=0) == a
    assert patient_splits(ids, (0.7, 0.15, 0.15), seed=1) != a
    with pytest.raises(ValueError, match='unique'):
        patient_splits(['S1', 'S1'], (1, 0, 0), 0)


@pytest.mark.parametrize('seed', [0, 1, 7])
@pytest.mark.parametrize('fractions', [(0.7, 0.15, 0.15), (0.5, 0.0, 0.5), (0.8, 0.2, 0.0)])
def test_matches_reference_and_ignores_order(seed, fractions):
    expected = _reference(IDS, split_counts(len(IDS), fractions), seed)
    assert patient_splits(IDS, fractions, seed) == expected
    assert patient_splits(IDS[::-1], fractions, seed) == expected


def test_converter_form_is_the_same_split():
    """split_patients (converters: val/test fractions, id -> split) is patient_splits."""
    for seed in range(4):
        mapping = split_patients(IDS, seed, val=0.15, test=0.15)
        lists = patient_splits(IDS, (0.7, 0.15, 0.15), seed)
        assert mapping == {pid: name for name, pids in lists.items() for pid in pids}


def test_test_patients_stay_when_val_changes():
    small_val = patient_splits(IDS, (0.75, 0.05, 0.2), seed=3)
    large_val = patient_splits(IDS, (0.5, 0.3, 0.2), seed=3)
    assert small_val['test'] == large_val['test']
    assert set(small_val['val']) < set(large_val['val'])


def test_split_patients_partitions():
    pids = [f'p{i:03d}' for i in range(50)]
    split = split_patients(pids, seed=3, val=0.1, test=0.2)
    counts = {name: sum(1 for v in split.values() if v == name)
              for name in ('train', 'val', 'test')}
    assert counts == {'train': 35, 'val': 5, 'test': 10}
    assert split == split_patients(list(reversed(pids)), seed=3, val=0.1, test=0.2)
    assert split == split_patients(pids + pids[:5], seed=3, val=0.1, test=0.2)  # merged
    # the test patients are the lowest-ranked ones
    test = {p for p, s in split.items() if s == 'test'}
    assert test == set(patient_rank(pids, 3, salt='split:')[:10])
    assert test != set(patient_rank(pids, 3)[:10])  # independent of a same-seed fraction draw
    with pytest.raises(ValueError, match='too few'):
        split_patients(['a', 'b'], 0, val=0.4, test=0.4)
    with pytest.raises(ValueError, match='val'):
        split_patients(pids, 0, val=1.2, test=0.1)


def test_too_few_patients():
    """patient_splits serves train first; the converters' form refuses instead."""
    two = patient_splits(['a', 'b'], (0.6, 0.2, 0.2), 0)
    assert [len(two[s]) for s in ('train', 'val', 'test')] == [1, 1, 0]
    with pytest.raises(ValueError, match='2 patients are too few'):
        split_patients(['a', 'b'], 0, val=0.2, test=0.2)
    assert set(split_patients(['a', 'b', 'c'], 0, val=0.2, test=0.2).values()) == \
        {'train', 'val', 'test'}
    with pytest.raises(ValueError, match='empty'):
        split_patients([], 0, val=0.1, test=0.1)


def test_seed_types():
    assert patient_rank(IDS, np.int64(5)) == patient_rank(IDS, 5)
    for bad in ('0', 1.0, True, None):
        with pytest.raises(ValueError, match='seed'):
            patient_rank(['a'], bad)


def test_synthetic_writer_uses_it(tmp_path):
    from mmssl_us.synthetic import GENERATOR_VERSION
    from mmssl_us.synthetic.writer import write_knee_dataset
    out = str(tmp_path / 'knee')
    write_knee_dataset(out, n_patients=6, frames_per_patient=1, n_unlabelled=0, seed=11,
                       size=(32, 32), split=(0.5, 0.25, 0.25))
    with open(osp.join(out, 'synthetic.json')) as f:
        manifest = json.load(f)
    assert manifest['params']['generator_version'] == GENERATOR_VERSION != '1.0'
    expected = patient_splits([f'S{k:04d}' for k in range(1, 7)], (0.5, 0.25, 0.25), 11)
    assert {s: manifest['patients'][s] for s in ('train', 'val', 'test')} == expected
