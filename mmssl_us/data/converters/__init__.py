"""Converters of public ultrasound segmentation datasets to the mmssl_us folder layout.

``<out>/images/{train,val,test}/<name>.png`` (grey) and ``<out>/masks/{train,val,test}/<name>.png``
(uint8 labels). They depend on numpy, OpenCV and (for NIfTI) nibabel only, so they run without
mmseg or torch; the command-line wrappers are in ``tools/dataset_converters/``.
"""
from .camus import convert_camus, find_camus_files, read_official_split
from .echonet import convert_echonet, read_file_list, read_frames, read_tracings, trace_to_mask
from .hc18 import convert_hc18, fill_head_annotation
from .medical_io import read_image_2d, read_mhd, read_mhd_header, read_nifti

__all__ = ['convert_camus', 'find_camus_files', 'read_official_split', 'convert_echonet',
           'read_file_list', 'read_frames', 'read_tracings', 'trace_to_mask', 'convert_hc18',
           'fill_head_annotation', 'read_image_2d', 'read_mhd', 'read_mhd_header', 'read_nifti']
