"""Convert CAMUS (2019 .mhd/.raw or 2023 .nii.gz release) to 2CH/4CH ED/ES images + masks.

    python tools/dataset_converters/camus.py /path/to/CAMUS --out data/camus
    python tools/dataset_converters/camus.py /path/to/CAMUS_public/database_nifti \
        --split-dir /path/to/CAMUS_public/database_split --out data/camus
"""
import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='CAMUS folder (patientXXXX sub-folders, any depth)')
    parser.add_argument('--out', default='data/camus', help='output dataset root')
    parser.add_argument('--split-dir', help='folder with the official subgroup_*.txt files')
    parser.add_argument('--seed', type=int, default=0, help='seed of the patient split')
    parser.add_argument('--val', type=float, default=0.1, help='fraction of patients for val')
    parser.add_argument('--test', type=float, default=0.1, help='fraction of patients for test')
    args = parser.parse_args(argv)
    from mmssl_us.data.converters import convert_camus
    summary = convert_camus(args.src, args.out, seed=args.seed, val=args.val, test=args.test,
                            split_dir=args.split_dir)
    print(f'split: {summary["split"]}; written (images per split): {summary["written"]}')
    if summary['skipped']:
        print(f'skipped {len(summary["skipped"])} images without a _gt mask, e.g. '
              f'{summary["skipped"][:3]}')
    return 0


if __name__ == '__main__':
    from mmssl_us.cli import run_main  # noqa: E402
    sys.exit(run_main(main))
