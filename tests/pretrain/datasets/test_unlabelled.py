"""UltrasoundUnlabelledDataset: folders + AVI frames, exclusion by stem and md5, logged counts,
errors that say what to do; and a real-data check on HC18 when that folder is present."""
import logging
import os.path as osp
import shutil

import numpy as np
import pytest
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from mmssl_us.pretrain.datasets import UltrasoundUnlabelledDataset

HC18 = '/work/shared/data/hc18/training_set'


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def log(request):
    logger = MMLogger.get_instance(f'unlabelled_{request.node.name}', log_level='INFO')
    handler = _Capture()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def pool(tmp_path, media):
    """data/unlabelled: 5 images (nested), 2 AVIs of 10 frames; data/images/test: 3 files."""
    root = tmp_path / 'data'
    for i, rel in enumerate(['a/P1_0.png', 'a/P2_0.png', 'b/c/P3_0.png', 'P4_0.png', 'P5_0.png']):
        (root / 'unlabelled' / rel).parent.mkdir(parents=True, exist_ok=True)
        media.image(root / 'unlabelled' / rel, seed=i)
    levels = [np.full((32, 48), 20 * i + 10, np.uint8) for i in range(10)]
    media.avi(root / 'unlabelled' / 'vid' / 'P6.avi', levels)
    media.avi(root / 'unlabelled' / 'vid' / 'P7.avi', levels)
    test = root / 'images' / 'test'
    test.mkdir(parents=True)
    media.image(test / 'P1_0.png', seed=99)       # same stem, other pixels
    shutil.copy(root / 'unlabelled' / 'P4_0.png', test / 'Q8_0.png')  # renamed copy of P4_0
    media.avi(test / 'P7.avi', levels[:2])        # same stem as a pool video
    return root


def test_folder_and_video_frames_with_exclusion(pool, log):
    with DefaultScope.overwrite_default_scope('mmpretrain'):  # whatever scope a test left
        ds = UltrasoundUnlabelledDataset(data_root=str(pool), data_prefix='unlabelled',
                                         exclude=['images/test'], frame_step=3,
                                         pipeline=[dict(type='LoadUltrasoundFrame',
                                                        channels=1)])
    assert ds.stats == dict(images_found=5, videos_found=2, excluded_by_stem=1,
                            excluded_by_patient=0, excluded_by_md5=1, excluded_by_content=0,
                            videos_excluded=1, videos_excluded_by_stem=1,
                            videos_excluded_by_patient=0, video_frames=4, samples=7)
    paths = [osp.relpath(ds.get_data_info(i)['img_path'], str(pool)) for i in range(len(ds))]
    frames = [ds.get_data_info(i)['frame_index'] for i in range(len(ds))]
    assert paths[:3] == ['unlabelled/P5_0.png', 'unlabelled/a/P2_0.png',
                         'unlabelled/b/c/P3_0.png']
    assert frames == [None, None, None, 0, 3, 6, 9]
    assert all(p == 'unlabelled/vid/P6.avi' for p in paths[3:])
    # a sample decodes the frame it names (frame 6 was written with grey level 130)
    assert abs(float(ds[5]['img'].mean()) - 130) < 3
    text = '\n'.join(log.messages)
    assert ('found 5 images and 2 videos; excluded 1 images by stem, 0 by patient (other '
            'frames of an evaluation patient), 1 by md5 (renamed copies), 0 by content '
            '(resized or re-encoded copies) and 1 videos (1 by stem, 0 by patient)') in text
    assert '4 video frames sampled; 7 samples' in text


def test_frames_per_video_and_no_exclusion(pool):
    ds = UltrasoundUnlabelledDataset(data_root=str(pool), data_prefix='unlabelled',
                                     frames_per_video=2)
    assert ds.stats['video_frames'] == 4 and len(ds) == 9
    assert [ds.get_data_info(i)['frame_index'] for i in range(5, 9)] == [0, 9, 0, 9]


