# src/model: files of this layer
