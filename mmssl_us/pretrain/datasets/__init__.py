"""Unlabelled ultrasound data for pretraining (registered into mmpretrain)."""
from .exclusion import ExclusionIndex
from .loading import LoadUltrasoundFrame, RepeatGreyChannels, to_grey_uint8
from .media import (IMAGE_SUFFIXES, VIDEO_SUFFIXES, count_video_frames, file_md5, read_image,
                    read_video_frame, sample_frame_indices, scan_media)
from .unlabelled import UltrasoundUnlabelledDataset

__all__ = [
    'ExclusionIndex', 'LoadUltrasoundFrame', 'RepeatGreyChannels', 'UltrasoundUnlabelledDataset',
    'IMAGE_SUFFIXES', 'VIDEO_SUFFIXES', 'count_video_frames', 'file_md5', 'read_image',
    'read_video_frame', 'sample_frame_indices', 'scan_media', 'to_grey_uint8'
]
