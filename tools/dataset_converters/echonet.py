"""Convert EchoNet-Dynamic (Videos/, FileList.csv, VolumeTracings.csv) to ED/ES frames + masks.

    python tools/dataset_converters/echonet.py /path/to/EchoNet-Dynamic --out data/echonet
"""
import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='EchoNet-Dynamic folder')
    parser.add_argument('--out', default='data/echonet', help='output dataset root')
    args = parser.parse_args(argv)
    from mmssl_us.data.converters import convert_echonet
    summary = convert_echonet(args.src, args.out)
    print(f'written (frames per split): {summary["written"]}')
    for reason, videos in summary['skipped'].items():
        print(f'skipped {len(videos)} videos ({reason}), e.g. {videos[:3]}')
    return 0


if __name__ == '__main__':
    from mmssl_us.cli import run_main  # noqa: E402
    sys.exit(run_main(main))
