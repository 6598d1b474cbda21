"""Margin-loss face-embedding training: backbones, heads, data, loop, evaluation, export.

Usable on its own (`python -m training ...`); it never imports `album`.
"""
