"""ResNet widths, the one table (host-free): mmseg's and mmpretrain's ResNets (V1c and plain)
have the same stage widths, and the config helpers of both hosts and the linear probe size
their necks, heads and decoders from it."""
from typing import Dict, Tuple

__all__ = ['STAGE_CHANNELS', 'DEPTHS']

#: output channels of the four stages per depth (basic blocks up to 34, bottlenecks from 50)
STAGE_CHANNELS: Dict[int, Tuple[int, int, int, int]] = {
    depth: tuple(w * (4 if depth >= 50 else 1) for w in (64, 128, 256, 512))
    for depth in (18, 34, 50, 101, 152)}
#: the depths both hosts build
DEPTHS = tuple(sorted(STAGE_CHANNELS))
