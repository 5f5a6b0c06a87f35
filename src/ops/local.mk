# src/ops: files of this layer
