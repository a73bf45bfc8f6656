"""find_leakage / check_leakage: exact and near duplicates, shared names and patients, within
and across the splits and the pool; the CLI's exit codes and JSON; a real HC18 subset."""
import csv
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mmssl_us.data.leakage import LeakageReport, find_leakage, main

from ._helpers import HC18_DIR, hc18_available, write_mjpg_avi

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def scan(seed, size=96):
    """Smooth random structure, like tissue at B-mode scale (different seeds: different
    difference hashes, > 60 of 256 bits apart)."""
    noise = np.random.default_rng(seed).random((size, size)).astype(np.float32)
    img = cv2.GaussianBlur(noise, (0, 0), 5)
    return cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def _write(path, img, *params):
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(str(path), img, list(params)), path


@pytest.fixture
def root(tmp_path):
    """A clean knee-layout root: train P1 (2 frames), P2; val P3; test P4 (2 frames); a pool
    of the train images (hard-linked, as build_pool does) and two other patients' frames."""
    r = tmp_path / 'data'
    files = dict(train=['P1_0', 'P1_1', 'P2_0'], val=['P3_0'], test=['P4_0', 'P4_1'])
    seed = 0
    for split, stems in files.items():
        for stem in stems:
            _write(r / 'images' / split / f'{stem}.png', scan(seed))
            seed += 1
    for stem in files['train']:
        (r / 'unlabelled' / 'train').mkdir(parents=True, exist_ok=True)
        os.link(r / 'images' / 'train' / f'{stem}.png', r / 'unlabelled' / 'train' / f'{stem}.png')
    _write(r / 'unlabelled' / 'U1_0.png', scan(50))
    _write(r / 'unlabelled' / 'sub' / 'U2_0.png', scan(51))
    return r


def _cross(report, category):
    return [i for i in report.cross_split if i.category == category]


def test_a_clean_dataset_reports_nothing(root):
    report = find_leakage(str(root))
    assert isinstance(report, LeakageReport)
    assert report.items == [] and report.cross_split == [] and report.within == []
    assert report.counts == dict(train=3, val=1, test=2, pool=5, pool_videos=0)
    assert report.patients == dict(train=2, val=1, test=1)
    text = report.summary()
    assert 'cross-split leakage: none' in text and 'within-split duplicates: none' in text
    d = report.to_dict()
    assert d['leakage'] is False and d['items'] == []
    assert d['cross_split_counts'] == dict(exact=0, near=0, stem=0, patient=0, pool_patient=0)
    json.dumps(d)  # JSON-ready


def test_an_exact_copy_across_train_and_test(root):
    shutil.copy(root / 'images' / 'test' / 'P4_1.png', root / 'images' / 'train' / 'P9_0.png')
    report = find_leakage(str(root))
    (item,) = report.cross_split  # the copy's name carries another patient: only the md5
    assert item.category == 'exact' and item.where == ('train', 'test')
    assert item.files == ('images/train/P9_0.png', 'images/test/P4_1.png')
    assert 'CROSS-SPLIT LEAKAGE: 1 exact duplicates' in report.summary()
    assert 'images/train/P9_0.png' in report.summary()


def test_a_resized_jpeg_copy_of_a_test_image_in_the_pool(root):
    test_img = cv2.imread(str(root / 'images' / 'test' / 'P4_0.png'), cv2.IMREAD_UNCHANGED)
    _write(root / 'unlabelled' / 'scan_0001.jpg', cv2.resize(test_img, (48, 48)),
           cv2.IMWRITE_JPEG_QUALITY, 70)
    report = find_leakage(str(root))
    (item,) = report.cross_split
    assert item.category == 'near' and item.where == ('test', 'pool')
    assert item.files == ('images/test/P4_0.png', 'unlabelled/scan_0001.jpg')
    bits = int(item.detail.split()[0])
    assert 0 < bits <= 24  # not identical, but close
    # a threshold below its distance lets it through: the check is the hash, not the name
    assert find_leakage(str(root), near_bits=bits - 1).cross_split == []


