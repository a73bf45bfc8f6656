"""Study settings live in one typed table (issue 19): the key check, the fingerprint and the
runner read the same :data:`STUDY_KEYS`, and the fake steps of the tests follow the real
steps' signatures."""
import inspect
import os
import os.path as osp
import re
import sys

import pytest

from mmssl_us.study import fingerprint, spec
from mmssl_us.study.finetune import finetune_once
from mmssl_us.study.pretraining import pretrain

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), '_toy'))
import fake_steps  # noqa: E402

PACKAGE = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'mmssl_us')

BASE = dict(data_root='data/x', inits=['densecl', 'random'], fractions=[0.5], seeds=[0],
            pretrain=dict(densecl=dict(config='missing.py')), finetune=dict(config='m.py'))
#: another value for each key (what a user might change between two runs of a study)
OTHER = dict(data_root='data/y', synthetic=dict(patients=4), convert=dict(dataset='hc18'),
             folder=dict(val=0.2), classes=['background', 'nerve'],
             pool=dict(splits=['train']), pretrain=dict(simclr=dict(config='missing.py')),
             probe=dict(fraction=0.2), extra_inits=dict(imagenet='b.pth'),
             finetune=dict(config='n.py'), inits=['random'], fractions=[1.0], seeds=[0, 1],
             baseline='densecl', same_start=False, tsne=dict(split='val'), leakage='warn',
             leakage_near_bits=8, jobs=2)


def test_every_key_has_an_other_value_here():
    assert set(OTHER) == set(spec.STUDY_KEYS)


@pytest.mark.parametrize('name', sorted(spec.STUDY_KEYS))
def test_a_key_changes_the_settings_digest_exactly_when_it_changes_results(name):
    changed = dict(BASE, **{name: OTHER[name]})
    differs = fingerprint.settings_digest(changed) != fingerprint.settings_digest(BASE)
    assert differs == spec.STUDY_KEYS[name].changes_results, name


def test_fingerprint_keys_are_the_specs_and_unchanged():
    assert fingerprint.KEYS == spec.RESULT_KEYS
    # the keys recorded by every study fingerprinted so far: a change would refuse their resume
    assert set(spec.RESULT_KEYS) == {'data_root', 'synthetic', 'convert', 'folder', 'classes',
                                     'pool', 'pretrain', 'extra_inits', 'finetune',
                                     'same_start'}
    assert set(spec.STUDY_SPEC) == set(spec.STUDY_KEYS)


def test_setting_gives_the_default_as_a_copy_and_refuses_an_unknown_key():
    assert spec.setting({}, 'same_start') is True
    assert spec.setting({'same_start': False}, 'same_start') is False
    assert spec.setting({'baseline': None}, 'baseline') == 'random'
    assert spec.setting({}, 'leakage') == 'stop'
    first = spec.setting({}, 'pretrain')
    first['x'] = 1
    assert spec.setting({}, 'pretrain') == {}
    with pytest.raises(KeyError):
        spec.setting({}, 'same_starts')


def test_no_default_is_written_outside_the_spec():
    """``study.get('key', default)`` in the study package would be a second default."""
    pattern = re.compile(r"study\.get\('(\w+)',\s*(?!None\))")
    found = []
    for folder, _, files in os.walk(osp.join(PACKAGE, 'study')):
        for name in files:
            if name.endswith('.py'):
                path = osp.join(folder, name)
                with open(path, encoding='utf-8') as f:
                    found += [f'{path}: {m.group(0)}' for m in pattern.finditer(f.read())]
    assert not found, found


def _params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_the_fake_steps_have_the_real_signatures():
    assert _params(fake_steps.fake_pretrain()) == _params(pretrain)
    assert [p[:2] for p in _params(fake_steps.fake_finetune())] == \
        [p[:2] for p in _params(finetune_once)]


def test_a_pretraining_step_returning_a_path_is_refused(tmp_path):
    from mmssl_us.study import runner
    study = dict(BASE, pretrain=dict(densecl=dict(config='missing.py')))
    with pytest.raises(TypeError, match="returned 'backbone.pth' for 'densecl', not a "):
        runner._call_pretrain(lambda name, spec, work_dir, log, study=None: 'backbone.pth',
                              'densecl', study, str(tmp_path), print)
