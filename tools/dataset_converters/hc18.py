"""Convert the HC18 training set (outline or filled annotations) to images, masks and a CSV.

    python tools/dataset_converters/hc18.py /path/to/hc18 --out data/hc18
"""
import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='HC18 folder with training_set/ and the pixel-size CSV')
    parser.add_argument('--out', default='data/hc18', help='output dataset root')
    parser.add_argument('--csv', help='pixel-size CSV (default: '
                        '<src>/training_set_pixel_size_and_HC.csv)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the subject split')
    parser.add_argument('--val', type=float, default=0.1, help='fraction of subjects for val')
    parser.add_argument('--test', type=float, default=0.2, help='fraction of subjects for test')
    args = parser.parse_args(argv)
    from mmssl_us.data.converters import convert_hc18
    summary = convert_hc18(args.src, args.out, seed=args.seed, val=args.val, test=args.test,
                           csv_path=args.csv)
    print(f'written (images per split): {summary["written"]}; annotations: '
          f'{summary["annotations"]}; pixel sizes in {args.out}/pixel_size.csv')
    return 0


if __name__ == '__main__':
    from mmssl_us.cli import run_main  # noqa: E402
    sys.exit(run_main(main))
