"""GFD-Net layers as plain PyTorch modules (no Ultralytics parser, trainer or exporter imports)."""
