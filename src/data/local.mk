# src/data: files of this layer
