"""Patient-level label fractions: nested, deterministic, reference-checked."""
import hashlib
import math

import pytest

from mmssl_us.data.fractions import num_selected, select_fraction


def _items(n_patients, per_patient=3):
    return [f'img/p{p:03d}_{f}.png' for p in range(n_patients) for f in range(per_patient)]


def _patient(path):
    return path.split('/')[-1].split('_')[0]


def _reference(items, fraction, seed):
    """Plain re-implementation: lowest-k sha256 keys, k = max(1, floor(f * n + 0.5))."""
    pids = sorted({_patient(i) for i in items})
    keyed = sorted(pids, key=lambda p: (hashlib.sha256(f'{seed}:{p}'.encode()).hexdigest(), p))
    k = max(1, math.floor(fraction * len(pids) + 0.5))
    chosen = set(keyed[:k])
    return sorted(i for i in items if _patient(i) in chosen)


@pytest.mark.parametrize('seed', [0, 1, 7])
@pytest.mark.parametrize('fraction', [0.01, 0.05, 0.1, 0.25, 1.0])
def test_matches_reference(seed, fraction):
    items = _items(200)
    assert select_fraction(items, fraction, seed, _patient) == _reference(items, fraction, seed)


@pytest.mark.parametrize('seed', range(5))
def test_nested_across_fractions(seed):
    items = _items(200)
    fractions = [0.01, 0.05, 0.1, 0.5, 1.0]
    subsets = [set(select_fraction(items, f, seed, _patient)) for f in fractions]
    for small, large in zip(subsets, subsets[1:]):
        assert small < large  # strictly contained: more patients at the larger fraction
    assert subsets[-1] == set(items)


def test_counts_and_whole_patients():
    items = _items(200, per_patient=3)
    chosen = select_fraction(items, 0.05, 0, _patient)
    pids = {_patient(i) for i in chosen}
    assert len(pids) == 10  # 0.05 * 200
    assert len(chosen) == 30  # every image of each chosen patient
    assert chosen == sorted(chosen)
    # a tiny fraction still selects one patient (and so at least one image)
    assert len({_patient(i) for i in select_fraction(items, 1e-4, 0, _patient)}) == 1


def test_half_up_rounding():
    assert num_selected(0.5, 5) == 3  # 2.5 rounds up (Python's round() would give 2)
    assert num_selected(0.3, 5) == 2  # 1.5 -> 2
    assert num_selected(0.01, 10) == 1  # floor at one patient
    assert num_selected(1.0, 7) == 7


def test_seeds_differ_and_repeat():
    items = _items(200)
    a = select_fraction(items, 0.05, 0, _patient)
    assert a == select_fraction(list(reversed(items)), 0.05, 0, _patient)  # order-free
    assert a != select_fraction(items, 0.05, 1, _patient)


@pytest.mark.parametrize('bad', [0, 0.0, -0.1, 1.5, float('nan'), True, '0.5'])
def test_bad_fraction_named(bad):
    with pytest.raises(ValueError, match='label fraction'):
        select_fraction(_items(3), bad, 0, _patient)


def test_empty_split_stops():
    with pytest.raises(ValueError, match='0.05 selects nothing'):
        select_fraction([], 0.05, 0, _patient)


def test_empty_patient_id_stops():
    with pytest.raises(ValueError, match='_x.png'):
        select_fraction(['_x.png'], 1.0, 0, lambda p: p.split('_')[0])
