"""Hooks and weight initializers for the segmentation side."""
from .label_fraction_hook import LabelFractionHook, format_records, fraction_records
from .verified_init import CheckpointKeyError, VerifiedPretrainedInit, extract_state_dict

__all__ = ['LabelFractionHook', 'fraction_records', 'format_records', 'VerifiedPretrainedInit',
           'CheckpointKeyError', 'extract_state_dict']
