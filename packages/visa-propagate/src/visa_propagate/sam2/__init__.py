"""SAM 2 video propagation through transformers, without torchvision."""
