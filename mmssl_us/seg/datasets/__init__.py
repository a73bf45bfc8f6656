"""Ultrasound segmentation datasets registered into mmseg's DATASETS."""
from .base import UltrasoundSegDataset
from .camus import CAMUSDataset
from .checks import check_pairs
from .echonet import EchoNetDynamicDataset
from .folder import UltrasoundFolderDataset
from .hc18 import HC18Dataset, read_pixel_sizes
from .knee import KneeRecessDataset

__all__ = ['UltrasoundSegDataset', 'KneeRecessDataset', 'EchoNetDynamicDataset',
           'CAMUSDataset', 'HC18Dataset', 'UltrasoundFolderDataset', 'check_pairs',
           'read_pixel_sizes']
