"""The nnU-Net hand-off on tiny synthetic volumes: nnU-Net's own planning and preprocessing,
Genesis 3D pretraining of the plans' network, the weights file checked against a freshly
built nnU-Net network (keys, shapes, plans), and a 1-epoch nnU-Net fine-tune that starts from
exactly those weights. Skips where nnunetv2 is not installed (tools/setup.sh installs it)."""
import copy
import os
import os.path as osp

import numpy as np
import pytest

pytest.importorskip('nnunetv2')
torch = pytest.importorskip('torch')
# nnU-Net's planning and preprocessing (spawned process pools, each re-importing torch) make
# the shared fixture take minutes on a loaded 2-core machine: 731 s here, see the README
pytestmark = pytest.mark.slow

from mmssl_us.volume import nnunet as nn  # noqa: E402
from mmssl_us.volume.convert import convert_to_nnunet  # noqa: E402
from mmssl_us.volume.pretrain import preprocess_volumes, pretrain_genesis  # noqa: E402
from mmssl_us.volume.synthetic import write_volume_folder  # noqa: E402

DATASET = 611


@pytest.fixture(scope='module')
def planned(tmp_path_factory):
    """Converted, planned and preprocessed tiny data, and a short Genesis pretraining."""
    root = tmp_path_factory.mktemp('nnunet')
    write_volume_folder(str(root / 'src'), 6, 3, size=16)
    raw = convert_to_nnunet(str(root / 'src'), str(root / 'raw'), DATASET, 'Tiny',
                            label_names=['lesion'], val=0.2, test=0.2)
    dirs = dict(raw=str(root / 'raw'), preprocessed=str(root / 'pre'),
                results=str(root / 'res'))
    # the planner sets torch's thread count to nnUNet_n_proc_DA: 1 here, 0 only for training
    with nn.nnunet_env(**dirs, nnUNet_n_proc_DA='1', nnUNet_extTrainer=nn.TRAINERS_DIR):
        plans_file = nn.plan_and_preprocess(DATASET)
        plans = nn.load_json(plans_file)
        dataset_json = nn.load_json(osp.join(raw, 'dataset.json'))
        folder = osp.join(raw, 'imagesUnlabelled')
        unlabelled = sorted(osp.join(folder, f) for f in os.listdir(folder))
        volumes = preprocess_volumes(unlabelled, plans, dataset_json)
        run = pretrain_genesis(volumes, plans, dataset_json, str(root / 'genesis'), steps=3,
                               batch_size=1, distortions=dict(local_blocks=50))
        yield dict(root=root, raw=raw, dirs=dirs, plans=plans, dataset_json=dataset_json,
                   volumes=volumes, run=run)


def test_pretraining_network_is_the_plans_plainconvunet_with_one_output(planned):
    plans, dj = planned['plans'], planned['dataset_json']
    conf = plans['configurations']['3d_fullres']
    assert conf['architecture']['network_class_name'].endswith('PlainConvUNet')
    net = nn.build_network(plans, dj, num_outputs=1, deep_supervision=False)
    x = torch.zeros((1, 1) + tuple(conf['patch_size']))
    out = net(x)
    assert tuple(out.shape) == tuple(x.shape)  # one restored volume, no deep supervision list
    # the unlabelled volumes went through nnU-Net's preprocessor (z-scored, one channel)
    vol = planned['volumes'][0]
    assert vol.ndim == 4 and vol.shape[0] == 1 and abs(float(vol.mean())) < 0.2


def test_weights_files_are_nnunet_shaped_verified_and_distinct(planned):
    run, plans, dj = planned['run'], planned['plans'], planned['dataset_json']
    target = nn.build_network(plans, dj)  # what nnUNetTrainer builds (2 heads, deep sup.)
    same = nn.load_pretrained(run['same_start'], plans, dj)
    genesis = nn.load_pretrained(run['genesis'], plans, dj)
    for ckpt in (same, genesis):
        keys = list(ckpt['network_weights'])
        assert not [k for k in keys if k.startswith(('module.', '_orig_mod.'))]
        loaded = nn.verify_weights(ckpt['network_weights'], target)
        assert len(loaded) == len([k for k in target.state_dict() if '.seg_layers.' not in k])
    key = next(k for k in genesis['network_weights'] if k.endswith('weight')
               and 'encoder' in k)
    assert not torch.equal(same['network_weights'][key], genesis['network_weights'][key])
    assert all(np.isfinite(loss) for _, loss in run['curve']) and len(run['curve']) >= 2
    assert genesis['mmssl_us']['arm'] == 'genesis' and same['mmssl_us']['arm'] == 'same_start'


