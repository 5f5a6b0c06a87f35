#!/usr/bin/python3
"""Training throughput with data loading, PyTorch side of bench/train_run.sh (issue 5).

  train_loop_peer.py make DIR SIDE      write a synthetic image-folder dataset for SIDE × SIDE
                                        inputs: DIR/{face,person,product}/CLASS/N.jpg
  train_loop_peer.py run DIR CONFIG [--steps N] [--skip N] [--workers W] [--json]
                                        ufo-train's loop on DIR in PyTorch, images/s

The loop matches ufo-train with sampling = largest on the same files: one DataLoader with W
worker processes (ufo uses W decoding threads) builds heterogeneous batches (face 1/2 of the
batch, uniform draws; person and product 1/4 each, 4 images per identity), decodes with PIL
(JPEG DCT shrink as ufo), and applies ufo's training transform with torchvision: AutoAugment
(ImageNet policy) with p 0.5, bicubic resize, pad 10 and random crop, flip, normalise to
[-1, 1], random erasing (p 0.5, 2-33 % of the area, noise). Each step is bench/
train_step_peer.py's step of the largest architecture.
"""
import argparse
import json
import os
import random
import resource
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from torch.utils.data import DataLoader, Dataset, Sampler  # noqa: E402
from torchvision import transforms as T  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_step_peer as peer  # noqa: E402

# task: (classes, images per class); the same class counts as bench/train_step.c
DATA = {"face": (200, 5), "person": (100, 6), "product": (100, 6)}
K = 4  # images per identity in a retrieval task's share


def make(folder, side):
    """Images 5/4 of the input side, each a few random shapes over a gradient plus noise (so
    that they compress and decode like photographs rather than flat colour)."""
    rnd = random.Random(5)
    size = side * 5 // 4
    noise = Image.effect_noise((size, size), 40).convert("RGB")
    for task, (classes, per) in DATA.items():
        for c in range(classes):
            d = os.path.join(folder, task, "%04d" % c)
            os.makedirs(d, exist_ok=True)
            base = tuple(rnd.randrange(256) for _ in range(3))
            for i in range(per):
                img = Image.new("RGB", (size, size), base)
                draw = ImageDraw.Draw(img)
                for _ in range(6):
                    x0, y0 = rnd.randrange(size), rnd.randrange(size)
                    box = [x0, y0, x0 + rnd.randrange(4, size // 2), y0 + rnd.randrange(4, size // 2)]
                    draw.ellipse(box, fill=tuple(rnd.randrange(256) for _ in range(3)))
                img = Image.blend(img, noise, 0.15)
                img.save(os.path.join(d, "%02d.jpg" % i), quality=90)
    print("train_loop_peer: wrote %s (%d x %d JPEG)" % (folder, size, size))


class Folders(Dataset):
    """Items (task, index) of the three task folders; labels are class folders in byte order."""

    def __init__(self, root, side):
        self.items = {}
        for task in DATA:
            classes = sorted(os.listdir(os.path.join(root, task)))
            self.items[task] = [(os.path.join(root, task, c, f), label)
                                for label, c in enumerate(classes)
                                for f in sorted(os.listdir(os.path.join(root, task, c)))]
        self.side = side
        self.transform = T.Compose([
            T.RandomApply([T.AutoAugment(T.AutoAugmentPolicy.IMAGENET)], p=0.5),
            T.Resize((side, side), interpolation=T.InterpolationMode.BICUBIC),
            T.Pad(10),
            T.RandomCrop(side),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),
            T.RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value="random"),
        ])

    def __len__(self):
        return sum(len(v) for v in self.items.values())

    def __getitem__(self, key):
        task, i = key
        path, label = self.items[task][i]
        img = Image.open(path)
        img.draft("RGB", (self.side, self.side))
        return self.transform(img.convert("RGB")), label


