"""The anatomy rendered on the beam grid: layer order, recess thickness, rigid motion."""
import numpy as np
import pytest

from mmssl_us.synthetic.anatomy import LAYERS, TISSUE_ID, sample_anatomy
from mmssl_us.synthetic.render import LAYER_IDS, boundaries, fibril_field, render_beam

SHAPE = (160, 120)


def _anatomy(seed):
    return sample_anatomy(np.random.default_rng(seed))


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize('shift', [(0, 0), (3, -2)])
def test_layers_match_a_direct_comparison(seed, shift):
    anat = _anatomy(seed)
    anat.septa = anat.septa[:0]  # compare the layers alone
    rows, lines = SHAPE
    maps = render_beam(anat, SHAPE, shift)
    v = (np.arange(lines) - shift[1] + 0.5) / lines
    u = ((np.arange(rows) - shift[0] + 0.5) / rows)[:, None]
    stack = boundaries(anat, v)['stack']
    layer = sum((u >= top[None, :]).astype(int) for top in stack)
    expected = LAYER_IDS[layer]
    if anat.recess['thickness'] <= 0:  # the collapsed line is drawn over the fat pad
        expected = np.where(maps.tissue == TISSUE_ID['collapsed'], maps.tissue, expected)
    np.testing.assert_array_equal(maps.tissue, expected)


@pytest.mark.parametrize('seed', range(10))
def test_layers_are_ordered_down_every_column(seed):
    maps = render_beam(_anatomy(seed), SHAPE)
    order = {TISSUE_ID[t]: k for k, t in enumerate(LAYERS)}
    order[TISSUE_ID['septum']] = order[TISSUE_ID['fat']]
    order[TISSUE_ID['collapsed']] = order[TISSUE_ID['fat_pad']]
    rank = np.vectorize(order.get)(maps.tissue)
    assert (np.diff(rank, axis=0) >= 0).all()


def test_recess_rows_follow_its_thickness():
    for seed in range(40):
        anat = _anatomy(seed)
        if anat.recess['thickness'] > 0:
            break
    maps = render_beam(anat, SHAPE)
    v = (np.arange(SHAPE[1]) + 0.5) / SHAPE[1]
    thickness = boundaries(anat, v)['recess'] * SHAPE[0]
    counted = (maps.tissue == TISSUE_ID['recess']).sum(0)
    assert np.abs(counted - thickness).max() <= 1.0
    assert counted.max() >= 3


def test_absent_effusion_draws_no_recess():
    found = 0
    for seed in range(60):
        anat = _anatomy(seed)
        if anat.recess['thickness'] > 0:
            continue
        found += 1
        maps = render_beam(anat, SHAPE)
        assert not (maps.tissue == TISSUE_ID['recess']).any()
        assert (maps.tissue == TISSUE_ID['collapsed']).any()
    assert found > 0


def test_motion_moves_the_anatomy_rigidly():
    anat = _anatomy(3)
    pad = 6
    fib = fibril_field(np.random.default_rng(0), SHAPE[0], SHAPE[1] + 2 * pad)
    still = render_beam(anat, SHAPE, (0, 0), fibrils=fib, pad=pad)
    moved = render_beam(anat, SHAPE, (4, 5), fibrils=fib, pad=pad)
    np.testing.assert_array_equal(moved.tissue[4:, 5:], still.tissue[:-4, :-5])
    np.testing.assert_allclose(moved.level_db[4:, 5:], still.level_db[:-4, :-5])


def test_bone_attenuates_and_fluid_does_not():
    anat = _anatomy(0)
    soft = anat.alpha[TISSUE_ID['fat_pad']]
    assert anat.alpha[TISSUE_ID['cortex']] > 50 * soft
    assert anat.alpha[TISSUE_ID['recess']] < 0.1 * soft