def test_mismatching_keys_shapes_and_plans_are_refused_by_name(planned, tmp_path):
    plans, dj = planned['plans'], planned['dataset_json']
    target = nn.build_network(plans, dj)
    state = nn.strip_prefixes({'module._orig_mod.' + k: v
                               for k, v in target.state_dict().items()})
    assert set(state) == set(target.state_dict())
    key = next(k for k in state if '.seg_layers.' not in k and k.endswith('weight'))
    missing = {k: v for k, v in state.items() if k != key}
    with pytest.raises(ValueError, match=rf'1 keys missing.*{key}'):
        nn.verify_weights(missing, target, 'x.pth')
    wrong = dict(state, **{key: torch.zeros(3, 3)})
    with pytest.raises(ValueError, match=rf'{key}: \(3, 3\)'):
        nn.verify_weights(wrong, target, 'x.pth')
    # a file built for other plans (another patch size and spacing) is refused by field
    other = copy.deepcopy(plans)
    other['configurations']['3d_fullres']['spacing'] = [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match=r'other plans: spacing'):
        nn.load_pretrained(planned['run']['genesis'], other, dj)
    # and a network of other plans cannot be saved as a hand-off for these
    small = copy.deepcopy(plans)
    arch = small['configurations']['3d_fullres']['architecture']['arch_kwargs']
    arch['features_per_stage'] = [f * 2 for f in arch['features_per_stage']]
    net = nn.build_network(small, dj, num_outputs=1, deep_supervision=False)
    with pytest.raises(ValueError, match='shapes differ'):
        nn.save_pretrained(net, str(tmp_path / 'bad.pth'), plans, dj)
    assert not (tmp_path / 'bad.pth').exists()


@pytest.mark.slow
def test_one_epoch_nnunet_finetune_starts_from_exactly_those_weights(planned):
    from nnunetv2.run.run_training import get_trainer_from_args, maybe_load_checkpoint
    from mmssl_us.checkpoint import safe_load
    path = planned['run']['genesis']
    saved = safe_load(path)['network_weights']
    with nn.nnunet_env(**planned['dirs'], nnUNet_n_proc_DA='0',
                       nnUNet_extTrainer=nn.TRAINERS_DIR, MMSSL_US_NNUNET_EPOCHS='1',
                       MMSSL_US_NNUNET_ITERS='1', MMSSL_US_NNUNET_VAL_ITERS='1'):
        trainer = get_trainer_from_args(str(DATASET), '3d_fullres', 0,
                                        'nnUNetTrainerMMSSLShort', device=torch.device('cpu'))
        assert (trainer.num_epochs, trainer.num_iterations_per_epoch) == (1, 1)
        maybe_load_checkpoint(trainer, False, False, path)  # what -pretrained_weights does
        state = trainer.network.state_dict()
        for key, value in saved.items():
            if '.seg_layers.' not in key:
                assert torch.equal(state[key], value), key
        trainer.run_training()
        final = torch.load(osp.join(trainer.output_folder, 'checkpoint_final.pth'),
                           weights_only=False)
    log = final['logging']
    assert len(log['mean_fg_dice']) == 1 and len(log['epoch_end_timestamps']) == 1
    moved = [k for k in saved if '.seg_layers.' not in k and k.endswith('weight')
             and not torch.equal(final['network_weights'][k], saved[k])]
    assert moved  # it trained from there


@pytest.mark.slow
def test_whole_split_validation_and_selection_on_the_epochs_dice(planned):
    """VAL_ITERS=all validates every val case each epoch; EMA=0 selects checkpoint_best on the
    epoch's own pseudo Dice; the progress plot is drawn at the end."""
    import json

    from nnunetv2.run.run_training import get_trainer_from_args
    dirs = dict(planned['dirs'], results=str(planned['root'] / 'res_whole'))  # its own folder
    with nn.nnunet_env(**dirs, nnUNet_n_proc_DA='0',
                       nnUNet_extTrainer=nn.TRAINERS_DIR, MMSSL_US_NNUNET_EPOCHS='3',
                       MMSSL_US_NNUNET_ITERS='1', MMSSL_US_NNUNET_VAL_ITERS='all',
                       MMSSL_US_NNUNET_EMA='0', MMSSL_US_NNUNET_SEED='0',
                       MMSSL_US_NNUNET_FINAL_VAL='0'):
        trainer = get_trainer_from_args(str(DATASET), '3d_fullres', 0,
                                        'nnUNetTrainerMMSSLShort', device=torch.device('cpu'))
        trainer.run_training()
    out = trainer.output_folder
    n_val = len(trainer.get_tr_and_val_datasets()[1].identifiers)
    assert n_val >= 1
    assert trainer.num_val_iterations_per_epoch == -(-n_val // trainer.batch_size)
    logs = [f for f in os.listdir(out) if f.endswith('.txt')]
    assert len(logs) == 1
    text = open(osp.join(out, logs[0])).read()
    assert f'validation: all {n_val} validation cases every epoch' in text
    log = json.load(open(osp.join(out, 'training_log.json')))
    assert log['ema_fg_dice'] == log['mean_fg_dice'] and len(log['mean_fg_dice']) == 3
    best = torch.load(osp.join(out, 'checkpoint_best.pth'), weights_only=False)
    dice = log['mean_fg_dice']
    # nnU-Net stores the number of epochs done: the first epoch of the best Dice, from 1
    assert best['current_epoch'] == dice.index(max(dice)) + 1
    assert osp.isfile(osp.join(out, 'progress.png'))
