"""Write which labelled images a run trained on into its work dir."""
import os.path as osp
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from ...fileio import atomic_write

__all__ = ['LabelFractionHook', 'fraction_records', 'format_records']


def fraction_records(dataset) -> List[dict]:
    """Collect the ``fraction_record`` of a dataset, looking through dataset wrappers.

    A dataset without a record (mmseg's own datasets, say) is reported with fraction 1.0 and
    all its images, so the file always says what was trained on.

    Args:
        dataset: A dataset, or a Concat/Repeat/ClassBalanced wrapper of datasets.

    Returns:
        list[dict]: One record per leaf dataset.
    """
    if hasattr(dataset, 'datasets'):  # ConcatDataset
        return [r for d in dataset.datasets for r in fraction_records(d)]
    if hasattr(dataset, 'dataset') and not hasattr(dataset, 'data_list'):  # Repeat/ClassBal.
        return fraction_records(dataset.dataset)
    if hasattr(dataset, 'full_init'):
        dataset.full_init()  # a lazily built dataset has not drawn its fraction yet
    record: Optional[dict] = getattr(dataset, 'fraction_record', None)
    if record is not None:
        return [record]
    files = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    return [dict(dataset=type(dataset).__name__, fraction=1.0, seed=None, img_dir='',
                 n_patients_total=None, n_patients=None, n_images_total=len(files),
                 files=files)]


def format_records(records: List[dict]) -> str:
    """The text of ``label_fraction_train.txt``: a ``#`` header per dataset, then its files."""
    lines = ['# labelled training images selected by the label fraction (mmssl_us)']
    for rec in records:
        lines += [f'# dataset: {rec["dataset"]}',
                  f'# img_dir: {rec["img_dir"]}',
                  f'# fraction: {rec["fraction"]}',
                  f'# seed: {rec["seed"]}',
                  f'# patients: {rec["n_patients"]} of {rec["n_patients_total"]}',
                  f'# images: {len(rec["files"])} of {rec["n_images_total"]}']
        lines += list(rec['files'])
    return '\n'.join(lines) + '\n'


@HOOKS.register_module()
class LabelFractionHook(Hook):
    """Write ``<work_dir>/<filename>`` listing the training images, fraction and seed.

    The list is written before the first iteration, from the built training dataset, so it is
    exactly what the dataloader samples from.

    Args:
        filename (str): File name inside the work dir.
            Defaults to 'label_fraction_train.txt'.
    """
    priority = 'VERY_LOW'

    def __init__(self, filename: str = 'label_fraction_train.txt') -> None:
        if not filename or osp.basename(filename) != filename:
            raise ValueError(f'filename must be a plain file name, got {filename!r}')
        self.filename = filename

    def before_train(self, runner) -> None:
        """Write the list (main process only)."""
        records = fraction_records(runner.train_dataloader.dataset)
        if not is_main_process():
            return
        path = osp.join(runner.work_dir, self.filename)
        atomic_write(path, format_records(records))
        for rec in records:
            print_log(f'label fraction {rec["fraction"]} (seed {rec["seed"]}) of '
                      f'{rec["dataset"]}: {len(rec["files"])} of {rec["n_images_total"]} '
                      f'images, {rec["n_patients"]} of {rec["n_patients_total"]} patients; '
                      f'list in {path}', logger='current')
