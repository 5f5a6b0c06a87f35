# src/device: files of this layer
