# src/io: files of this layer
