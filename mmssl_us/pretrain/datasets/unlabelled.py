"""Unlabelled ultrasound for self-supervised pretraining: image folders and video frames."""
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmengine.logging import MMLogger
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from ...data.exclusion import NEAR_DUPLICATE_BITS, ExclusionIndex
from ...data.index import default_index
from ...data.media import (IMAGE_SUFFIXES, VIDEO_SUFFIXES, check_video_decodes,
                                 count_video_frames,
                                 norm_suffixes, sample_frame_indices, scan_media)
from ...data.splits import check_patient_rule, patient_id
from ...validate import check_int


def _check_decodes(path: str) -> None:
    """Decode ``path`` fully (PIL finds truncated files that OpenCV half-decodes in silence),
    once per version of the file (:class:`mmssl_us.data.index.FileIndex`)."""
    default_index().check_decodes(path, 'image in the pretraining pool')


@DATASETS.register_module()
class UltrasoundUnlabelledDataset(BaseDataset):
    """Every image and sampled video frame under a folder, minus the excluded evaluation files.

    ``data_root/data_prefix`` is searched at any depth for images (png/jpg/jpeg/bmp/tif/tiff)
    and videos (avi/mp4). A video contributes the frames chosen by ``frame_step`` (every k-th)
    or ``frames_per_video`` (n spread evenly); each sample stores ``img_path`` and
    ``frame_index`` (None for an image), and the frame is decoded only when it is loaded, by
    ``LoadUltrasoundFrame`` in the pipeline. Files matched by ``exclude`` are left out (see
    :class:`~mmssl_us.data.exclusion.ExclusionIndex`): by stem, by patient (any file whose
    name carries the patient of an excluded file: other frames of a test patient, a video
    ``P07.avi`` / ``P07_clip2.mp4`` of test patient ``P07``), and images also by md5 (renamed
    copies) and by content (resized or re-encoded copies). How many were found and excluded,
    per reason, is logged with the current MMLogger and kept in :attr:`stats`. There are no
    labels.

    Args:
        data_root (str): Root folder; relative ``data_prefix`` and ``exclude`` entries are joined
            to it. Defaults to ''.
        data_prefix (str | dict): Folder of the unlabelled pool under ``data_root`` (or
            ``dict(img_path=...)``). Defaults to ''.
        exclude (Sequence[str]): Folders, files and ``.txt`` lists never to use (and whose
            patients never to use). Defaults to ().
        patient_rule (str): How pool file names carry a patient id: 'prefix' (the stem up to
            the first ``_``, the documented rule), 'stem' (the whole stem) or 'none' (the
            names carry no patient of this dataset: no exclusion by patient). Names that
            :func:`~mmssl_us.data.pool.build_pool` gives extra folders
            (``extra_<folder>/<sub>__<file>``) are read the same way, so their id is the
            prefix of the first sub-folder, or of the file when there is none: use 'none' when
            such names could collide with this dataset's patients by accident. Defaults to
            'prefix'.
        near_bits (int): Bits of the 256-bit difference hash within which a pool image is a
            copy of an excluded one. Defaults to NEAR_DUPLICATE_BITS (24).
        frame_step (int, optional): Take every k-th video frame. Defaults to None, which means 1
            unless ``frames_per_video`` is given.
        frames_per_video (int, optional): Take n frames per video, evenly spread.
            Defaults to None.
        image_suffixes (Sequence[str]): Image suffixes. Defaults to IMAGE_SUFFIXES.
        video_suffixes (Sequence[str]): Video suffixes. Defaults to VIDEO_SUFFIXES.
        pipeline (Sequence[dict]): Transforms, starting with ``LoadUltrasoundFrame``.
            Defaults to ().
        check_decode (bool): Decode every pool image once when the dataset is built, so that
            a corrupt file stops the run now, named, not in the middle of an epoch (about 5 ms
            an image). Defaults to True.
        clip_pairs (int, optional): Positive pairs from two frames of one clip (USCL, MICCAI
            2021; :mod:`.clip_pair`): each video sample records its clip's frame count and
            this largest distance (in frames) between the two frames of a pair, and each image
            sample the other pool images of its patient (by ``patient_rule``; none for
            'none'), for ``LoadClipPair`` and ``ClipPairMultiView`` in the pipeline. A
            distance below 1, or above the frame count of the longest clip in the pool, is
            refused. Defaults to None (no pairs: the stock two views of one frame).
        **kwargs: Passed to mmpretrain's ``BaseDataset`` (``indices``, ``serialize_data``, ...).
    """

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Union[str, dict] = '',
                 exclude: Sequence[str] = (),
                 patient_rule: str = 'prefix',
                 near_bits: int = NEAR_DUPLICATE_BITS,
                 frame_step: Optional[int] = None,
                 frames_per_video: Optional[int] = None,
                 image_suffixes: Sequence[str] = IMAGE_SUFFIXES,
                 video_suffixes: Sequence[str] = VIDEO_SUFFIXES,
                 pipeline: Sequence = (),
                 check_decode: bool = True,
                 clip_pairs: Optional[int] = None,
                 **kwargs) -> None:
        if clip_pairs is not None:
            check_int('clip_pairs (the largest frame distance of a pair)', clip_pairs, low=1)
        self.clip_pairs = clip_pairs
        if frame_step is None and frames_per_video is None:
            frame_step = 1
        sample_frame_indices(1, frame_step, frames_per_video)  # validates both arguments
        if isinstance(exclude, str):
            exclude = [exclude]
        self.exclude = list(exclude)
        self.patient_rule = check_patient_rule(patient_rule)
        self.near_bits = near_bits
        self.check_decode = bool(check_decode)
        self.frame_step = frame_step
        self.frames_per_video = frames_per_video
        self.image_suffixes = norm_suffixes(image_suffixes, 'image_suffixes')
        self.video_suffixes = norm_suffixes(video_suffixes, 'video_suffixes')
        self.stats: dict = {}
        kwargs.setdefault('ann_file', '')
        super().__init__(data_root=data_root, data_prefix=data_prefix, pipeline=pipeline,
                         **kwargs)

    def _missing_folder_message(self, folder: str) -> str:
        root = self.data_root or osp.dirname(folder.rstrip('/\\')) or '.'
        return (
            f'unlabelled data folder not found: {folder}\n'
            f'Put the unlabelled ultrasound there: images (png/jpg/bmp/tif) and/or videos '
            f'(avi/mp4), in sub-folders of any depth. The knee layout (docs/CONTRACTS.md) is\n'
            f'  {root}/unlabelled/            pretraining pool\n'
            f'  {root}/images/{{train,val,test}}/<patient>_<frame>.png  (test is excluded)\n'
            f'  {root}/masks/{{train,val,test}}/<patient>_<frame>.png\n'
            f'or generate the synthetic default data with\n'
            f'  python tools/generate_synthetic.py --out {root}\n'
            f'or point the config elsewhere with --cfg-options '
            f'train_dataloader.dataset.data_root=<folder>')

    def load_data_list(self) -> List[dict]:
        """List the samples: images first, then video frames, each in sorted path order."""
        folder = self.img_prefix
        if not osp.isdir(folder):
            raise FileNotFoundError(self._missing_folder_message(folder))
        images, videos = scan_media(folder, self.image_suffixes, self.video_suffixes)
        excluded = ExclusionIndex.from_sources(self.exclude, self.data_root,
                                               self.image_suffixes, self.video_suffixes,
                                               patient_rule=self.patient_rule,
                                               near_bits=self.near_bits)
        stats = dict(images_found=len(images), videos_found=len(videos), excluded_by_stem=0,
                     excluded_by_patient=0, excluded_by_md5=0, excluded_by_content=0,
                     videos_excluded=0, videos_excluded_by_stem=0,
                     videos_excluded_by_patient=0, video_frames=0)
        data_list = []
        for path in images:
            why = excluded.match(path, is_video=False)
            if why is None:
                if self.check_decode:
                    _check_decodes(path)
                data_list.append(dict(img_path=path, frame_index=None))
            else:
                stats[f'excluded_by_{why}'] += 1
        for path in videos:
            why = excluded.match(path, is_video=True)
            if why is not None:
                stats['videos_excluded'] += 1
                stats[f'videos_excluded_by_{why}'] += 1
                continue
            # first, middle and last frame decoded now, like the pool images
            count = check_video_decodes(path) if self.check_decode else count_video_frames(path)
            frames = sample_frame_indices(count, self.frame_step,
                                          self.frames_per_video)
            stats['video_frames'] += len(frames)
            pair = {} if self.clip_pairs is None else dict(clip_frames=count,
                                                           pair_distance=self.clip_pairs)
            data_list.extend(dict(img_path=path, frame_index=i, **pair) for i in frames)
        if self.clip_pairs is not None:
            self._add_pairs(data_list, folder)
        stats['samples'] = len(data_list)
        self.stats = stats
        default_index().save()  # the hashes and decode checks, for the next process
        MMLogger.get_current_instance().info(
            f'{type(self).__name__}: {folder}: found {stats["images_found"]} images and '
            f'{stats["videos_found"]} videos; excluded {stats["excluded_by_stem"]} images by '
            f'stem, {stats["excluded_by_patient"]} by patient (other frames of an evaluation '
            f'patient), {stats["excluded_by_md5"]} by md5 (renamed copies), '
            f'{stats["excluded_by_content"]} by content (resized or re-encoded copies) and '
            f'{stats["videos_excluded"]} videos ({stats["videos_excluded_by_stem"]} by stem, '
            f'{stats["videos_excluded_by_patient"]} by patient), using '
            f'{len(excluded.stems)} excluded stems of {len(excluded.patients)} patients '
            f'(patient_rule={self.patient_rule!r}) from {self.exclude}; '
            f'{stats["video_frames"]} video frames sampled; {stats["samples"]} samples')
        if not data_list:
            what = ('every image and video found there is excluded'
                    if images or videos else
                    f'no images ({"/".join(self.image_suffixes)}) or videos '
                    f'({"/".join(self.video_suffixes)}) found')
            raise ValueError(f'no pretraining samples in {folder}: {what}')
        return data_list

    def _add_pairs(self, data_list: List[dict], folder: str) -> None:
        """Clip-pair information (see ``clip_pairs``); refuse a distance longer than any clip."""
        clips = {d['img_path']: d['clip_frames'] for d in data_list if 'clip_frames' in d}
        if clips:
            longest = max(clips, key=clips.get)
            if self.clip_pairs > clips[longest]:
                raise ValueError(
                    f'clip_pairs={self.clip_pairs}: the largest frame distance of a pair is '
                    f'more than the longest clip in {folder} ({longest}: {clips[longest]} '
                    f'frames); use at most {clips[longest]}')
        by_patient: dict = {}
        images = [d for d in data_list if d['frame_index'] is None]
        for d in images:
            pid = patient_id(d['img_path'], self.patient_rule)
            if pid is not None:
                by_patient.setdefault(pid, []).append(d['img_path'])
        for d in images:
            pid = patient_id(d['img_path'], self.patient_rule)
            d.update(pair_distance=self.clip_pairs, clip_frames=1,
                     pair_paths=[p for p in by_patient.get(pid, []) if p != d['img_path']])

    def extra_repr(self) -> List[str]:
        return [f'Folder: \t{self.img_prefix}', f'Excluded: \t{self.exclude}',
                f'Patient rule: \t{self.patient_rule}',
                f'Frame sampling: \tframe_step={self.frame_step}, '
                f'frames_per_video={self.frames_per_video}',
                f'Clip pairs: \t{self.clip_pairs}']
