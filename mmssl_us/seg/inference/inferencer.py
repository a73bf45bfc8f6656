"""The model side of inference: mmseg's ``MMSegInferencer`` with our loading and pipeline rules.

:class:`SegInferencer` subclasses :class:`mmseg.apis.MMSegInferencer` and changes what it must:

* weights: the checkpoint is read with :func:`mmssl_us.checkpoint.safe_load` (no arbitrary
  unpickling), checked against the model (:func:`mmssl_us.checkpoint.check_checkpoint_fits`) and
  loaded strictly (``partial_load`` relaxes both);
* pipeline: the config's own test pipeline (``test_pipeline`` or the test dataset's), without
  ``LoadAnnotations``, with pixels as stored (:func:`mmssl_us.seg.datasets.checks.stored_orientation`);
  any loading transform works for files; video frames go through ``LoadUltrasoundFrame`` as
  files do (the shipped configs' loader), and mmseg's ``LoadImageFromNDArray`` stands in for
  ``LoadImageFromFile`` in a config that uses mmcv's loader;
* classes and palette: the checkpoint's ``dataset_meta``, else the config's test dataset, else the
  palette mmseg draws for a dataset without one (not Cityscapes');
* forward passes: :meth:`SegInferencer.predict_files` / :meth:`SegInferencer.predict_arrays`
  run up to ``batch_size`` inputs per ``model.test_step`` (inputs whose pipeline output differs
  in size go in separate passes, as mmseg's test-time pre-processor requires one size per batch).
"""
from __future__ import annotations

import copy
import os.path as osp
from datetime import datetime
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmseg.apis import MMSegInferencer

from ...validate import check_choice, check_int

from ..datasets.checks import stored_orientation

__all__ = ['SegInferencer', 'default_palette']

#: loading transforms whose output a video frame can stand in for
_FILE_LOADERS = ('LoadImageFromFile', 'mmcv.LoadImageFromFile', 'mmseg.LoadImageFromFile')
#: the one reading rule (mmssl_us.transforms.loading), which takes a decoded frame as it is
_READING_RULE = ('LoadUltrasoundFrame', )


def default_palette(num_classes: int) -> List[List[int]]:
    """The palette mmseg gives a dataset without one (``BaseSegDataset._update_palette``):
    random RGB colours drawn with numpy's global generator seeded with 42, state restored."""
    state = np.random.get_state()
    np.random.seed(42)
    palette = np.random.randint(0, 255, size=(num_classes, 3)).tolist()
    np.random.set_state(state)
    return palette


def dataset_cfg(cfg) -> dict:
    """The test (else validation) dataset config of ``cfg``; ``{}`` when it has neither."""
    for key in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(key) or {}
        dataset = loader.get('dataset') if hasattr(loader, 'get') else None
        if dataset:
            return dataset
    return {}


def _test_pipeline(cfg, config_name: str) -> List[dict]:
    pipeline = cfg.get('test_pipeline') or dataset_cfg(cfg).get('pipeline')
    if not pipeline:
        raise ValueError(f'{config_name} has no test_pipeline (nor test_dataloader.dataset.'
                         'pipeline): inference needs the pipeline the model was tested with')
    pipeline = [dict(t) for t in copy.deepcopy(list(pipeline))]
    return [t for t in pipeline if not str(t.get('type', '')).endswith('LoadAnnotations')]


def _device(device: Optional[str]) -> str:
    import torch
    if device is None:
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    base = device.split(':', 1)[0]
    check_choice('device', base, ['cpu', 'cuda'])
    if base == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'device {device!r}: this machine has no CUDA GPU (use --device cpu)')
    return device


