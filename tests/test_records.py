"""One settings-record check (issue 19): conversion.json, layout.json, a pretraining's
settings.json and study_fingerprint.json are written, read and compared by mmssl_us.records."""
import json
import os.path as osp

import pytest

from mmssl_us import records


def test_first_check_writes_later_checks_compare(tmp_path):
    path = str(tmp_path / 'settings.json')
    assert records.check_record(path, dict(a=1, b=(1, 2)), 'x', 'fix it') is False
    assert json.load(open(path)) == dict(a=1, b=[1, 2])
    assert records.check_record(path, dict(b=[1, 2], a=1), 'x', 'fix it') is True  # as read back
    with pytest.raises(ValueError, match=r"the thing was made with other settings \(1 differ: "
                                         r"a: 1 -> 2; recorded in .*settings.json\): fix it"):
        records.check_record(path, dict(a=2, b=[1, 2]), 'the thing', 'fix it')


def test_differences_are_dotted_short_and_counted():
    old = dict(finetune=dict(shrink=dict(max_iters=600)), ids=list(range(500)))
    new = dict(finetune=dict(shrink=dict(max_iters=1500)), ids=list(range(501)))
    diff = records.differing_keys(old, new)
    assert diff[0] == 'finetune.shrink.max_iters: 600 -> 1500'
    assert diff[1].startswith('ids: [0, 1, 2') and ' ...]' in diff[1] and len(diff[1]) < 200
    many = records.differing_keys({f'k{i}': i for i in range(12)}, {})
    assert records.describe(many).endswith('; and 4 more')
    # a config digest the old record lacks is no difference (records made before digests)
    assert records.differing_keys(dict(c='a.py'), dict(c='a.py', config_digest='sha')) == []


def test_a_record_that_does_not_parse_is_named_never_overwritten(tmp_path):
    path = tmp_path / 'layout.json'
    path.write_text('{"seed": 0')
    with pytest.raises(ValueError, match='layout.json is not a readable settings record'):
        records.check_record(str(path), dict(seed=0), 'x', 'y')
    assert path.read_text() == '{"seed": 0'
    assert records.read_record(str(tmp_path / 'missing.json')) is None


def test_the_five_records_go_through_it():
    """Each writer of a settings record uses this module (no second comparison)."""
    root = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'mmssl_us')
    users = {'data/layout.py': 'compare_record', 'data/converters/common.py': 'read_record',
             'study/fingerprint.py': 'records.compare_record'}
    for rel, name in users.items():
        text = open(osp.join(root, rel), encoding='utf-8').read()
        assert name in text, rel
    pretraining = open(osp.join(root, 'study', 'pretraining.py'), encoding='utf-8').read()
    assert 'from .fingerprint import check_record' in pretraining
