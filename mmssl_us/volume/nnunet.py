"""nnU-Net v2 through its own API: planning, preprocessing, the network, the weight hand-off.

nnU-Net finds its folders through the environment (``nnUNet_raw``, ``nnUNet_preprocessed``,
``nnUNet_results``, read when used in nnunetv2 2.8); :func:`nnunet_env` sets them for a
block. The network pretrained here is the one nnU-Net fine-tunes: the plans' architecture
(``PlainConvUNet`` for the default plans) built by nnU-Net's ``get_network_from_plans``, with
one output channel and deep supervision off for restoration. The hand-off file is what
``nnUNetv2_train ... -pretrained_weights`` reads: ``{'network_weights': state_dict}`` without
``module.`` / ``_orig_mod.`` prefixes. :func:`verify_weights` is the check nnU-Net's
``load_pretrained_weights`` asserts (every key of the target network except
``.seg_layers.`` present with the same shape), made before writing and at loading, with every
mismatching key named; :func:`plans_identity` refuses a checkpoint built for other plans
(another spacing, patch size, normalisation or architecture).
"""
import contextlib
import hashlib
import json
import os
import os.path as osp
import shutil
from typing import Dict, Iterator, List, Optional

SEG_LAYERS = '.seg_layers.'
PREFIXES = ('module.', '_orig_mod.')
CONFIGURATION = '3d_fullres'
PLANS = 'nnUNetPlans'
#: the folder nnU-Net's nnUNet_extTrainer should point at for our trainers
TRAINERS_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'trainers')


@contextlib.contextmanager
def nnunet_env(raw: Optional[str] = None, preprocessed: Optional[str] = None,
               results: Optional[str] = None, **extra: str) -> Iterator[None]:
    """Set nnU-Net's folders (those given) and ``extra`` variables in ``os.environ`` for a
    block; the previous values come back after it."""
    values = {k: v for k, v in dict(nnUNet_raw=raw, nnUNet_preprocessed=preprocessed,
                                    nnUNet_results=results).items() if v is not None}
    values.update(extra)
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def dataset_name(dataset_id: int) -> str:
    """``DatasetXXX_Name`` of an id, as nnU-Net resolves it (needs :func:`nnunet_env`)."""
    from nnunetv2.utilities.dataset_name_id_conversion import convert_id_to_dataset_name
    return convert_id_to_dataset_name(dataset_id)


def plan_and_preprocess(dataset_id: int, configuration: str = CONFIGURATION,
                        num_processes: int = 1, check_integrity: bool = False) -> str:
    """nnU-Net's fingerprint, plans and preprocessing of one configuration (needs the env).

    nnU-Net runs each step in a pool of spawned processes (even for ``num_processes=1``), so
    call this under ``if __name__ == '__main__':`` in a script. ``check_integrity`` adds
    nnU-Net's own dataset check (another pool); :mod:`.convert` has already checked shapes,
    spacing and labels. nnU-Net's planner sets torch's thread count to ``nnUNet_n_proc_DA``:
    leave it unset or positive here (``0``, which keeps training's augmentation in the main
    process, makes planning fail).

    The dataset's ``splits_final.json`` (written by :mod:`.convert`, our patient split) is
    copied next to the preprocessed data, where nnU-Net's ``do_split`` reads fold 0 from it.

    Returns:
        str: The plans file.
    """
    from nnunetv2.experiment_planning.plan_and_preprocess_api import (
        extract_fingerprints, plan_experiments, preprocess)
    from nnunetv2.paths import nnUNet_preprocessed, nnUNet_raw
    extract_fingerprints([dataset_id], num_processes=num_processes,
                         check_dataset_integrity=check_integrity, verbose=False,
                         show_progress_bar=False)
    plans_id = plan_experiments([dataset_id])
    preprocess([dataset_id], plans_id, configurations=(configuration, ),
               num_processes=(num_processes, ), verbose=False)
    name = dataset_name(dataset_id)
    splits = osp.join(str(nnUNet_raw), name, 'splits_final.json')
    if osp.isfile(splits):
        shutil.copyfile(splits, osp.join(str(nnUNet_preprocessed), name, 'splits_final.json'))
    return osp.join(str(nnUNet_preprocessed), name, f'{plans_id}.json')


def load_json(path: str) -> dict:
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def plans_identity(plans: dict, configuration: str = CONFIGURATION) -> Dict[str, object]:
    """What a pretrained network must share with its target: architecture, patch size,
    spacing, normalisation and the plans' identity (dataset, plans name), plus a digest."""
    conf = _configuration(plans, configuration)
    ident = dict(dataset_name=plans['dataset_name'], plans_name=plans['plans_name'],
                 configuration=configuration,
                 architecture=json.dumps(conf.network_arch_class_name),
                 architecture_kwargs=json.dumps(conf.network_arch_init_kwargs, sort_keys=True),
                 patch_size=list(conf.patch_size), spacing=[float(s) for s in conf.spacing],
                 normalization=list(conf.normalization_schemes))
    ident['digest'] = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()
    return ident