def test_missing_folder_says_what_to_put_where(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        UltrasoundUnlabelledDataset(data_root=str(tmp_path / 'knee'), data_prefix='unlabelled')
    msg = str(err.value)
    for part in (f'{tmp_path}/knee/unlabelled', 'png/jpg/bmp/tif', 'avi/mp4',
                 'docs/CONTRACTS.md', f'python tools/generate_synthetic.py --out {tmp_path}/knee',
                 'images/{train,val,test}'):
        assert part in msg, part


def test_empty_and_fully_excluded(tmp_path, media):
    (tmp_path / 'u').mkdir()
    (tmp_path / 'u' / 'readme.txt').write_text('no images', encoding='utf-8')
    with pytest.raises(ValueError, match=r'no pretraining samples in .*u: no images'):
        UltrasoundUnlabelledDataset(data_prefix=str(tmp_path / 'u'))
    media.image(tmp_path / 'u' / 'x.png', seed=0)
    with pytest.raises(ValueError, match='every image and video found there is excluded'):
        UltrasoundUnlabelledDataset(data_prefix=str(tmp_path / 'u'),
                                    exclude=[str(tmp_path / 'u' / 'x.png')])


def test_missing_exclusion_folder_is_an_error(pool):
    with pytest.raises(FileNotFoundError, match='exclusion source not found'):
        UltrasoundUnlabelledDataset(data_root=str(pool), data_prefix='unlabelled',
                                    exclude=['images/val'])


def test_bad_arguments():
    with pytest.raises(ValueError, match='exactly one'):
        UltrasoundUnlabelledDataset(data_prefix='x', frame_step=2, frames_per_video=3)
    with pytest.raises(ValueError, match='image_suffixes: bad file suffix'):
        UltrasoundUnlabelledDataset(data_prefix='x', image_suffixes=['.'])


@pytest.mark.slow
@pytest.mark.skipif(not osp.isdir(HC18), reason=f'real data folder {HC18} absent')
def test_real_hc18_images_exclusion_and_view_pipeline(tmp_path):
    """HC18 (496 png: images and annotations): exclude one by stem (txt list), its subject's
    annotation by patient and one renamed copy by md5, then run the pretraining view pipeline
    on real frames."""
    (tmp_path / 'test.txt').write_text('000_HC\n', encoding='utf-8')
    (tmp_path / 'copies').mkdir()
    shutil.copy(osp.join(HC18, '001_HC.png'), tmp_path / 'copies' / 'renamed.png')
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(osp.dirname(__file__), '..', '..', '..', 'configs',
                                   '_base_', 'pretrain', 'knee_unlabelled.py'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):  # as under the Runner
        ds = UltrasoundUnlabelledDataset(
            data_prefix=HC18, exclude=[str(tmp_path / 'test.txt'), str(tmp_path / 'copies')],
            pipeline=cfg.train_pipeline)
    assert ds.stats['images_found'] == 496
    assert ds.stats['excluded_by_stem'] == 1 and ds.stats['excluded_by_md5'] == 1
    # subject 000's other file (000_HC_Annotation.png) goes with it, by patient
    assert ds.stats['excluded_by_patient'] == 1
    assert ds.stats['samples'] == 493 == len(ds)
    # the folder also holds the annotation outlines (not B-mode): take three scans
    scans = [i for i in range(len(ds))
             if not ds.get_data_info(i)['img_path'].endswith('Annotation.png')][:3]
    np.random.seed(0)
    for i in scans:
        views = ds[i]['inputs']
        assert len(views) == 2
        for v in views:
            assert tuple(v.shape) == (3, 224, 224)
            assert (v[0] == v[1]).all() and (v[0] == v[2]).all()  # one grey plane, repeated
            assert float(v.float().std()) > 1.0  # image content, not a constant patch


def test_a_corrupt_pool_image_stops_the_build_named(tmp_path, media):
    """Issue 10: a corrupt image in the pool was found mid-epoch."""
    folder = tmp_path / 'unlabelled'
    folder.mkdir()
    media.image(folder / 'a_0.png', seed=0)
    media.image(folder / 'b_0.png', seed=1)
    data = (folder / 'b_0.png').read_bytes()
    (folder / 'b_0.png').write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r'corrupt image in the pretraining pool: .*b_0\.png'):
        UltrasoundUnlabelledDataset(data_root=str(tmp_path), data_prefix='unlabelled')
    ds = UltrasoundUnlabelledDataset(data_root=str(tmp_path), data_prefix='unlabelled',
                                     check_decode=False)  # opting out builds
    assert len(ds) == 2



