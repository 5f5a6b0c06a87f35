# src/gemm: files of this layer
