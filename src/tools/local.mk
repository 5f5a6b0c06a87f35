# src/tools: files of this layer