def test_a_resized_jpeg_copy_of_a_test_image_is_kept_out(tmp_path):
    """Issue 10, case 5: a re-encoded copy of a test image entered the pool."""
    import cv2
    root = tmp_path / 'data'
    (root / 'unlabelled').mkdir(parents=True)
    (root / 'images' / 'test').mkdir(parents=True)
    def scan(seed):  # smooth structure, like tissue at B-mode scale (not pixel noise)
        noise = np.random.default_rng(seed).random((128, 128)).astype(np.float32)
        img = cv2.GaussianBlur(noise, (0, 0), 6)
        return cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)

    for i in range(4):
        cv2.imwrite(str(root / 'unlabelled' / f'P{i}_0.png'), scan(i))
    test_img = scan(42)
    cv2.imwrite(str(root / 'images' / 'test' / 'T9_0.png'), test_img)
    half = cv2.resize(test_img, (test_img.shape[1] // 2, test_img.shape[0] // 2))
    cv2.imwrite(str(root / 'unlabelled' / 'scan_0001.jpg'), half,
                [cv2.IMWRITE_JPEG_QUALITY, 70])
    ds = UltrasoundUnlabelledDataset(data_root=str(root), data_prefix='unlabelled',
                                     exclude=['images/test'])
    assert ds.stats['excluded_by_content'] == 1 and ds.stats['samples'] == 4
    assert not any('scan_0001' in ds.get_data_info(i)['img_path'] for i in range(len(ds)))


def _scan(seed, size=96):
    """Smooth random structure, like tissue at B-mode scale (not pixel noise)."""
    import cv2
    noise = np.random.default_rng(seed).random((size, size)).astype(np.float32)
    img = cv2.GaussianBlur(noise, (0, 0), 5)
    return cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


@pytest.fixture
def eval_root(tmp_path):
    """images/val (patient V3) and images/test (patient T9), and a clean pool of 4 frames of
    other patients plus one video."""
    import cv2
    root = tmp_path / 'data'
    for split, stem, seed in (('val', 'V3_0', 1), ('test', 'T9_0', 2), ('train', 'A1_0', 3)):
        (root / 'images' / split).mkdir(parents=True)
        cv2.imwrite(str(root / 'images' / split / f'{stem}.png'), _scan(seed))
    (root / 'unlabelled' / 'vid').mkdir(parents=True)
    for k in range(4):
        cv2.imwrite(str(root / 'unlabelled' / f'U{k}_0.png'), _scan(10 + k))
    from ..conftest import write_mjpg_avi
    write_mjpg_avi(root / 'unlabelled' / 'vid' / 'U7.avi', [_scan(20), _scan(21)])
    return root


def test_a_clean_pool_loses_nothing(eval_root, log):
    ds = UltrasoundUnlabelledDataset(data_root=str(eval_root), data_prefix='unlabelled',
                                     exclude=['images/val', 'images/test'])
    assert ds.stats['samples'] == 6 == len(ds)  # 4 images + 2 video frames
    assert sum(v for k, v in ds.stats.items() if 'excluded' in k) == 0
    assert "2 excluded stems of 2 patients (patient_rule='prefix')" in '\n'.join(log.messages)


def test_test_patient_frames_videos_and_resized_copies_are_kept_out(eval_root, log):
    """Issue 12: a test patient's other frame, a video named after a test (or val) patient
    and a resized JPEG copy of a test image each leaked into the pool; each is counted."""
    import cv2
    pool = eval_root / 'unlabelled'
    (pool / 'more').mkdir()
    cv2.imwrite(str(pool / 'more' / 'T9_0007.png'), _scan(30))          # other frame
    cv2.imwrite(str(pool / 'V3_0002.png'), _scan(31))                   # val patient's frame
    from ..conftest import write_mjpg_avi
    write_mjpg_avi(pool / 'vid' / 'T9.avi', [_scan(32)] * 3)            # named after T9
    write_mjpg_avi(pool / 'vid' / 'T9_clip2.avi', [_scan(33)] * 3)
    test_img = cv2.imread(str(eval_root / 'images' / 'test' / 'T9_0.png'), 0)
    cv2.imwrite(str(pool / 'scan_0001.jpg'), cv2.resize(test_img, (48, 48)),
                [cv2.IMWRITE_JPEG_QUALITY, 70])                         # resized copy
    ds = UltrasoundUnlabelledDataset(data_root=str(eval_root), data_prefix='unlabelled',
                                     exclude=['images/val', 'images/test'])
    s = ds.stats
    assert (s['excluded_by_patient'], s['excluded_by_content'], s['excluded_by_stem'],
            s['excluded_by_md5']) == (2, 1, 0, 0)
    assert (s['videos_excluded'], s['videos_excluded_by_patient']) == (2, 2)
    assert s['samples'] == 6 == len(ds)  # exactly the clean pool
    kept = {osp.basename(ds.get_data_info(i)['img_path']) for i in range(len(ds))}
    assert kept == {'U0_0.png', 'U1_0.png', 'U2_0.png', 'U3_0.png', 'U7.avi'}
    text = '\n'.join(log.messages)
    assert '2 by patient (other frames of an evaluation patient)' in text
    assert '2 videos (0 by stem, 2 by patient)' in text
    # a pool whose names carry no patient: only the content copy is caught
    ds = UltrasoundUnlabelledDataset(data_root=str(eval_root), data_prefix='unlabelled',
                                     exclude=['images/val', 'images/test'],
                                     patient_rule='none')
    assert ds.stats['excluded_by_patient'] == 0 and ds.stats['excluded_by_content'] == 1
    with pytest.raises(ValueError, match='patient_rule must be one of'):
        UltrasoundUnlabelledDataset(data_root=str(eval_root), data_prefix='unlabelled',
                                    patient_rule='folder')


def test_base_config_excludes_val_and_test_and_keeps_a_synthetic_pool(tmp_path):
    """The default pretraining data config leaves out val and test; on synthetic data (whose
    unlabelled patients are not labelled ones) nothing of the pool is lost."""
    from mmengine.config import Config

    from mmssl_us.synthetic.writer import write_knee_dataset
    cfg = Config.fromfile(osp.join(osp.dirname(__file__), '..', '..', '..', 'configs',
                                   '_base_', 'pretrain', 'knee_unlabelled.py'))
    dataset_cfg = cfg.train_dataloader.dataset
    assert dataset_cfg.exclude == ['images/val', 'images/test']
    root = tmp_path / 'knee'
    write_knee_dataset(str(root), n_patients=6, frames_per_patient=2, n_unlabelled=6,
                       size=(48, 48), seed=0)
    ds = UltrasoundUnlabelledDataset(data_root=str(root), data_prefix='unlabelled',
                                     exclude=dataset_cfg.exclude, check_decode=False)
    assert ds.stats['images_found'] == 6 and ds.stats['samples'] == 6


def test_a_video_whose_frames_do_not_decode_stops_the_build_named(tmp_path, media):
    """Issue 18: a truncated video was accepted at build and stopped the pretraining."""
    folder = tmp_path / 'unlabelled'
    folder.mkdir()
    media.image(folder / 'a_0.png', seed=0)
    rng = np.random.default_rng(0)
    media.avi(folder / 'V1.avi', [rng.integers(0, 255, (32, 48), dtype=np.uint8)
                                  for _ in range(10)])
    data = (folder / 'V1.avi').read_bytes()
    (folder / 'V1.avi').write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r'V1\.avi.*frame 5 does not decode'):
        UltrasoundUnlabelledDataset(data_root=str(tmp_path), data_prefix='unlabelled')
