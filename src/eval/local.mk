# src/eval: files of this layer