class HeteroBatches(Sampler):
    """Per step: the face share drawn uniformly, each retrieval share as P identities × K."""

    def __init__(self, ds, shares, seed=0):
        self.ds, self.shares, self.rnd = ds, shares, random.Random(seed)
        self.by_label = {}
        for task in ("person", "product"):
            groups = {}
            for i, (_, label) in enumerate(ds.items[task]):
                groups.setdefault(label, []).append(i)
            self.by_label[task] = list(groups.values())

    def __iter__(self):
        while True:
            batch = [("face", self.rnd.randrange(len(self.ds.items["face"])))
                     for _ in range(self.shares[0])]
            for task, share in (("person", self.shares[1]), ("product", self.shares[2])):
                for ids in self.rnd.sample(self.by_label[task], (share + K - 1) // K):
                    batch += [(task, i) for i in self.rnd.sample(ids, K)]
            yield batch

    def __len__(self):
        return 1 << 30


def cpu_seconds(it):
    """User + system seconds of this process and of the loader's worker processes."""
    tick = os.sysconf("SC_CLK_TCK")
    r = resource.getrusage(resource.RUSAGE_SELF)
    total = r.ru_utime + r.ru_stime
    for w in getattr(it, "_workers", []):
        with open("/proc/%d/stat" % w.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def run(a):
    width, heads, side, batch = peer.CONFIGS[a.config]
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(7)
    ds = Folders(a.dir, side)
    shares = [batch // 2, batch // 4, batch - batch // 2 - batch // 4]
    begin = [0, shares[0], shares[0] + shares[1], batch]
    for task, (classes, _) in DATA.items():  # the CosFace widths come from the data, as in ufo
        n = len({label for _, label in ds.items[task]})
        assert n == classes, "%s: %d classes, expected %d" % (task, n, classes)
    net = peer.Supernet(width, heads, side, gen)
    opt = peer.make_optimizer(net)
    arch = net.largest()
    loader = DataLoader(ds, batch_sampler=HeteroBatches(ds, shares), num_workers=a.workers,
                        persistent_workers=a.workers > 0)
    it = iter(loader)
    t_first, c_first = time.perf_counter(), cpu_seconds(it)
    rates, t_last = [], t_first
    for step in range(a.skip + a.steps):
        images, labels = next(it)
        peer.train_step(net, opt, arch, (images, begin, labels), gen)
        now = time.perf_counter()
        if step == a.skip - 1:  # the warm-up steps stay out of the rate
            t_first, c_first = now, cpu_seconds(it)
        elif step >= a.skip:
            rates.append(batch / (now - t_last))
        t_last = now
    seconds = time.perf_counter() - t_first
    n = len(rates)
    cpu_total = cpu_seconds(it)
    cpu = cpu_total - c_first
    out = {"side": "torch", "config": a.config, "batch": batch, "steps": n,
           "workers": a.workers, "threads": a.threads,
           "images_per_s": round(n * batch / seconds, 2),
           "median_step_images_per_s": round(statistics.median(rates), 2),
           "cpu_ms_per_image": round(1e3 * cpu / (n * batch), 2),
           "cpu_ms_per_image_total": round(1e3 * cpu_total / ((a.skip + n) * batch), 2)}
    if a.json:
        print(json.dumps(out), flush=True)
    else:
        print("torch loop %s: %.2f images/s over %d steps (median step %.2f images/s), cpu %.2f "
              "ms/image, %d workers" % (a.config, out["images_per_s"], n,
                                        out["median_step_images_per_s"],
                                        out["cpu_ms_per_image"], a.workers))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("dir")
    m.add_argument("side", type=int)
    r = sub.add_parser("run")
    r.add_argument("dir")
    r.add_argument("config", choices=sorted(peer.CONFIGS))
    r.add_argument("--steps", type=int, default=10)
    r.add_argument("--skip", type=int, default=2, help="warm-up steps left out of the rate")
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.cmd == "make":
        make(a.dir, a.side)
    else:
        run(a)


if __name__ == "__main__":
    main()
