# Unlabelled echocardiography for the pretraining configs: the knee base's views and loader
# (knee_unlabelled.py: sector-aware crops, gain / dynamic range / TGC, attenuation, speckle,
# PSF blur) on data/echonet/unlabelled, which a study fills with the frames between the two
# traced frames of each TRAIN video (study.pool.echonet, mmssl_us.data.pool.build_pool), as the
# contrastive-echo work pretrained on; val and test patients never enter it.
_base_ = ['./knee_unlabelled.py']
data_root = 'data/echonet'
train_dataloader = dict(dataset=dict(data_root=data_root))

# Clip-pair positives (USCL, MICCAI 2021; mmssl_us/pretrain/datasets/clip_pair.py): the two
# views of a sample are two frames of one clip at most `clip_pairs` frames apart (a still image:
# another image of its patient), each through the same view pipeline. A config switches it on
# with
#   train_dataloader = dict(dataset=dict(clip_pairs=K, pipeline={{_base_.clip_pipeline}}))
clip_pipeline = [
    dict(type='LoadClipPair', channels=1),
    dict(type='ClipPairMultiView', transforms=[{{_base_.view_pipeline}}]),
    dict(type='PackInputs'),
]
