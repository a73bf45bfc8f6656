"""Patient-level splits: counts by largest remainder, disjoint, seeded."""
import pytest

from mmssl_us.synthetic.splits import patient_splits, split_counts


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
    ids = [f'S{k:04d}' for k in range(1, 41)]
    a = patient_splits(ids, (0.7, 0.15, 0.15), seed=0)
    assert sorted(a['train'] + a['val'] + a['test']) == ids
    assert not set(a['train']) & set(a['val']) and not set(a['val']) & set(a['test'])
    assert [len(a[k]) for k in ('train', 'val', 'test')] == [28, 6, 6]
    assert patient_splits(ids, (0.7, 0.15, 0.15), seed=0) == a
    assert patient_splits(ids, (0.7, 0.15, 0.15), seed=1) != a
    with pytest.raises(ValueError, match='unique'):
        patient_splits(['S1', 'S1'], (1, 0, 0), 0)
