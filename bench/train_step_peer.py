#!/usr/bin/python3
"""Peer of bench/train_step: the same supernet training step in PyTorch on the CPU, timed.

The network is tests/reference/supernet_ref.py's supernet, written here in float32 with
parameters as leaf tensors: ViT blocks with elastic heads (leading rows of q, k and v), elastic
FFN width (leading rows of fc1, columns of fc2), a shared FFN and one FFN per task per block,
both run for every sample and mixed by a hard gumbel-softmax gate with straight-through
gradient, drop-path (one mask per sample and block, as ufo), final LN of the cls token,
per-task BN-neck (frozen bias), CosFace, and the batch-hard soft-margin triplet loss for the
retrieval tasks. The update is ufo-train's: per-tensor gradient clipping to norm 5, then SGD
with momentum 0.9, weight decay 1e-4 on matrices, bias learning rate x2.

usage: train_step_peer.py [--config small|large|all] [--arch largest|smallest|all]
                          [--steps N] [--warmup N] [--repeats R] [--threads T] [--json]
Run it with OMP_WAIT_POLICY=PASSIVE (bench/train_run.sh does): without it PyTorch's two
OpenMP thread pools spin against each other on a two-core machine.
"""
import argparse
import json
import math
import os
import resource
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402  (after the OpenMP setting)
import torch.nn.functional as F  # noqa: E402

# name: (width, heads, image side, batch), as bench/train_step.c
CONFIGS = {"small": (192, 3, 64, 64), "large": (384, 6, 128, 32)}
DEPTH, MIN_DEPTH, HEAD_DIM, PATCH, MLP_MAX, MLP_CHOICES = 6, 5, 64, 16, 4.0, (3.0, 3.5, 4.0)
# name, classes, triplet, cosface scale, margin, loss weight; the batch splits 2:1:1
TASKS = [("face", 200, False, 64.0, 0.35, 1.0), ("person", 100, True, 30.0, 0.25, 1.0),
         ("product", 100, True, 30.0, 0.25, 1.0)]
TAU, BN_EPS, BN_MOMENTUM, LN_EPS = 5.0, 1e-5, 0.1, 1e-6
LR, MOMENTUM, WEIGHT_DECAY, BIAS_LR_FACTOR, GRAD_CLIP, DROP_PATH = 0.01, 0.9, 1e-4, 2.0, 5.0, 0.1


