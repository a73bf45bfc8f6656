"""Work dirs (issue 18): configs of one file name in two folders do not share a default work
dir; a training never starts over another model's checkpoints; tools/test.py never writes into
a training run's folder; the converted backbone records which method made it."""
import json
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmssl_us import launch
from mmssl_us.train import train
from mmssl_us.workdir import (RUN_RECORD, check_not_a_run, claim_work_dir, default_work_dir,
                              read_run_record)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DENSECL = osp.join(ROOT, 'configs', 'densecl', 'r50_knee.py')
GENESIS = osp.join(ROOT, 'configs', 'genesis', 'genesis_resnet50_1xb32-coslr-200e_knee.py')
PLAIN = osp.join(ROOT, 'configs', 'densecl', 'densecl_resnet50-plain_1xb32-coslr-200e_knee.py')


def test_densecl_and_genesis_default_to_different_work_dirs():
    dirs = {c: launch.build_train_cfg([c]).work_dir for c in (DENSECL, GENESIS, PLAIN)}
    assert len(set(map(osp.normpath, dirs.values()))) == 3, dirs
    assert osp.normpath(dirs[GENESIS]) == osp.join('work_dirs', 'genesis',
                                                   'genesis_resnet50_1xb32-coslr-200e_knee')
    # the segmentation configs load DenseCL's backbone from its work dir
    assert osp.normpath(dirs[DENSECL]) == osp.join('work_dirs', 'r50_knee')
    assert default_work_dir('a/b/c.py', 'test') == osp.join('work_dirs', 'test', 'b', 'c')


@pytest.mark.slow
def test_genesis_never_starts_over_densecl_checkpoints(tmp_path):
    work = str(tmp_path / 'w')
    densecl = launch.build_train_cfg([DENSECL, '--work-dir', work])
    claim_work_dir(densecl)  # what tools/train.py does before DenseCL trains
    assert read_run_record(work)['model'] == 'UltrasoundDenseCL'
    for name in ('epoch_1.pth', 'start_weights.pth'):
        torch.save({'state_dict': {}}, osp.join(work, name))
    before = sorted(os.listdir(work))
    genesis = launch.build_train_cfg([GENESIS, '--work-dir', work])
    with pytest.raises(FileExistsError) as info:
        train(genesis)
    msg = str(info.value)
    assert DENSECL in msg and GENESIS in msg and 'ModelsGenesis' in msg
    assert 'UltrasoundDenseCL' in msg and 'another --work-dir' in msg
    assert sorted(os.listdir(work)) == before
    # the same model again (a resume, or a re-run with another lr) is fine
    claim_work_dir(launch.build_train_cfg([DENSECL, '--work-dir', work, '--cfg-options',
                                           'optim_wrapper.optimizer.lr=0.1']))
    claim_work_dir(launch.build_train_cfg([DENSECL, '--work-dir', work, '--resume']),
                   resume=True)
    # another shape of the same method is another model too
    with pytest.raises(FileExistsError, match='another model'):
        claim_work_dir(launch.build_train_cfg([PLAIN, '--work-dir', work]))


def test_an_older_run_without_its_record_is_told_by_its_saved_config(tmp_path):
    work = tmp_path / 'old'
    work.mkdir()
    (work / 'r50_knee.py').write_text("model = dict(type='UltrasoundDenseCL')\n")
    torch.save({}, str(work / 'epoch_3.pth'))
    cfg = Config(dict(model=dict(type='ModelsGenesis'), work_dir=str(work)),
                 filename=GENESIS)
    with pytest.raises(FileExistsError, match=r'r50_knee.py \(UltrasoundDenseCL\)'):
        claim_work_dir(cfg)
    # an empty work dir is claimed
    claim_work_dir(Config(dict(model=dict(type='ModelsGenesis'), work_dir=str(tmp_path / 'n')),
                          filename=GENESIS))
    assert osp.isfile(tmp_path / 'n' / RUN_RECORD)


def test_test_py_has_a_work_dir_of_its_own(tmp_path):
    run = tmp_path / 'run'
    run.mkdir()
    torch.save({}, str(run / 'iter_2.pth'))
    saved = run / 'fcn.py'  # a config saved by the training names the run as its work dir
    saved.write_text(f"model = dict(type='EncoderDecoder')\nwork_dir = {str(run)!r}\n")
    cfg, _ = launch.build_test_cfg([str(saved), str(run / 'iter_2.pth')])
    assert osp.normpath(cfg.work_dir) == osp.join('work_dirs', 'test', 'run', 'fcn')
    with pytest.raises(FileExistsError, match="is a training run's folder"):
        launch.build_test_cfg([str(saved), str(run / 'iter_2.pth'), '--work-dir', str(run)])
    check_not_a_run(str(tmp_path / 'elsewhere'))  # a fresh folder is fine


def test_the_backbone_records_its_method_and_a_config_may_ask_for_one(tmp_path):
    from mmpretrain.models.backbones import ResNetV1c

    from mmssl_us.transfer import convert_checkpoint
    from mmssl_us.transfer.init import CheckpointKeyError, VerifiedPretrainedInit
    work = tmp_path / 'genesis'
    work.mkdir()
    (work / RUN_RECORD).write_text(json.dumps(dict(config=GENESIS, model='ModelsGenesis')))
    net = ResNetV1c(depth=18)
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in net.state_dict().items()}},
               str(work / 'epoch_1.pth'))
    stale = work / '.backbone.pth.999999999.abc.tmp'  # a converter killed mid-write
    stale.write_bytes(b'x' * 1000)
    _, meta = convert_checkpoint(str(work / 'epoch_1.pth'), str(work / 'backbone.pth'),
                                 target='mmpretrain')
    assert meta['method'] == 'ModelsGenesis'
    assert not stale.exists()
    target = ResNetV1c(depth=18)
    VerifiedPretrainedInit(str(work / 'backbone.pth'), method='ModelsGenesis')(target)
    with pytest.raises(CheckpointKeyError, match='converted from a ModelsGenesis pretraining.*'
                       'expects UltrasoundDenseCL'):
        VerifiedPretrainedInit(str(work / 'backbone.pth'), method='UltrasoundDenseCL')(target)
