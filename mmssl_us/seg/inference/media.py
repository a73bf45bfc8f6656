"""The inputs of inference: images and videos under a folder, each checked before the model runs."""
from __future__ import annotations

import os
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional

from ...data.media import (CONVERT_COMMAND, CONVERTIBLE_SUFFIXES, IMAGE_SUFFIXES,
                                 VIDEO_SUFFIXES, check_unread_files, count_video_frames, file_kind,
                                 sample_frame_indices, scan_media)
from ...validate import check_int

from ..datasets.checks import image_size

__all__ = ['MediaItem', 'list_inputs']


@dataclass
class MediaItem:
    """One input: an image, or a video with the frame indices to segment."""
    path: str
    rel_stem: str
    is_video: bool = False
    frames: List[int] = field(default_factory=list)
    error: Optional[str] = None


def list_inputs(src: str, out_dir: Optional[str] = None, frame_step: int = 1,
                skip_bad: bool = False) -> List[MediaItem]:
    """The images and videos to segment, each checked (header, bit depth, frame count).

    Args:
        src (str): A folder (images and videos at any depth), an image or a video.
        out_dir (str, optional): The output folder; files under it are left out (a rerun with
            OUT inside INPUT does not segment its own overlays). Defaults to None.
        frame_step (int): Segment every ``frame_step``-th frame of a video. Defaults to 1.
        skip_bad (bool): Keep a bad file as an item with ``error`` set instead of raising.
            Defaults to False.

    Returns:
        list[MediaItem]: Sorted images, then videos.

    Raises:
        FileNotFoundError: ``src`` does not exist.
        ValueError: No media found, an unsupported suffix, two inputs that would write the same
            mask, or (without ``skip_bad``) a bad file, named.
    """
    frame_step = check_int('frame_step', frame_step, low=1)
    if osp.isdir(src):
        note = check_unread_files(src, IMAGE_SUFFIXES + VIDEO_SUFFIXES, exclude=out_dir)
        if note:
            print(note)
        images, videos = scan_media(src)
        if out_dir is not None:
            inside = osp.abspath(out_dir) + os.sep
            images = [p for p in images if not osp.abspath(p).startswith(inside)]
            videos = [p for p in videos if not osp.abspath(p).startswith(inside)]
        root = src
        if not images and not videos:
            raise ValueError(f'no images ({", ".join(IMAGE_SUFFIXES)}) or videos '
                             f'({", ".join(VIDEO_SUFFIXES)}) found under {src}')
    elif osp.isfile(src):
        suffix = osp.splitext(src)[1].lower()
        if suffix in IMAGE_SUFFIXES:
            images, videos = [src], []
        elif suffix in VIDEO_SUFFIXES:
            images, videos = [], [src]
        elif file_kind(src) in CONVERTIBLE_SUFFIXES:
            raise ValueError(f'{src} is a medical image that the tools do not read: convert it '
                             f'to 8-bit PNG first: {CONVERT_COMMAND}')
        else:
            raise ValueError(f'{src}: not an image ({", ".join(IMAGE_SUFFIXES)}) or a video '
                             f'({", ".join(VIDEO_SUFFIXES)})')
        root = osp.dirname(src)
    else:
        raise FileNotFoundError(f'input not found: {src}')

    items, seen = [], {}
    for path, is_video in [(p, False) for p in images] + [(p, True) for p in videos]:
        rel_stem = osp.splitext(osp.relpath(path, root))[0]
        key = (rel_stem, is_video)
        if key in seen:
            raise ValueError(f'{seen[key]} and {path} would both write masks/{rel_stem}'
                             f'{"/" if is_video else ".png"}: rename one of them')
        seen[key] = path
        item = MediaItem(path, rel_stem, is_video)
        try:
            if is_video:
                item.frames = sample_frame_indices(count_video_frames(path), frame_step)
            else:
                image_size(path)  # header only: not an image, or > 8 bits, is named here
        except ValueError as exc:
            if not skip_bad:
                raise ValueError(f'{exc} (pass --skip-bad to leave bad files out)') from None
            item.error = str(exc)
        items.append(item)
    return items
