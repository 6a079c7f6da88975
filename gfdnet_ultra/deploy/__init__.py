"""Deployment: the gated ONNX pair over a folder of images, OpenVINO INT8 quantisation, GPU checks."""