def test_a_test_patients_other_frame_and_video_in_the_pool(root):
    _write(root / 'unlabelled' / 'more' / 'P4_7.png', scan(77))  # other content
    write_mjpg_avi(root / 'unlabelled' / 'vid' / 'P4.avi', [scan(78), scan(79)])
    write_mjpg_avi(root / 'unlabelled' / 'vid' / 'P3_clip2.avi', [scan(80)])  # a val patient
    report = find_leakage(str(root))
    assert report.counts['pool_videos'] == 2
    hits = {i.detail: i for i in _cross(report, 'pool_patient')}
    assert set(hits) == {'P4 (a test patient)', 'P3 (a val patient)'}
    assert hits['P4 (a test patient)'].files == ('unlabelled/more/P4_7.png',
                                                 'unlabelled/vid/P4.avi')
    assert hits['P4 (a test patient)'].where == ('test', 'pool')
    assert hits['P3 (a val patient)'].files == ('unlabelled/vid/P3_clip2.avi',)
    assert len(report.cross_split) == 2  # neither is a content copy nor a same-name file
    # a pool whose names carry no patient of this dataset
    assert find_leakage(str(root), patient_rule='none').cross_split == []
    # 'stem': only a whole stem names a patient (P4.avi does, P4_7.png does not)
    (item,) = find_leakage(str(root), patient_rule='stem').cross_split
    assert item.files == ('unlabelled/vid/P4.avi',)


def test_same_name_shared_patient_and_val_test_copy(root):
    _write(root / 'unlabelled' / 'P4_0.png', scan(90))   # a test file's name, other content
    _write(root / 'images' / 'val' / 'P1_5.png', scan(91))  # train patient P1 in val too
    shutil.copy(root / 'images' / 'val' / 'P3_0.png', root / 'images' / 'test' / 'P8_0.png')
    report = find_leakage(str(root))
    cats = report.category_counts(True)
    # P1 is now a val patient too: its train frames in the pool are val-patient files
    assert cats == dict(exact=1, near=0, stem=1, patient=1, pool_patient=2)
    (stem,) = _cross(report, 'stem')
    assert stem.files == ('images/test/P4_0.png', 'unlabelled/P4_0.png')
    (patient,) = _cross(report, 'patient')
    assert patient.detail == 'P1' and patient.where == ('train', 'val')
    assert patient.files == ('images/train/P1_0.png', 'images/train/P1_1.png',
                             'images/val/P1_5.png')
    (exact,) = _cross(report, 'exact')
    assert exact.where == ('val', 'test')


def test_within_split_duplicates_are_warnings_and_pool_train_links_are_expected(root):
    shutil.copy(root / 'images' / 'train' / 'P2_0.png', root / 'images' / 'train' / 'P7_0.png')
    shutil.copy(root / 'unlabelled' / 'U1_0.png', root / 'unlabelled' / 'U1_copy.png')
    shutil.copy(root / 'images' / 'train' / 'P1_0.png', root / 'unlabelled' / 'x.png')
    report = find_leakage(str(root))
    assert report.cross_split == []
    within = [(i.where, i.files) for i in report.within]
    assert within == [
        # the pool's link to train/P1_0 and its copy x.png: two of one image in the pool
        (('train', 'pool'), ('images/train/P1_0.png', 'unlabelled/train/P1_0.png',
                             'unlabelled/x.png')),
        (('train', 'pool'), ('images/train/P2_0.png', 'images/train/P7_0.png',
                             'unlabelled/train/P2_0.png')),
        (('pool',), ('unlabelled/U1_0.png', 'unlabelled/U1_copy.png'))]
    assert all(i.category == 'exact' for i in report.within)
    assert 'warnings, not leakage' in report.summary()


def test_summary_limits_the_names_listed(root):
    for k in range(4):
        _write(root / 'unlabelled' / 'extra' / f'P4_{10 + k}.png', scan(200 + k))
    report = find_leakage(str(root))
    (item,) = report.cross_split
    assert len(item.files) == 4
    text = report.summary(max_files=2)
    assert '(+2 more)' in text and 'P4_12' not in text


def test_bad_input_names_the_folder(tmp_path, root):
    with pytest.raises(FileNotFoundError, match='data root not found'):
        find_leakage(str(tmp_path / 'nope'))
    shutil.rmtree(root / 'images' / 'val')
    with pytest.raises(FileNotFoundError, match=r'split folder not found: .*images/val'):
        find_leakage(str(root))
    assert find_leakage(str(root), splits=('train', 'test')).cross_split == []
    with pytest.raises(FileNotFoundError, match=r'pool folder not found: .*elsewhere'):
        find_leakage(str(root), splits=('train', 'test'), pool='elsewhere')
    with pytest.raises(ValueError, match='near_bits'):
        find_leakage(str(root), near_bits=300)
    with pytest.raises(ValueError, match='patient_rule'):
        find_leakage(str(root), patient_rule='suffix')
    with pytest.raises(ValueError, match='splits must be distinct'):
        find_leakage(str(root), splits=('train', 'train'))


