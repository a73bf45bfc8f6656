"""The one image-reading rule, as loading transforms for pretraining and fine-tuning alike.

Registered in mmengine's root ``TRANSFORMS``, so mmpretrain's and mmseg's pipelines find them
by name. ``LoadUltrasoundFrame`` reads what every mmssl_us pipeline feeds a model: an image
file, one frame of a video, or an array already decoded (a video frame given to inference),
through :func:`mmssl_us.data.media.to_grey_uint8`: pixels as stored (no EXIF rotation),
colour to grey with BT.601 luma, values scaled from the file's bit depth. The fine-tuning
dataset configs (``configs/_base_/datasets/``) and the pretraining pools use it, so a colour
export (an overlay) or a JPEG reaches a fine-tuned model exactly as it reached its pretraining.
"""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.registry import TRANSFORMS

from ..data.media import read_image, read_video_frame, to_grey_uint8
from ..validate import check_choice, check_int

__all__ = ['LoadUltrasoundFrame', 'RepeatGreyChannels']


@TRANSFORMS.register_module()
class LoadUltrasoundFrame(BaseTransform):
    """Decode an image file or a video frame into a grey image with ``channels`` channels.

    The frame is decoded when the sample is loaded, not when the data set is listed, so a
    data set of videos costs no memory up front. Colour images (e.g. exported with a coloured
    overlay) become grey; ``channels=3`` repeats the grey plane, which is what an ImageNet-shaped
    backbone (and mmseg's default 3-channel input) expects. A sample that already holds an
    ``img`` array and no ``img_path`` (a decoded video frame, BGR or grey) is converted by the
    same rule.

    Required Keys:

    - img_path, or img (a decoded HxW / HxWxC array)
    - frame_index (optional): index of the frame in the video ``img_path``; absent or None
      for an image file.

    Added Keys:

    - img (HxW uint8 for ``channels=1``, HxWx3 uint8 for ``channels=3``)
    - img_shape
    - ori_shape

    Bit depth: values are scaled from the file's depth (its dtype: 8 or 16 bits), never from
    the image's maximum; a 16-bit PNG holding 12-bit data needs ``bit_depth=12`` to span 0-255
    (:func:`mmssl_us.data.media.to_grey_uint8`).

    Args:
        channels (int): 1 or 3. Defaults to 3.
        bit_depth (int, optional): The depth the files' values use, declared by the user
            (e.g. 12 for 12-bit data in 16-bit PNGs). Defaults to None: the file's dtype.
    """

    def __init__(self, channels: int = 3, bit_depth: Optional[int] = None) -> None:
        self.channels = check_choice('channels', channels, (1, 3))
        if bit_depth is not None:
            check_int('bit_depth', bit_depth, low=1, high=16)
        self.bit_depth = bit_depth

    def transform(self, results: dict) -> dict:
        path = results.get('img_path')
        index: Optional[int] = results.get('frame_index')
        if path is None and isinstance(results.get('img'), np.ndarray):
            raw, source = results['img'], 'the given array'
        elif index is None:
            raw, source = read_image(path), path
        else:
            raw, source = read_video_frame(path, int(index)), f'{path} (frame {index})'
        grey = to_grey_uint8(raw, source, self.bit_depth)
        if self.channels == 3:
            grey = np.repeat(grey[:, :, None], 3, axis=2)
        results['img'] = grey
        results['img_shape'] = grey.shape[:2]
        results['ori_shape'] = grey.shape[:2]
        return results

    def __repr__(self) -> str:
        depth = '' if self.bit_depth is None else f', bit_depth={self.bit_depth}'
        return f'{self.__class__.__name__}(channels={self.channels}{depth})'


@TRANSFORMS.register_module()
class RepeatGreyChannels(BaseTransform):
    """Repeat a grey image into ``channels`` identical channels (e.g. at the end of a view).

    Augmenting one grey plane and repeating it afterwards costs a third of augmenting three
    identical planes. An image that already has ``channels`` channels is left as it is.

    Required Keys:

    - img (HxW or HxWx1 uint8/float)

    Modified Keys:

    - img (HxWxC)

    Args:
        channels (int): Number of output channels (>= 1). Defaults to 3.
    """

    def __init__(self, channels: int = 3) -> None:
        self.channels = check_int('channels', channels, low=1)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 3 and img.shape[2] == self.channels:
            return results
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[:, :, 0]
        if img.ndim != 2:
            raise ValueError(f'RepeatGreyChannels needs a grey HxW or HxWx1 image, got shape '
                             f'{img.shape} ({results.get("img_path", "unknown file")})')
        results['img'] = np.repeat(img[:, :, None], self.channels, axis=2)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(channels={self.channels})'
