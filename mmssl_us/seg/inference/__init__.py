"""Segment a folder, an image or a video with a trained model: masks, overlays and a summary.

``python -m mmssl_us.seg.inference CONFIG CHECKPOINT INPUT OUT`` (or ``tools/infer.py``) writes::

    OUT/masks/<rel stem>.png            uint8 label values, the input image's size
    OUT/overlays/<rel stem>.png         the image with the predicted classes blended in
    OUT/masks/<video stem>/<frame:05d>.png, OUT/overlays/<video stem>/<frame:05d>.png
    OUT/summary.csv                     one row per image or frame: pixels per class and, for a
                                        head-circumference model (HC18), the fitted ellipse and
                                        the circumference in pixels and, when the pixel size is
                                        known, in mm

``<rel stem>`` is the path below the input folder without its suffix (the file stem for a single
image). Every file is written atomically (:mod:`mmssl_us.fileio`).

The model is mmseg's :class:`mmseg.apis.MMSegInferencer` (subclassed in
:mod:`.inferencer`: weights read safely and loaded strictly, our pipeline rules), and images go
through the config's own test pipeline (``LoadAnnotations`` removed) and ``model.test_step``,
``batch_size`` (``--batch-size``, default 8) per forward pass, so our configs and mmseg's own
ones behave as under ``tools/test.py``. The image the overlay shows
is the one the config's loading transform produced (for our grey ultrasound configs: the grey
image repeated into three channels). Video frames (OpenCV, BGR) enter the same pipeline with
the loading step replaced by mmseg's ``LoadImageFromNDArray``, as mmseg's ``inference_model``
does for arrays.

Refusals, each naming the file: a checkpoint that does not fit the config's model
(:func:`mmssl_us.checkpoint.check_checkpoint_fits`, counts and first keys), one that cannot be read
(:class:`mmssl_us.checkpoint.CorruptCheckpointError`) or needs unsafe types; an image that is not
an image, or has more than 8 bits per sample (refused as training refuses it,
:func:`mmssl_us.seg.datasets.checks.image_size`); a video OpenCV cannot open. All image headers
and videos are checked before the model runs, so a bad file stops the run before any work;
``skip_bad`` (``--skip-bad``) instead leaves bad files out, lists them in ``summary.csv``
(column ``error``) and prints them at the end.

Overlays: each class whose palette colour is not black is blended into the image with
``opacity`` (``out = (1 - opacity) * image + opacity * colour`` on its pixels); black classes
(the background of our datasets) leave the image as it is. The palette is the dataset's
(``dataset_meta`` of the checkpoint, else the metainfo of the config's test dataset, else a
fixed one drawn as mmseg draws missing palettes).

Head circumference: when the config's test dataset is ``HC18Dataset`` (or ``head_label`` is
given) an ellipse is fitted to the head class of each prediction with
:func:`mmssl_us.seg.metrics.ellipse.fit_mask_ellipse` (the fit of ``HeadCircumferenceMetric``)
and drawn on the overlay. The pixel size comes from ``pixel_size`` (one value for all inputs), a
CSV of ``filename, pixel size(mm)`` (HC18's own or the converter's ``pixel_size.csv``, matched by
file name; a video's frames use the video's name), or, for an HC18 config without either, the
dataset's ``<data_root>/pixel_size.csv`` when that file exists. Without a pixel size the summary
gives the circumference in pixels and says so.

Modules: :mod:`.inferencer` (the model), :mod:`.media` (the inputs), :mod:`.overlay` (drawing),
:mod:`.head` (head circumference), :mod:`.summary` (``summary.csv``), :mod:`.run` (the loop),
:mod:`.cli` (the command line).
"""
from .cli import infer_parser, main
from .inferencer import SegInferencer, default_palette
from .media import MediaItem, list_inputs
from .overlay import overlay_mask
from .run import run_inference

__all__ = ['SegInferencer', 'MediaItem', 'list_inputs', 'overlay_mask', 'run_inference',
           'infer_parser', 'main', 'default_palette']
