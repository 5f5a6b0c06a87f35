# src/search: files of this layer
