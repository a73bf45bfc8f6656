"""Throughput of the synthetic knee generator (target: >= 50 images/s per core at 256x256).

Prints measured figures only. ``generate`` times ``generate_image`` for new seeds (every image
a new patient, the slowest case) in one process with OpenCV limited to one thread, as wall
time and as CPU time (the latter is less disturbed by other processes on a shared machine);
``frames`` times consecutive frames of patients (what the writer does); ``write`` times the
whole writer (PNG encoding and files included) into a temporary folder.

Example:
    python benchmarks/bench_synthetic.py --n 300 --size 256 --workers 2
"""
import argparse
import os
import platform
import tempfile
import time

import cv2
import numpy as np

from mmssl_us.synthetic import generate_frame, generate_image
from mmssl_us.synthetic.writer import write_knee_dataset


def _report(label: str, seconds: np.ndarray, cpu_seconds: float) -> None:
    total = seconds.sum()
    print(f'{label:<26} {len(seconds):5d} images  {len(seconds) / total:7.1f} images/s wall  '
          f'{len(seconds) / cpu_seconds:7.1f} images/CPU-s  mean {1e3 * seconds.mean():6.2f} ms  '
          f'p50 {1e3 * np.median(seconds):6.2f} ms  p95 {1e3 * np.percentile(seconds, 95):6.2f} ms')


def bench_generate(n: int, size: int, geometry: str, first_seed: int = 10_000) -> None:
    generate_image(first_seed - 1, size, geometry)  # warm-up (imports, caches)
    times = np.empty(n)
    cpu = time.process_time()
    for k in range(n):
        t = time.perf_counter()
        generate_image(first_seed + k, size, geometry)
        times[k] = time.perf_counter() - t
    _report(f'generate {geometry} {size}', times, time.process_time() - cpu)


def bench_frames(n: int, size: int, frames: int = 5) -> None:
    times = np.empty(n)
    cpu = time.process_time()
    for k in range(n):
        t = time.perf_counter()
        generate_frame(20_000 + k // frames, k % frames, size)
        times[k] = time.perf_counter() - t
    _report(f'frames x{frames} random {size}', times, time.process_time() - cpu)


def bench_write(n: int, size: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        patients = max(1, n // 10)
        frames = 5
        unl = n - patients * frames
        t = time.perf_counter()
        write_knee_dataset(tmp, n_patients=patients, frames_per_patient=frames,
                           n_unlabelled=max(0, unl), size=size, workers=workers,
                           progress_every=10**9, stream=open(os.devnull, 'w'))
        dt = time.perf_counter() - t
        total = patients * frames + max(0, unl)
    print(f'{"write workers=" + str(workers) + " " + str(size):<26} {total:5d} images  '
          f'{total / dt:7.1f} images/s  (PNG files included, process start-up included)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--n', type=int, default=300, help='images per measurement')
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--workers', type=int, default=2, help='workers for the write run')
    args = parser.parse_args()
    cv2.setNumThreads(1)
    print(f'python {platform.python_version()}, numpy {np.__version__}, cv2 {cv2.__version__}, '
          f'{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}')
    for geometry in ('linear', 'convex', 'random'):
        bench_generate(args.n, args.size, geometry)
    bench_frames(args.n, args.size)
    bench_write(args.n, args.size, 1)
    if args.workers > 1:
        bench_write(args.n, args.size, args.workers)


if __name__ == '__main__':
    main()
