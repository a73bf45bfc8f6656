"""Load an ultrasound image file or one video frame as a grey image with the channels asked."""
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from ...validate import check_choice, check_int
from ...data.media import read_image, read_video_frame


def to_grey_uint8(img: np.ndarray, source: str) -> np.ndarray:
    """HxW uint8 grey image from a decoded grey / grey+alpha / BGR / BGRA, 8- or 16-bit image.

    Colour is converted with OpenCV's ITU-R BT.601 luma weights. A 16-bit container is read at
    the bit depth its values actually use (10, 12, 14 or 16 bits: the smallest that holds the
    image's maximum), mapped to 8 bits by ``round(v * 255 / (2**bits - 1))``: a 12-bit scanner
    export (0-4095) spans 0-255 instead of the near-black 0-16 that ``v / 257`` would give.

    Args:
        img (np.ndarray): The decoded image.
        source (str): The file (and frame) it came from, for error messages.
    """
    if img.dtype == np.uint16:
        peak = int(img.max()) if img.size else 0
        bits = next(b for b in (10, 12, 14, 16) if peak < 2 ** b)
        img = np.round(img.astype(np.float32) * (255.0 / (2 ** bits - 1))).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise ValueError(f'{source}: unsupported pixel type {img.dtype} (8- or 16-bit '
                         'integer images only)')
    if img.ndim == 2:
        return img
    if img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f'{source}: unsupported image shape {img.shape}')
    channels = img.shape[2]
    if channels in (1, 2):  # grey, grey + alpha
        return np.ascontiguousarray(img[:, :, 0])
    code = cv2.COLOR_BGR2GRAY if channels == 3 else cv2.COLOR_BGRA2GRAY
    return cv2.cvtColor(img, code)


@TRANSFORMS.register_module()
class LoadUltrasoundFrame(BaseTransform):
    """Decode an image file or a video frame into a grey image with ``channels`` channels.

    The frame is decoded when the sample is loaded, not when the data set is listed, so a
    data set of videos costs no memory up front. Colour images (e.g. exported with a coloured
    overlay) become grey; ``channels=3`` repeats the grey plane, which is what an ImageNet-shaped
    backbone (and mmseg's default 3-channel input) expects.

    Required Keys:

    - img_path
    - frame_index (optional): index of the frame in the video ``img_path``; absent or None
      for an image file.

    Added Keys:

    - img (HxW uint8 for ``channels=1``, HxWx3 uint8 for ``channels=3``)
    - img_shape
    - ori_shape

    Args:
        channels (int): 1 or 3. Defaults to 3.
    """

    def __init__(self, channels: int = 3) -> None:
        self.channels = check_choice('channels', channels, (1, 3))

    def transform(self, results: dict) -> dict:
        path = results['img_path']
        index: Optional[int] = results.get('frame_index')
        if index is None:
            raw, source = read_image(path), path
        else:
            raw, source = read_video_frame(path, int(index)), f'{path} (frame {index})'
        grey = to_grey_uint8(raw, source)
        if self.channels == 3:
            grey = np.repeat(grey[:, :, None], 3, axis=2)
        results['img'] = grey
        results['img_shape'] = grey.shape[:2]
        results['ori_shape'] = grey.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(channels={self.channels})'


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