def test_cli_exit_codes_and_json(root, tmp_path, capsys):
    out = tmp_path / 'rep' / 'leak.json'
    assert main([str(root), '--json', str(out), '--quiet']) == 0
    assert json.loads(out.read_text())['leakage'] is False
    assert 'cross-split leakage: none' in capsys.readouterr().out
    write_mjpg_avi(root / 'unlabelled' / 'P4_clip2.avi', [scan(5)])
    assert main([str(root), '--json', str(out)]) == 1
    captured = capsys.readouterr()
    assert 'CROSS-SPLIT LEAKAGE' in captured.out and 'P4_clip2.avi' in captured.out
    assert '[leakage] hashed 11/11 images' in captured.err  # the progress line
    data = json.loads(out.read_text())
    assert data['leakage'] is True and data['cross_split_counts']['pool_patient'] == 1
    assert data['items'][0]['files'] == ['unlabelled/P4_clip2.avi']
    assert main([str(root), '--patient-rule', 'none', '--quiet']) == 0
    assert main([str(tmp_path / 'missing'), '--quiet']) == 2
    assert 'data root not found' in capsys.readouterr().err
    assert main([str(root), '--pool', 'none', '--quiet']) == 0
    with pytest.raises(SystemExit) as err:  # argparse: a bad choice
        main([str(root), '--patient-rule', 'bad'])
    assert err.value.code == 2


@pytest.mark.slow
def test_tool_and_module_run_as_scripts(root):
    write_mjpg_avi(root / 'unlabelled' / 'P4.avi', [scan(5)])
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    tool = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'analysis',
                                                    'check_leakage.py'), str(root), '--quiet'],
                          capture_output=True, text=True, env=env, cwd=REPO)
    assert tool.returncode == 1, tool.stderr
    assert 'unlabelled/P4.avi' in tool.stdout
    module = subprocess.run([sys.executable, '-m', 'mmssl_us.data.leakage', str(root),
                             '--splits', 'train', 'val', '--quiet'],
                            capture_output=True, text=True, env=env, cwd=REPO)
    assert module.returncode == 0, module.stderr  # no test split: P4 is no one's patient


def test_real_hc18_subset_split_by_subject(tmp_path):
    """Real HC18 images (30, with subjects of 2-3 images), converted: no subject in two
    splits, no cross-split copy; a half-size JPEG of a test image in the pool is found."""
    if not hc18_available():
        pytest.skip(f'{HC18_DIR} not present')
    from mmssl_us.data.converters.hc18 import convert_hc18
    with open(osp.join(HC18_DIR, 'training_set_pixel_size_and_HC.csv')) as f:
        rows = list(csv.DictReader(f))[:30]
    sub_csv = tmp_path / 'subset.csv'
    with open(sub_csv, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / 'hc18'
    convert_hc18(HC18_DIR, str(out), csv_path=str(sub_csv), val=0.2, test=0.2)
    report = find_leakage(str(out), pool=None)
    assert sum(report.counts.values()) == 30
    assert report.category_counts(True)['patient'] == 0 and report.cross_split == []
    test_name = sorted(os.listdir(out / 'images' / 'test'))[0]
    img = cv2.imread(str(out / 'images' / 'test' / test_name), cv2.IMREAD_UNCHANGED)
    _write(out / 'unlabelled' / 'copy.jpg', cv2.resize(img, None, fx=0.5, fy=0.5),
           cv2.IMWRITE_JPEG_QUALITY, 70)
    (item,) = find_leakage(str(out)).cross_split
    assert item.category == 'near' and f'images/test/{test_name}' in item.files


def test_within_split_near_duplicates_are_grouped_with_their_distance(root):
    img = cv2.imread(str(root / 'images' / 'train' / 'P1_0.png'), cv2.IMREAD_UNCHANGED)
    _write(root / 'images' / 'train' / 'P5_0.jpg', img, cv2.IMWRITE_JPEG_QUALITY, 60)
    _write(root / 'images' / 'train' / 'P6_0.png', cv2.resize(img, (64, 64)))
    report = find_leakage(str(root))
    assert report.cross_split == []
    (item,) = report.within
    assert item.category == 'near' and item.where == ('train',)
    assert item.files == ('images/train/P1_0.png', 'images/train/P5_0.jpg',
                          'images/train/P6_0.png')
    assert item.detail.startswith('3 images, ') and item.detail.endswith(' bits')


@pytest.mark.parametrize('where', [('images', 'val', 'P3_0.png'), ('unlabelled', 'U1_0.png')])
def test_a_zero_byte_image_is_named_not_a_cv2_assertion(root, where):
    """Issue 18: a 0-byte file stopped the check with cv2.error (-215) naming no file."""
    empty = root.joinpath(*where)
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match=r'empty image file \(0 bytes\): .*' + where[-1]):
        find_leakage(str(root))
    assert main([str(root), '--quiet']) == 2
