"""The echo studies: DeepLabV3 and UNet arms on the same EchoNet-format data, one UNet arm on
clip pairs, the UNet arms converted by the 'unet' adapter, random init beside each."""
import os.path as osp

from mmengine.config import Config

from mmssl_us.study.finetune import finetune_options
from mmssl_us.study.pretraining import pretrain_config
from mmssl_us.study.spec import check_study

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _study(name):
    return Config.fromfile(osp.join(ROOT, 'configs', 'study', name)).study.to_dict()


def test_the_two_echo_studies_share_data_and_protocol(monkeypatch):
    monkeypatch.chdir(ROOT)
    deeplab, unet = _study('echo_cpu.py'), _study('echo_unet_cpu.py')
    for study in (deeplab, unet):
        check_study(study)
        assert 0.05 in study['fractions'] and study['baseline'] == 'random'
        assert 'random' in study['inits']
        assert study['synthetic']['mode'] == 'echo'
        assert study['convert'] == dict(dataset='echonet', src=study['synthetic']['out'])
        assert study['pool'] == dict(splits=[], echonet=study['synthetic']['out'])
    for key in ('data_root', 'synthetic', 'convert', 'pool', 'fractions', 'seeds'):
        assert deeplab[key] == unet[key], key
    assert 'deeplabv3' in deeplab['finetune']['config']
    assert 'unet' in unet['finetune']['config']
    # the protocol of configs/_base_/study/finetune_cpu.py, kept by both
    base = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'study', 'finetune_cpu.py'))
    for study in (deeplab, unet):
        for k, v in base.study.finetune.shrink.items():
            if k not in ('depth', 'img_scale'):
                assert study['finetune']['shrink'][k] == v, k
    assert set(unet['pretrain']) == {'simclr', 'simclr_clip', 'byol', 'densecl'}
    assert all(p.get('adapter') == 'unet' for p in unet['pretrain'].values())
    assert all(p.get('adapter') is None for p in deeplab['pretrain'].values())


def test_the_unet_study_builds_its_configs(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    study = _study('echo_unet_cpu.py')
    written = pretrain_config('simclr_clip', study['pretrain']['simclr_clip'], study,
                              str(tmp_path))
    cfg = Config.fromfile(written, import_custom_modules=False)
    ds = cfg.train_dataloader.dataset
    assert ds.clip_pairs == 4 and [t['type'] for t in ds.pipeline][:2] == \
        ['LoadClipPair', 'ClipPairMultiView']
    assert ds.pipeline[1]['transforms'][0][0]['scale'] == 64  # view_size reached the crop
    assert cfg.model.backbone.base_channels == 16 and cfg.model.neck.in_channels == 256
    plain = Config.fromfile(pretrain_config('simclr', study['pretrain']['simclr'], study,
                                            str(tmp_path)), import_custom_modules=False)
    assert 'clip_pairs' not in plain.train_dataloader.dataset
    ft = Config.fromfile(study['finetune']['config'])
    ft.merge_from_dict(finetune_options(ft, study['finetune'], study['data_root']))
    assert ft.model.backbone.base_channels == 16
    assert (ft.model.decode_head.in_channels, ft.model.auxiliary_head.in_channels) == (16, 32)
    # the CPU protocol's length (configs/_base_/study/finetune_cpu.py)
    assert ft.train_cfg.max_iters == study['finetune']['shrink']['max_iters'] == 600
