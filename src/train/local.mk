# src/train: files of this layer