def as_bgr(img: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 for drawing: grey repeated, alpha dropped, float clipped."""
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    if img.ndim == 2 or img.shape[2] == 1:
        return cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(img[..., :3])


class SegInferencer(MMSegInferencer):
    """A segmentor from a config and checkpoint, and its test pipeline, in batches.

    Args:
        config (str | mmengine.Config): Config file (ours or mmseg's) or a loaded config.
        checkpoint (str): Checkpoint of that config's model.
        device (str, optional): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``. Defaults to None: CUDA
            when available, else CPU.
        cfg_options (dict, optional): Dotted overrides merged into the config. Defaults to None.
        partial_load (bool): Load a checkpoint that fits the model only in part (the rest stays
            as initialised). Defaults to False: such a checkpoint is refused.
        batch_size (int): Most inputs per forward pass. Defaults to 8.

    Raises:
        FileNotFoundError: The config or checkpoint does not exist.
        ValueError: The checkpoint does not fit the model (counts and first keys named).
        mmssl_us.checkpoint.CorruptCheckpointError: The checkpoint cannot be read.
    """

    def __init__(self, config, checkpoint: str, device: Optional[str] = None,
                 cfg_options: Optional[dict] = None, partial_load: bool = False,
                 batch_size: int = 8) -> None:
        from mmengine.config import Config

        from ...checkpoint import install
        from ...config_utils import check_cfg_options
        install()
        self._name = config if isinstance(config, str) else '<config>'
        if isinstance(config, str):
            if not osp.isfile(config):
                raise FileNotFoundError(f'config file not found: {config}')
            cfg = Config.fromfile(config)
        else:
            cfg = copy.deepcopy(config)
        if cfg_options:
            check_cfg_options(cfg, cfg_options)  # a typo in a key is named, not ignored
            cfg.merge_from_dict(cfg_options)
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
        self.batch_size = check_int('batch_size', batch_size, low=1)
        self._partial_load = partial_load
        self.checkpoint = checkpoint
        super().__init__(cfg, weights=checkpoint, device=_device(device),
                         scope=cfg.get('default_scope', 'mmseg') or 'mmseg')
        self.device = str(next(self.model.parameters()).device)
        self.num_classes = int(self.model.decode_head.num_classes)
        self.dataset_type = str(dataset_cfg(self.cfg).get('type', ''))
        self.classes = tuple(self.model.dataset_meta['classes'])
        self.palette = [list(c) for c in self.model.dataset_meta['palette']]

    # --- MMSegInferencer / BaseInferencer hooks -------------------------------------------

    def _init_model(self, cfg, weights: Optional[str], device: str = 'cpu'):
        """Build the model as ``mmseg.apis.init_model`` does; load weights safely and strictly."""
        from mmengine.model import revert_sync_batchnorm
        from mmengine.runner.checkpoint import _load_checkpoint_to_model
        from mmseg.registry import MODELS

        from ...checkpoint import safe_load
        from ...checkpoint import check_checkpoint_fits
        cfg.model.pretrained = None  # as init_model: no download of ImageNet weights
        cfg.model.train_cfg = None
        init_cfg = cfg.model.get('backbone', {}).get('init_cfg')
        if init_cfg is not None:
            cfg.model.backbone.init_cfg = None  # the checkpoint replaces every weight
        model = MODELS.build(cfg.model)
        model.cfg = cfg
        # SyncBN needs a process group; in eval it computes what BN computes
        model = revert_sync_batchnorm(model)
        if not self._partial_load:
            check_checkpoint_fits(model, weights)
        checkpoint = safe_load(weights, map_location='cpu')
        _load_checkpoint_to_model(model, checkpoint, strict=not self._partial_load,
                                  logger='silent')
        meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
        classes, palette = self._metainfo(cfg, model, (meta or {}).get('dataset_meta') or {})
        model.dataset_meta = dict(classes=classes, palette=palette)
        return model.to(device).eval()

    def _init_pipeline(self, cfg):
        """Our rules: the config's test pipeline, no annotations, pixels as stored."""
        from mmengine.dataset import Compose
        pipeline = stored_orientation(_test_pipeline(cfg, self._name))
        first = pipeline[0]
        self._loader_type = str(first.get('type'))
        self._grey = str(first.get('color_type', 'color')).startswith('grayscale')
        self.array_pipeline = None
        if self._loader_type in _READING_RULE:  # reads a decoded frame by the same rule
            self._grey = False
            self.array_pipeline = Compose(pipeline)
        elif self._loader_type in _FILE_LOADERS:
            self.array_pipeline = Compose(
                [dict(type='mmseg.LoadImageFromNDArray',
                      to_float32=bool(first.get('to_float32', False)))] + pipeline[1:])
        return Compose(pipeline)

    def _init_visualizer(self, cfg):
        """mmseg's visualizer without backends (inference writes its own files)."""
        from mmseg.visualization import SegLocalVisualizer
        name = f'mmssl_us-inference-{datetime.now().timestamp()}-{id(self)}'
        return SegLocalVisualizer.get_instance(name)

    @staticmethod
    def _metainfo(cfg, model, ckpt_meta: dict) -> Tuple[Tuple[str, ...], List[List[int]]]:
        """Classes and RGB palette: checkpoint meta, else the config's dataset, else generic."""
        num_classes = int(model.decode_head.num_classes)
        meta = dict(ckpt_meta)
        if not meta.get('classes') or not meta.get('palette'):
            dataset = dataset_cfg(cfg)
            from_cfg = dict(dataset.get('metainfo') or {})
            if dataset.get('type'):
                from mmseg.registry import DATASETS
                cls = DATASETS.get(dataset['type'])
                if cls is not None and hasattr(cls, 'METAINFO'):
                    from_cfg = {**dict(cls.METAINFO), **from_cfg}
            for key in ('classes', 'palette'):
                if not meta.get(key) and from_cfg.get(key):
                    meta[key] = from_cfg[key]
        classes = tuple(meta.get('classes') or ())
        if len(classes) != num_classes:
            classes = tuple(f'class{i}' for i in range(num_classes))
        palette = [list(map(int, c)) for c in (meta.get('palette') or [])]
        if len(palette) < num_classes:
            palette += default_palette(num_classes)[len(palette):]
        return classes, palette[:num_classes]

    # --- our batched prediction -----------------------------------------------------------

    def _prepare(self, pipeline, results: dict, what: str) -> Tuple[np.ndarray, dict]:
        """One input through the pipeline: the image the overlay shows and the model's input."""
        loader, rest = pipeline.transforms[0], pipeline.transforms[1:]
        try:
            results = loader(results)
        except Exception as exc:  # mmcv / cv2 name neither the file nor the cause plainly
            raise ValueError(f'cannot read {what}: {type(exc).__name__}: {exc}') from None
        if results is None or results.get('img') is None:
            raise ValueError(f'cannot read {what}: the loading transform returned nothing')
        shown = np.array(results['img'], copy=True)
        for transform in rest:
            results = transform(results)
        return shown, results

    def _predict(self, prepared: Sequence[Tuple[np.ndarray, dict]],
                 names: Sequence[str]) -> List[Tuple[np.ndarray, np.ndarray]]:
        """Forward prepared inputs, ``batch_size`` of one input size at a time."""
        import torch
        labels: Dict[int, np.ndarray] = {}
        by_size: Dict[tuple, List[int]] = {}
        for index, (_, data) in enumerate(prepared):
            by_size.setdefault(tuple(data['inputs'].shape), []).append(index)
        for indices in by_size.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start:start + self.batch_size]
                batch = self.collate_fn([prepared[i][1] for i in chunk])
                with torch.no_grad():
                    samples = self.model.test_step(batch)
                for i, sample in zip(chunk, samples):
                    labels[i] = sample.pred_sem_seg.data[0].cpu().numpy().astype(np.uint8)
        out = []
        for index, ((shown, _), name) in enumerate(zip(prepared, names)):
            label = labels[index]
            if label.shape != shown.shape[:2]:
                raise RuntimeError(f'the prediction for {name} is {label.shape} but the image '
                                   f'is {shown.shape[:2]} (HxW)')
            out.append((as_bgr(shown), label))
        return out

    def predict_files(self, paths: Sequence[str]) -> List[Tuple[np.ndarray, np.ndarray]]:
        """Segment image files, ``batch_size`` per forward pass.

        Returns:
            list[tuple[np.ndarray, np.ndarray]]: Per file, the loaded image as HxWx3 uint8 BGR
            (for the overlay) and the HxW uint8 label map at the image's size.

        Raises:
            ValueError: A file the loading transform cannot read, named.
        """
        names = [f'image {p}' for p in paths]
        prepared = [self._prepare(self.pipeline, dict(img_path=p), n)
                    for p, n in zip(paths, names)]
        return self._predict(prepared, names)

    def predict_file(self, path: str) -> Tuple[np.ndarray, np.ndarray]:
        """Segment one image file; see :meth:`predict_files`."""
        return self.predict_files([path])[0]

    def predict_arrays(self, frames: Sequence[np.ndarray], names: Sequence[str]
                       ) -> List[Tuple[np.ndarray, np.ndarray]]:
        """Segment decoded BGR frames (video frames); see :meth:`predict_files`."""
        if self.array_pipeline is None:
            raise ValueError(f'{names[0] if names else "frame"}: the config\'s test pipeline '
                             f'starts with {self._loader_type}, not LoadUltrasoundFrame or LoadImageFromFile: video '
                             'frames cannot be fed to it')
        prepared = []
        for frame, name in zip(frames, names):
            if self._grey and frame.ndim == 3:
                frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            prepared.append(self._prepare(self.array_pipeline, dict(img=frame), name))
        return self._predict(prepared, names)

    def predict_array(self, frame: np.ndarray, name: str = 'frame') -> Tuple[np.ndarray,
                                                                                 np.ndarray]:
        """Segment one decoded BGR frame; see :meth:`predict_arrays`."""
        return self.predict_arrays([frame], [name])[0]