def _configuration(plans: dict, configuration: str):
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager
    return PlansManager(plans).get_configuration(configuration)


def build_network(plans: dict, dataset_json: dict, configuration: str = CONFIGURATION,
                  num_outputs: Optional[int] = None, deep_supervision: bool = True):
    """The network nnU-Net builds for these plans (``nnUNetTrainer.build_network_architecture``).

    Args:
        plans (dict): nnU-Net plans.
        dataset_json (dict): The dataset's ``dataset.json``.
        configuration (str): Plans configuration. Defaults to '3d_fullres'.
        num_outputs (int, optional): Output channels; None: the segmentation heads nnU-Net
            uses for this dataset (the fine-tuning target). Defaults to None.
        deep_supervision (bool): As nnU-Net trains (True) or off (restoration).
    """
    from nnunetv2.utilities.get_network_from_plans import get_network_from_plans
    from nnunetv2.utilities.label_handling.label_handling import determine_num_input_channels
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager
    manager = PlansManager(plans)
    conf = manager.get_configuration(configuration)
    if num_outputs is None:
        num_outputs = manager.get_label_manager(dataset_json).num_segmentation_heads
    return get_network_from_plans(
        conf.network_arch_class_name, conf.network_arch_init_kwargs,
        conf.network_arch_init_kwargs_req_import,
        determine_num_input_channels(manager, conf, dataset_json), num_outputs,
        allow_init=True, deep_supervision=deep_supervision)


def strip_prefixes(state_dict: dict) -> dict:
    """Keys without the ``module.`` (DDP) and ``_orig_mod.`` (torch.compile) prefixes."""
    out = {}
    for key, value in state_dict.items():
        changed = True
        while changed:
            changed = False
            for prefix in PREFIXES:
                if key.startswith(prefix):
                    key, changed = key[len(prefix):], True
        key = key.replace('._orig_mod.', '.')
        out[key] = value
    return out


def verify_weights(state_dict: dict, target, where: str = '<weights>') -> List[str]:
    """Check ``state_dict`` against ``target`` (a freshly built nnU-Net network) as nnU-Net's
    ``load_pretrained_weights`` asserts: every target key outside ``.seg_layers.`` exists with
    the same shape.

    Returns:
        list[str]: The keys that nnU-Net will load.

    Raises:
        ValueError: naming every missing key and every shape mismatch (and ``where``).
    """
    expected = target.state_dict()
    missing, shapes, loaded = [], [], []
    for key, value in expected.items():
        if SEG_LAYERS in key:
            continue
        if key not in state_dict:
            missing.append(key)
        elif tuple(state_dict[key].shape) != tuple(value.shape):
            shapes.append(f'{key}: {tuple(state_dict[key].shape)} vs the target\'s '
                          f'{tuple(value.shape)}')
        else:
            loaded.append(key)
    if missing or shapes:
        raise ValueError(f'{where}: the weights do not fit the nnU-Net network of these plans: '
                         f'{len(missing)} keys missing {missing[:8]}, {len(shapes)} shapes '
                         f'differ {shapes[:8]}')
    return loaded


def save_pretrained(network, path: str, plans: dict, dataset_json: dict,
                    configuration: str = CONFIGURATION, extra: Optional[dict] = None) -> str:
    """Write ``network``'s weights as nnU-Net's ``-pretrained_weights`` expects, verified.

    The state dict (prefixes stripped) is verified against a freshly built fine-tuning
    network of ``plans`` before anything is written; the plans' identity goes along
    (``mmssl_us``) for :func:`load_pretrained`. Written atomically.
    """
    from ..fileio import atomic_save
    state = {k: v.detach().cpu().clone() for k, v in strip_prefixes(network.state_dict()).items()}
    verify_weights(state, build_network(plans, dataset_json, configuration), path)
    meta = dict(plans=plans_identity(plans, configuration), **(extra or {}))
    atomic_save({'network_weights': state, 'mmssl_us': meta}, path)
    return path


def load_pretrained(path: str, plans: dict, dataset_json: dict,
                    configuration: str = CONFIGURATION) -> dict:
    """Load a hand-off file safely (tensors and plain containers only) and check it fits.

    Raises:
        ValueError: built for other plans (naming what differs), or keys/shapes that do not
            fit (naming them).
    """
    from ..checkpoint import safe_load
    ckpt = safe_load(path, map_location='cpu')
    if not isinstance(ckpt, dict) or 'network_weights' not in ckpt:
        raise ValueError(f'{path}: not an nnU-Net weights file (no "network_weights")')
    built_for = (ckpt.get('mmssl_us') or {}).get('plans')
    if built_for is not None:
        wanted = plans_identity(plans, configuration)
        diff = [k for k in wanted if k != 'digest' and built_for.get(k) != wanted[k]]
        if diff:
            raise ValueError(f'{path} was built for other plans: ' + '; '.join(
                f'{k}: {built_for.get(k)!r} vs {wanted[k]!r}' for k in diff))
    verify_weights(ckpt['network_weights'], build_network(plans, dataset_json, configuration),
                   path)
    return ckpt
