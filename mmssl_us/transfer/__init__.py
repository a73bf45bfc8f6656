"""The transfer step: pretraining checkpoint -> verified backbone file for a named host.

Extract the online encoder (``backbone.*``), rename its keys for the target host (mmseg, mmdet
or mmpretrain), describe the architecture, verify (keys, tensors, and outputs on a fixed input)
and save with meta. Backbone families and hosts are :mod:`adapters <mmssl_us.transfer.adapters>`
chosen by family and host. The one key/shape comparison of the package, :func:`compare_keys`
(a :class:`KeyReport`), is also what ``VerifiedPretrained`` (:mod:`mmssl_us.transfer.init`,
host-free, for every host) and the t-SNE loader use.

Imports torch only; a host (mmseg, mmdet, mmpretrain) is imported when a verification builds
its backbone. Command line: ``python -m mmssl_us.transfer SRC [DST] --target mmdet --verify``.
"""
from .adapters import (ADAPTERS, HOSTS, BackboneAdapter, find_adapter, get_adapter,
                       parse_backbone_request, register_adapter)
from .cli import main
from .convert import convert_checkpoint, resolve_source
from .keys import (KeyReport, compare_keys, describe_resnet, extract_backbone,
                   mmpretrain_to_mmseg_resnet, resnet_key_hint, unwrap_state_dict)
from .verify import compare_outputs, load_and_verify, verify_backbone

__all__ = [
    'ADAPTERS', 'HOSTS', 'BackboneAdapter', 'find_adapter', 'get_adapter',
    'parse_backbone_request', 'register_adapter', 'main',
    'convert_checkpoint', 'resolve_source', 'KeyReport', 'compare_keys', 'describe_resnet',
    'extract_backbone', 'mmpretrain_to_mmseg_resnet', 'resnet_key_hint', 'unwrap_state_dict',
    'compare_outputs',
    'load_and_verify', 'verify_backbone'
]
