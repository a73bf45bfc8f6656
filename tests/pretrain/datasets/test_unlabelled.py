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
                            excluded_by_md5=1, excluded_by_content=0, videos_excluded=1,
                            video_frames=4, samples=7)
    paths = [osp.relpath(ds.get_data_info(i)['img_path'], str(pool)) for i in range(len(ds))]
    frames = [ds.get_data_info(i)['frame_index'] for i in range(len(ds))]
    assert paths[:3] == ['unlabelled/P5_0.png', 'unlabelled/a/P2_0.png',
                         'unlabelled/b/c/P3_0.png']
    assert frames == [None, None, None, 0, 3, 6, 9]
    assert all(p == 'unlabelled/vid/P6.avi' for p in paths[3:])
    # a sample decodes the frame it names (frame 6 was written with grey level 130)
    assert abs(float(ds[5]['img'].mean()) - 130) < 3
    text = '\n'.join(log.messages)
    assert ('found 5 images and 2 videos; excluded 1 images by stem, 1 by md5 (renamed '
            'copies), 0 by content (resized or re-encoded copies) and 1 videos by stem') in text
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


@pytest.mark.skipif(not osp.isdir(HC18), reason=f'real data folder {HC18} absent')
def test_real_hc18_images_exclusion_and_view_pipeline(tmp_path):
    """HC18 (496 png: images and annotations): exclude one by stem (txt list) and one renamed
    copy by md5, then run the pretraining view pipeline on real frames."""
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
    assert ds.stats['samples'] == 494 == len(ds)
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
