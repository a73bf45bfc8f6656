"""Synthetic knee-recess B-mode ultrasound with exact effusion masks (numpy and cv2 only).

``generate_image(seed)`` gives one image and its mask; ``write_knee_dataset`` writes the knee
folder layout of docs/CONTRACTS.md. See docs/synthetic.md for the model and its limits.
"""
from .anatomy import P_NO_EFFUSION, TISSUE_ID, TISSUES
from .generator import (GENERATOR_VERSION, SyntheticSample, derive_seed, generate_frame,
                        generate_image)
from .geometry import P_CONVEX, ProbeGeometry

__all__ = [
    'GENERATOR_VERSION', 'P_CONVEX', 'P_NO_EFFUSION', 'ProbeGeometry', 'SyntheticSample',
    'TISSUES', 'TISSUE_ID', 'derive_seed', 'generate_frame', 'generate_image'
]
