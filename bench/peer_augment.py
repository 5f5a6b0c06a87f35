"""Peer of bench_augment: the same decode + training transforms at 256 x 256 with PIL and
torchvision, loaded by a torch DataLoader with the same number of worker processes.

usage: peer_augment.py DIR BATCH STEPS WORKERS
prints `peer images/s X` and `peer cpu ms/image Y` (CPU time of this process and its workers,
steadier than wall time on a shared machine)
"""
import os
import sys
import time

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T

SIZE = 256


class Files(Dataset):
    def __init__(self, folder, transform):
        self.paths = sorted(os.path.join(folder, f) for f in os.listdir(folder)
                            if f.endswith(".jpg"))
        self.transform = transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        img = Image.open(self.paths[i])
        img.draft("RGB", (SIZE, SIZE))  # the DCT shrink ufo applies too
        return self.transform(img.convert("RGB")), i % 10


def cpu_seconds(it):
    """User + system seconds of this process and of the loader's worker processes."""
    tick = os.sysconf("SC_CLK_TCK")
    total = sum(os.times()[:2])
    for w in getattr(it, "_workers", []):
        with open("/proc/%d/stat" % w.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def main():
    folder, batch, steps, workers = sys.argv[1], *map(int, sys.argv[2:5])
    torch.set_num_threads(1)
    transform = T.Compose([
        T.RandomApply([T.AutoAugment(T.AutoAugmentPolicy.IMAGENET)], p=0.5),
        T.Resize((SIZE, SIZE), interpolation=T.InterpolationMode.BICUBIC),
        T.Pad(10),
        T.RandomCrop(SIZE),
        T.RandomHorizontalFlip(),
        T.ToTensor(),
        T.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),
        T.RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value="random"),
    ])
    loader = DataLoader(Files(folder, transform), batch_size=batch, shuffle=True,
                        num_workers=workers, drop_last=True, persistent_workers=workers > 0)
    done, start, it = 0, None, iter(loader)
    cpu0 = 0.0
    while done < steps:
        try:
            next(it)
        except StopIteration:
            it = iter(loader)
            continue
        if start is None:  # the first batch warms up, as in the C benchmark
            start = time.perf_counter()
            cpu0 = cpu_seconds(it)
            continue
        done += 1
    rate = steps * batch / (time.perf_counter() - start)
    cpu = cpu_seconds(it) - cpu0
    print("peer: PIL %s + torchvision, %d DataLoader workers" % (Image.__version__, workers))
    print("peer images/s %.1f" % rate)
    print("peer cpu ms/image %.2f" % (1000 * cpu / (steps * batch)))


if __name__ == "__main__":
    main()