class Supernet:
    """Parameters by their ufo/timm names; `decay` and `no_decay` list the trained ones."""

    def __init__(self, width, heads, image, gen):
        self.C, self.H, self.S = width, heads, image
        self.A = heads * HEAD_DIM
        self.F = int(MLP_MAX * width)
        self.T = (image // PATCH) ** 2 + 1
        C, A, Fm = self.C, self.A, self.F
        self.W, self.decay, self.no_decay = {}, [], []

        def add(name, shape, kind, init):
            t = init(torch.empty(shape))
            t.requires_grad_(kind != "frozen")
            self.W[name] = t
            (self.decay if kind == "decay" else self.no_decay if kind == "nodecay" else [])\
                .append(name)

        def normal(t):  # std 0.02 clamped at 2 std (ufo truncates; only the cost matters)
            return t.normal_(0, 0.02, generator=gen).clamp_(-0.04, 0.04)
        zeros, ones = torch.nn.init.zeros_, torch.nn.init.ones_
        add("patch_embed.proj.weight", [C, 3, PATCH, PATCH], "decay", normal)
        add("patch_embed.proj.bias", [C], "nodecay", zeros)
        add("cls_token", [1, 1, C], "nodecay", lambda t: t.normal_(0, 1e-6, generator=gen))
        add("pos_embed", [1, self.T, C], "nodecay", normal)
        for n in range(DEPTH):
            b = "blocks.%d." % n
            add(b + "norm1.weight", [C], "nodecay", ones)
            add(b + "norm1.bias", [C], "nodecay", zeros)
            add(b + "attn.qkv.weight", [3 * A, C], "decay", normal)
            add(b + "attn.qkv.bias", [3 * A], "nodecay", zeros)
            add(b + "attn.proj.weight", [C, A], "decay", normal)
            add(b + "attn.proj.bias", [C], "nodecay", zeros)
            add(b + "norm2.weight", [C], "nodecay", ones)
            add(b + "norm2.bias", [C], "nodecay", zeros)
            for pre in [b + "mlp"] + [b + "task_mlp." + t[0] for t in TASKS]:
                add(pre + ".fc1.weight", [Fm, C], "decay", normal)
                add(pre + ".fc1.bias", [Fm], "nodecay", zeros)
                add(pre + ".fc2.weight", [C, Fm], "decay", normal)
                add(pre + ".fc2.bias", [C], "nodecay", zeros)
            for t in TASKS:
                add(b + "gate." + t[0], [2], "nodecay", zeros)
        add("norm.weight", [C], "nodecay", ones)
        add("norm.bias", [C], "nodecay", zeros)
        self.running = {}
        for name, classes, *_ in TASKS:
            h = "heads.%s." % name
            add(h + "bnneck.weight", [C], "nodecay", ones)
            add(h + "bnneck.bias", [C], "frozen", zeros)
            add(h + "cosface.weight", [classes, C], "decay", normal)
            self.running[name] = (torch.zeros(C), torch.ones(C))

    def trainable(self):
        return sum(self.W[n].numel() for n in self.decay + self.no_decay)

    def largest(self):
        return [(self.H, MLP_MAX)] * DEPTH

    def smallest(self):
        return [(self.H - 1, MLP_CHOICES[0])] * MIN_DEPTH

    def attention(self, u, b, h):
        """u [B, T, C] -> the attention branch with heads 0..h-1."""
        W, A, a, B, T = self.W, self.A, h * HEAD_DIM, u.shape[0], self.T
        w, bias = W[b + "attn.qkv.weight"], W[b + "attn.qkv.bias"]
        if h < self.H:  # the leading rows of each of q, k and v, in one GEMM
            w = torch.cat([w[s * A:s * A + a] for s in range(3)])
            bias = torch.cat([bias[s * A:s * A + a] for s in range(3)])
        qkv = F.linear(u, w, bias).reshape(B, T, 3, h, HEAD_DIM).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        s = torch.softmax((q * (1.0 / math.sqrt(HEAD_DIM))) @ k.transpose(-1, -2), dim=-1)
        o = (s @ v).transpose(1, 2).reshape(B, T, a)
        return F.linear(o, W[b + "attn.proj.weight"][:, :a], W[b + "attn.proj.bias"])

    def ffn(self, u, pre, f):
        W = self.W
        g = F.gelu(F.linear(u, W[pre + ".fc1.weight"][:f], W[pre + ".fc1.bias"][:f]))
        return F.linear(g, W[pre + ".fc2.weight"][:, :f], W[pre + ".fc2.bias"])

    def loss(self, arch, images, begin, labels, gumbel, drop):
        """Total training loss of architecture `arch` ([(heads, ratio)] per kept block) on a
        batch whose task t holds rows begin[t]:begin[t + 1]."""
        W, C = self.W, self.C
        B = images.shape[0]
        x = F.conv2d(images, W["patch_embed.proj.weight"], W["patch_embed.proj.bias"],
                     stride=PATCH).flatten(2).transpose(1, 2)
        x = torch.cat([W["cls_token"].expand(B, 1, C), x], dim=1) + W["pos_embed"]
        for n, (h, ratio) in enumerate(arch):
            b = "blocks.%d." % n
            f = int(ratio * C)
            keep = 1.0 - DROP_PATH * n / (DEPTH - 1)
            scale = (drop[:, n] / keep)[:, None, None]
            u = F.layer_norm(x, (C,), W[b + "norm1.weight"], W[b + "norm1.bias"], LN_EPS)
            x = x + scale * self.attention(u, b, h)
            u = F.layer_norm(x, (C,), W[b + "norm2.weight"], W[b + "norm2.bias"], LN_EPS)
            shared = self.ffn(u, b + "mlp", f)
            mixed = []
            for ti, (name, *_) in enumerate(TASKS):
                r0, r1 = begin[ti], begin[ti + 1]
                task_out = self.ffn(u[r0:r1], b + "task_mlp." + name, f)
                z = (W[b + "gate." + name] + gumbel[r0:r1, n]) / TAU
                y = torch.softmax(z, dim=-1)
                p = F.one_hot(torch.argmax(z, dim=-1), 2).to(y.dtype) + (y - y.detach())
                mixed.append(p[:, 0, None, None] * shared[r0:r1] + p[:, 1, None, None] * task_out)
            x = x + scale * torch.cat(mixed)
        feat = F.layer_norm(x[:, 0], (C,), W["norm.weight"], W["norm.bias"], LN_EPS)

        total = feat.new_zeros(())
        for ti, (name, classes, trip, s, m, weight) in enumerate(TASKS):
            r0, r1 = begin[ti], begin[ti + 1]
            f, y = feat[r0:r1], labels[r0:r1]
            h = "heads.%s." % name
            rm, rv = self.running[name]
            neck = F.batch_norm(f, rm, rv, W[h + "bnneck.weight"], W[h + "bnneck.bias"], True,
                                BN_MOMENTUM, BN_EPS)
            cos = F.normalize(neck, dim=1) @ F.normalize(W[h + "cosface.weight"], dim=1).t()
            logits = s * (cos - m * F.one_hot(y, classes).to(cos.dtype))
            loss_t = F.cross_entropy(logits, y)
            if trip:
                d2 = (f.pow(2).sum(1, keepdim=True) + f.pow(2).sum(1) - 2 * f @ f.t())
                d = torch.sqrt(torch.clamp(d2, min=1e-12))
                same = y[:, None] == y[None, :]
                pos = same & ~torch.eye(len(y), dtype=torch.bool)
                d_ap = torch.where(pos, d, torch.full_like(d, -1e30)).max(1).values
                d_an = torch.where(~same, d, torch.full_like(d, 1e30)).min(1).values
                loss_t = loss_t + F.softplus(d_ap - d_an).mean()
            total = total + weight * loss_t
        return total


def make_optimizer(net):
    groups = []
    for names, wd in ((net.decay, WEIGHT_DECAY), (net.no_decay, 0.0)):
        for bias in (False, True):
            ps = [net.W[n] for n in names if n.endswith(".bias") == bias]
            if ps:
                groups.append({"params": ps, "lr": LR * (BIAS_LR_FACTOR if bias else 1.0),
                               "weight_decay": wd})
    return torch.optim.SGD(groups, lr=LR, momentum=MOMENTUM)


def train_step(net, opt, arch, batch, step_gen):
    """Forward, backward, the finite check, per-tensor clip and SGD, as ufo-train."""
    images, begin, labels = batch
    B = images.shape[0]
    gumbel = -torch.log(-torch.log(torch.rand(B, DEPTH, 2, generator=step_gen)
                                   .clamp_(1e-12, 1 - 1e-7)))
    rates = torch.tensor([DROP_PATH * n / (DEPTH - 1) for n in range(DEPTH)])
    drop = (torch.rand(B, DEPTH, generator=step_gen) >= rates).float()
    opt.zero_grad(set_to_none=True)
    loss = net.loss(arch, images, begin, labels, gumbel, drop)
    loss.backward()
    grads = [p.grad for g in opt.param_groups for p in g["params"] if p.grad is not None]
    norms = torch._foreach_norm(grads)
    if not (math.isfinite(loss.item()) and bool(torch.isfinite(torch.stack(norms)).all())):
        raise SystemExit("train_step_peer: the step is not finite")
    for g, n in zip(grads, norms):
        g.mul_(torch.clamp(GRAD_CLIP / (n + 1e-6), max=1.0))
    opt.step()


def make_batch(image, batch, gen):
    images = torch.rand(batch, 3, image, image, generator=gen) * 2 - 1
    begin = [0, batch // 2, batch // 2 + batch // 4, batch]
    labels = torch.empty(batch, dtype=torch.long)
    labels[:begin[1]] = torch.randint(0, 200, (begin[1],), generator=gen)
    for t in (1, 2):
        for i in range(begin[t], begin[t + 1]):
            labels[i] = ((i - begin[t]) // 4 * 37 + t) % 100
    return images, begin, labels


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="all")
    ap.add_argument("--arch", default="all")
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if not a.json:
        print("torch %s, %d threads, OMP_WAIT_POLICY=%s" % (
            torch.__version__, torch.get_num_threads(), os.environ.get("OMP_WAIT_POLICY")))
    gen = torch.Generator().manual_seed(7)
    for cname, (width, heads, image, batch) in CONFIGS.items():
        if a.config not in ("all", cname):
            continue
        net = Supernet(width, heads, image, gen)
        data = make_batch(image, batch, gen)
        for aname in ("largest", "smallest"):
            if a.arch not in ("all", aname):
                continue
            arch = net.largest() if aname == "largest" else net.smallest()
            opt = make_optimizer(net)
            n = a.steps or (4 if batch * image > 4096 else 8)
            for _ in range(a.warmup):
                train_step(net, opt, arch, data, gen)
            rates, step_ms, cpu_ms = [], [], []
            for _ in range(a.repeats):
                t0, c0 = time.perf_counter(), cpu_s()
                for _ in range(n):
                    train_step(net, opt, arch, data, gen)
                dt, dc = time.perf_counter() - t0, cpu_s() - c0
                rates.append(n * batch / dt)
                step_ms.append(1e3 * dt / n)
                cpu_ms.append(1e3 * dc / n)
            med = statistics.median(rates)
            if a.json:
                print(json.dumps({"side": "torch", "config": cname, "arch": aname,
                                  "batch": batch, "steps": n, "repeats": a.repeats,
                                  "images_per_s": round(med, 2),
                                  "step_ms": round(statistics.median(step_ms), 1),
                                  "cpu_ms_per_step": round(statistics.median(cpu_ms), 1),
                                  "params": net.trainable(), "threads": a.threads,
                                  "rates": [round(r, 2) for r in rates]}), flush=True)
            else:
                print("%s %-8s batch %2d: %7.2f images/s (step %.1f ms, cpu %.1f ms/step; "
                      "%d x %d steps; %d parameters)" % (
                          cname, aname, batch, med, statistics.median(step_ms),
                          statistics.median(cpu_ms), a.repeats, n, net.trainable()),
                      flush=True)


if __name__ == "__main__":
    main()
