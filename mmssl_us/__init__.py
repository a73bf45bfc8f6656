"""mmssl_us: self-supervised pretraining for ultrasound segmentation, as an OpenMMLab plugin.

Importing this package is cheap: it imports neither torch nor any OpenMMLab library.
Configs pull in the host-specific parts through ``custom_imports``:

* ``mmssl_us.pretrain`` registers pretraining components into mmpretrain,
* ``mmssl_us.seg`` registers segmentation components into mmsegmentation,
* ``mmssl_us.transforms`` registers ultrasound transforms into mmengine's root ``TRANSFORMS``
  registry, so that both hosts find them.
"""
__version__ = '0.1.0'
