"""Margin-loss face-embedding training: backbones, heads, data, loop, evaluation, export.

Usable on its own (`python -m training ...`); it never imports `album`. The model API the app
uses is here too: `training.model` (device, the spec's preprocessing, verified weight loading)
and `training.finetune` (the one fine-tune recipe a retrain runs).
"""
