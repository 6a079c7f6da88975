"""gfdnet-ultra: GFD-Net layers and a DefectNet-style defect gate for stock Ultralytics YOLO."""

__version__ = "0.1.0"
