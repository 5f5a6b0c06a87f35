# src/data pipeline: decoding, augmentation, batches
