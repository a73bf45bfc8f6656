# As quickstart_random_ce.py, with cross-entropy + Dice (mmseg DiceLoss, softmax, weight 1)
# on the decode head instead of cross-entropy alone: the recess is a small structure and the
# cross-entropy runs sit at all-background for their first 50-100 iterations.
_base_ = ['./quickstart_random_ce.py']
study = dict(finetune=dict(cfg_options={
    'model.decode_head.loss_decode': [
        dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        dict(type='DiceLoss', use_sigmoid=False, loss_weight=1.0)]}))
