#!/usr/bin/python3
"""PyTorch reference for ufo's elastic multi-task ViT supernet: one training step's forward
and backward, one evaluation forward, and three optimiser steps, on a tiny configuration.
Run it with Debian's python3-torch (`/usr/bin/python3 tests/reference/supernet_ref.py`); it
rewrites tests/reference/supernet_ref.safetensors, which the C tests compare against.

Everything is computed in float64 from float32 parameters and inputs, and stored as float32,
so the stored outputs are float32 roundings of the exact values.

THE FILE
  Parameters under their exact supernet names (src/model/params.h lists them), buffers
  included, so ufo_params_load_ignoring(layout, params, path, "ref.") loads them. Everything
  else is under "ref.":
    ref.input.images    [B, 3, S, S]   image pixels, already normalised
    ref.input.labels    [B]            class index within the sample's task (float)
    ref.input.task      [B]            task index of each sample (float); tasks contiguous
    ref.input.gumbel    [B, depth, 2]  gumbel noise g[b, block, i] (see GATES)
    ref.out.embed       [B, T, C]      tokens after patch embedding, cls and pos_embed
    ref.out.block.N     [B, T, C]      residual stream after kept block N (training pass)
    ref.out.gate_probs  [B, depth, 2]  forward gate weights (p0, p1); 0 for dropped blocks
    ref.out.gate_soft   [B, depth, 2]  softmax((logits + g) / tau); 0 for dropped blocks
    ref.out.feature     [B, C]         pre-neck feature: final LN of the cls token
    ref.out.neck        [B, C]         BN-neck output (training: batch statistics)
    ref.out.logits.TASK [n_TASK, classes]  CosFace logits s·(cos − m·onehot)
    ref.out.running_mean.TASK, ref.out.running_var.TASK [C]  BN-neck buffers after the step
    ref.loss.cosface.TASK [1], ref.loss.triplet.TASK [1] (retrieval tasks), ref.loss.total [1]
    ref.grad.NAME       gradient of ref.loss.total for every trainable tensor NAME (all but
                        the BN-neck bias and the running statistics); zero where unused
    ref.eval.feature, ref.eval.neck [B, C]  evaluation pass (see EVALUATION)
    ref.optim.*         the optimisation (see OPTIMISATION): S = 3 steps, N tensors
      gumbel    [S, B, depth, 2]  each step's gate noise
      lr        [S]               each step's rate from the schedule's closed form
      loss      [S]               each step's total loss, before its update
      grad_norm [S, N]            |g| of each tensor (layout order) before the clip; −1 where
                                  the step leaves the tensor alone (no gradient: frozen, a
                                  buffer, or a dropped block's)
      delta.NAME                  Δ = final − initial of tensor NAME, flattened, every k-th
                                  element (k = ceil(numel / 256), made odd when above 1)
      delta_stats     [N, 3]      (Σ Δ, Σ |Δ|, |Δ|) of every tensor, buffers included
      momentum_stats  [N, 3]      (Σ v, Σ |v|, |v|) of the final momentum buffers; 0 for
                                  tensors without one
      moved           [N, 3]      how far each tensor travelled: with c_s the change of step s,
                                  (Σ_s Σ |c_s|, Σ_s |c_s|, max over elements of Σ_s |c_s|);
                                  the scale of a comparison of Δ, whose steps may cancel
  Metadata: ufo.format, ufo.space (the search space JSON, as ufo_space_to_json writes it),
  ufo.reference.arch (the architecture JSON, as ufo_arch_to_json writes it),
  ufo.reference.config (tau, BN-neck eps and momentum, batch layout), ufo.reference.optim
  (the OPTIM hyper-parameters below) and ufo.reference.optim.arch.S (step S's architecture).

CONVENTIONS THE C SIDE MUST FOLLOW
  Layout. Linear weights are [out, in]; y = x·Wᵀ + b. qkv rows are q heads 0..H−1, then k
    heads, then v heads (H = max_heads, head_dim rows each); h heads use rows s·A + [0, h·hd)
    for s = 0, 1, 2 (A = H·hd) and columns [0, h·hd) of proj. The attention output of a
    token is heads side by side: column head·hd + d. Expansion m uses rows [0, m·C) of fc1
    and columns [0, m·C) of fc2, for the shared and the task FFN alike.
  Embedding. patch_embed is a stride-p convolution: patch (py, px) of the S/p × S/p grid,
    row-major, is token 1 + py·(S/p) + px; its input vector is ordered (channel, ky, kx) to
    match weight [C, 3, p, p]. Token 0 is cls_token. pos_embed is added to all T tokens.
  Blocks. Pre-norm: x += proj(attn(LN1(x))); u = LN2(x); x += p0·shared(u) + p1·task(u),
    where task(u) is the FFN of the sample's own task. FFN = fc2(GELU(fc1(u))), exact erf
    GELU. LN eps 1e-6, biased variance. Attention: softmax(q·kᵀ / sqrt(head_dim)) · v within
    each image, per head. A dropped block is skipped (its gumbel slot is still there).
  GATES (training). Gate of task t in block N: blocks.N.gate.t = (l0, l1); l0 weighs the
    shared FFN, l1 the task FFN. For sample b of task t in kept block N:
      y = softmax((l + g[b, N, :]) / tau), tau = 5,
      forward: p = one_hot(argmax(l + g[b, N, :])) exactly (0.0 or 1.0; a tie picks 0),
      backward: dL/dl = Jacobian of y applied to dL/dp (straight-through),
      dL/dp_i = Σ over tokens and channels of dL/dx_out · path_i(u).
    Both FFNs run for every sample in training, whatever p is.
  Feature. LN(x) with norm.weight/bias (eps 1e-6), token 0.
  BN-neck (per task, over that task's samples only). Training: mean and biased variance
    over the batch rows of the task; neck = (f − mean)/sqrt(var + 1e-5)·w + b with b frozen
    (no gradient, never updated); running_mean ← 0.9·running_mean + 0.1·mean,
    running_var ← 0.9·running_var + 0.1·var·n/(n−1) (unbiased). Evaluation uses the
    running statistics (those stored in the file, before this step's update).
  CosFace (per task, on the neck output). cos = (n/max(|n|, 1e-12)) · (w_c/max(|w_c|, 1e-12))
    for each class row w_c of heads.t.cosface.weight; logits = s·(cos − m·[c = label]);
    loss = mean over the task's samples of cross-entropy(logits, label).
  Triplet (tasks with triplet = true, on the pre-neck feature f of the task's samples).
    d(i, j) = sqrt(max(Σ_k (f_ik − f_jk)², 1e-12)); for each anchor i: d_ap = max d(i, j)
    over j ≠ i with the same label, d_an = min d(i, j) over j with another label;
    loss = mean over anchors of log(1 + exp(d_ap − d_an)). Every anchor of the batch has a
    positive and a negative.
  Total. loss = Σ_t loss_weight_t · (cosface_t + triplet_t), triplet_t = 0 for tasks
    without triplet. No drop-path (rate 0) anywhere here; weight decay only in OPTIMISATION.
  EVALUATION. The architecture's paths decide: shared → p = (1, 0), task → p = (0, 1),
    both → p = softmax(l / tau) (no noise). BN-neck uses the running statistics.
  OPTIMISATION (ufo-train's optimiser step, src/train/optim.h). From the parameters above,
    with momentum buffers at zero, steps s = 0, 1, 2 each run a training pass (as above, on
    the same labels; sample b shows image (b + s) mod B of ref.input.images, the gumbel noise
    is ref.optim.gumbel[s]) under OPTIM_ARCHS[s]: step 0 keeps every block, step 1 drops
    block 2 (ARCH), step 2 keeps block 2 again and drops block 3. BN-neck running statistics
    carry over from step to step. Then the update, exactly PyTorch's recipe:
      torch.nn.utils.clip_grad_norm_([p], grad_clip) for each tensor p alone, that is
        g ← c·g with c = min(1, grad_clip / (|g| + 1e-6)), |g| the tensor's own L2 norm;
      torch.optim.SGD(momentum, dampening 0, no Nesterov), one parameter group per rate:
        g' = g + wd·w (wd = weight_decay for "decay" tensors, 0 otherwise),
        v = momentum·v + g' (v = g' on a tensor's first update), w ← w − rate·v,
      rate = lr_s × bias_lr_factor for names ending ".bias" × lr_scale[t] for the tensors of
        task t (blocks.N.task_mlp.t.*, blocks.N.gate.t, heads.t.*),
      lr_s = schedule_lr(s) with iterations 4 and warmup fraction 0.25 (lr = base, base,
        final + (base − final)/2).
    Clipping comes before weight decay, so decay is never clipped. A tensor of a dropped
    block has no gradient (grad is None), so SGD leaves it and its momentum alone: block 2's
    momentum at step 2 is 0.9·v₀ + g'₂, not 0.81·v₀ + g'₂. Every other trainable tensor is
    updated even where its gradient is zero (unused heads or hidden units of an elastic
    slice, a task FFN no sample's gate picked): weight decay and momentum still act.
    The clip bites on about half the tensors at every step (the script checks both kinds
    exist); every gate decision of every step is away from a tie.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "supernet_ref.safetensors")

TAU = 5.0
BN_EPS = 1e-5
BN_MOMENTUM = 0.1
LN_EPS = 1e-6

SPACE = {
    "embed_dim": 64, "head_dim": 16, "max_heads": 4, "depth": 4, "patch": 8,
    "image_size": 32, "mlp_ratio_max": 2.0, "heads_choices": [2, 3, 4],
    "mlp_ratio_choices": [1.0, 1.5, 2.0], "min_depth": 2,
    "tasks": [
        {"name": "face", "classes": 3, "triplet": False, "cosface_scale": 32.0,
         "cosface_margin": 0.35, "loss_weight": 1.0},
        {"name": "person", "classes": 5, "triplet": True, "cosface_scale": 30.0,
         "cosface_margin": 0.25, "loss_weight": 0.7},
        {"name": "product", "classes": 4, "triplet": True, "cosface_scale": 16.0,
         "cosface_margin": 0.2, "loss_weight": 1.3},
    ],
}

# h < max, m < max, one dropped block (in the middle), every path kind for every task
ARCH = {"blocks": [
    {"heads": 4, "mlp_ratio": 2.0, "kept": True,
     "paths": {"face": "shared", "person": "task", "product": "both"}},
    {"heads": 3, "mlp_ratio": 1.0, "kept": True,
     "paths": {"face": "both", "person": "shared", "product": "task"}},
    {"heads": 4, "mlp_ratio": 2.0, "kept": False,
     "paths": {"face": "shared", "person": "shared", "product": "shared"}},
    {"heads": 2, "mlp_ratio": 1.5, "kept": True,
     "paths": {"face": "task", "person": "both", "product": "shared"}},
]}

# THE OPTIMISATION: three SGD steps from the same parameters (see the docstring)
OPTIM = {"steps": 3, "iterations": 4, "base_lr": 0.1, "warmup_fraction": 0.25,
         "final_lr_fraction": 0.1, "momentum": 0.9, "weight_decay": 0.05, "grad_clip": 2.0,
         "bias_lr_factor": 2.0, "lr_scale": {"face": 1.0, "person": 2.5, "product": 0.5}}


def training_arch(blocks):
    """An architecture of (heads, mlp_ratio, kept) per block; paths only matter in evaluation."""
    return {"blocks": [{"heads": h, "mlp_ratio": m, "kept": k,
                        "paths": {t["name"]: "both" for t in SPACE["tasks"]}}
                       for h, m, k in blocks]}


# step 0 keeps every block, step 1 drops block 2 (ARCH), step 2 keeps block 2 again and drops 3
OPTIM_ARCHS = [training_arch([(3, 1.5, True), (4, 2.0, True), (2, 1.0, True), (4, 2.0, True)]),
               ARCH,
               training_arch([(2, 2.0, True), (4, 1.5, True), (3, 2.0, True), (4, 2.0, False)])]

# samples per task (contiguous, in task order) and their labels
LABELS = {"face": [0, 2, 1], "person": [3, 0, 3, 0], "product": [1, 1, 0, 0, 1]}

C = SPACE["embed_dim"]
HD = SPACE["head_dim"]
A = SPACE["max_heads"] * HD
FMAX = int(round(SPACE["mlp_ratio_max"] * C))
P = SPACE["patch"]
S = SPACE["image_size"]
G = S // P
T = G * G + 1
DEPTH = SPACE["depth"]
TASKS = [t["name"] for t in SPACE["tasks"]]


def layout():
    """(name, shape, kind) of every tensor in layout order; kind: decay, nodecay, frozen,
    buffer (as src/model/params.c)."""
    out = [("patch_embed.proj.weight", [C, 3, P, P], "decay"),
           ("patch_embed.proj.bias", [C], "nodecay"),
           ("cls_token", [1, 1, C], "nodecay"),
           ("pos_embed", [1, T, C], "nodecay")]
    for n in range(DEPTH):
        b = "blocks.%d." % n
        out += [(b + "norm1.weight", [C], "nodecay"), (b + "norm1.bias", [C], "nodecay"),
                (b + "attn.qkv.weight", [3 * A, C], "decay"),
                (b + "attn.qkv.bias", [3 * A], "nodecay"),
                (b + "attn.proj.weight", [C, A], "decay"),
                (b + "attn.proj.bias", [C], "nodecay"),
                (b + "norm2.weight", [C], "nodecay"), (b + "norm2.bias", [C], "nodecay")]
        for pre in [b + "mlp"] + [b + "task_mlp." + t for t in TASKS]:
            out += [(pre + ".fc1.weight", [FMAX, C], "decay"),
                    (pre + ".fc1.bias", [FMAX], "nodecay"),
                    (pre + ".fc2.weight", [C, FMAX], "decay"),
                    (pre + ".fc2.bias", [C], "nodecay")]
        out += [(b + "gate." + t, [2], "nodecay") for t in TASKS]
    out += [("norm.weight", [C], "nodecay"), ("norm.bias", [C], "nodecay")]
    for t in SPACE["tasks"]:
        h = "heads.%s." % t["name"]
        out += [(h + "bnneck.weight", [C], "nodecay"), (h + "bnneck.bias", [C], "frozen"),
                (h + "bnneck.running_mean", [C], "buffer"),
                (h + "bnneck.running_var", [C], "buffer"),
                (h + "cosface.weight", [t["classes"], C], "decay")]
    return out


def init_params(gen):
    """Seeded values, larger than a real init so every term matters; all biases non-zero."""
    params = {}
    for name, shape, kind in layout():
        def normal(std):
            return torch.randn(shape, generator=gen, dtype=torch.float32) * std
        if name == "patch_embed.proj.weight":
            v = normal(0.05)
        elif name.endswith("running_var"):
            v = 0.5 + torch.rand(shape, generator=gen, dtype=torch.float32)
        elif name.endswith("running_mean"):
            v = normal(0.1)
        elif ".gate." in name:
            v = normal(1.5)
        elif name.endswith("norm1.weight") or name.endswith("norm2.weight") or \
                name in ("norm.weight",) or name.endswith("bnneck.weight"):
            v = 1.0 + normal(0.1)
        elif name.endswith("cosface.weight"):
            v = normal(1.0)
        elif kind == "decay":
            v = normal(0.1)
        elif name in ("cls_token", "pos_embed"):
            v = normal(0.1)
        else:
            v = normal(0.05)  # biases (the frozen BN-neck bias too)
        params[name] = v.contiguous()
    return params


def layer_norm(x, w, b):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps=LN_EPS)


def ffn(u, W, pre, f):
    h = F.gelu(u @ W[pre + ".fc1.weight"][:f].t() + W[pre + ".fc1.bias"][:f])
    return h @ W[pre + ".fc2.weight"][:, :f].t() + W[pre + ".fc2.bias"]


def attention(u, W, b, h):
    B = u.shape[0]
    a = h * HD
    Wq, bq = W[b + "attn.qkv.weight"], W[b + "attn.qkv.bias"]
    q = u @ Wq[0:a].t() + bq[0:a]
    k = u @ Wq[A:A + a].t() + bq[A:A + a]
    v = u @ Wq[2 * A:2 * A + a].t() + bq[2 * A:2 * A + a]
    q, k, v = (z.reshape(B, T, h, HD).transpose(1, 2) for z in (q, k, v))
    s = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(HD), dim=-1)
    o = (s @ v).transpose(1, 2).reshape(B, T, a)
    return o @ W[b + "attn.proj.weight"][:, :a].t() + W[b + "attn.proj.bias"]


def forward(W, images, task_of, gumbel, train, record, arch=ARCH):
    """Features of the batch under `arch`; in training also the gate weights. `record`
    collects intermediates by name."""
    B = images.shape[0]
    x = F.conv2d(images, W["patch_embed.proj.weight"], W["patch_embed.proj.bias"], stride=P)
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([W["cls_token"].expand(B, 1, C), x], dim=1) + W["pos_embed"]
    record["embed"] = x
    probs = torch.zeros(B, DEPTH, 2, dtype=x.dtype)
    softs = torch.zeros(B, DEPTH, 2, dtype=x.dtype)
    for n, blk in enumerate(arch["blocks"]):
        if not blk["kept"]:
            continue
        b = "blocks.%d." % n
        f = int(round(blk["mlp_ratio"] * C))
        x = x + attention(layer_norm(x, W[b + "norm1.weight"], W[b + "norm1.bias"]), W, b,
                          blk["heads"])
        u = layer_norm(x, W[b + "norm2.weight"], W[b + "norm2.bias"])
        shared = ffn(u, W, b + "mlp", f)
        task_out = torch.empty_like(shared)
        p_rows = []
        for ti, t in enumerate(TASKS):
            rows = (task_of == ti).nonzero().flatten()
            task_out[rows] = ffn(u[rows], W, b + "task_mlp." + t, f)
            logits = W[b + "gate." + t]
            if train:
                z = (logits.unsqueeze(0) + gumbel[rows, n]) / TAU
                y = torch.softmax(z, dim=-1)
                hard = F.one_hot(torch.argmax(z, dim=-1), 2).to(y.dtype)
                p = hard + (y - y.detach())  # exact one-hot forward, softmax gradient
                softs[rows, n] = y.detach()
            else:
                path = blk["paths"][t]
                if path == "shared":
                    p = torch.tensor([1.0, 0.0], dtype=x.dtype).expand(len(rows), 2)
                elif path == "task":
                    p = torch.tensor([0.0, 1.0], dtype=x.dtype).expand(len(rows), 2)
                else:
                    p = torch.softmax(logits / TAU, dim=-1).expand(len(rows), 2)
            p_rows.append((rows, p))
        p_all = torch.zeros(B, 2, dtype=x.dtype)
        for rows, p in p_rows:
            p_all = p_all.index_put((rows,), p)
        probs[:, n] = p_all.detach()
        x = x + p_all[:, 0, None, None] * shared + p_all[:, 1, None, None] * task_out
        record["block.%d" % n] = x
    feat = layer_norm(x, W["norm.weight"], W["norm.bias"])[:, 0]
    record["gate_probs"] = probs
    record["gate_soft"] = softs
    return feat


def triplet(f, labels):
    d = torch.sqrt(torch.clamp(((f[:, None, :] - f[None, :, :]) ** 2).sum(-1), min=1e-12))
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool)
    pos = same & ~eye
    neg = ~same
    assert pos.any(1).all() and neg.any(1).all(), "every anchor needs a positive and a negative"
    d_ap = torch.where(pos, d, torch.full_like(d, -1e30)).max(1).values
    d_an = torch.where(neg, d, torch.full_like(d, 1e30)).min(1).values
    # no near-ties, so float32 on the C side picks the same pairs
    for i in range(len(labels)):
        for mask, best in ((pos[i], d_ap[i]), (neg[i], d_an[i])):
            others = d[i][mask]
            gaps = (others - best).abs()
            gaps = gaps[gaps > 0]
            assert len(gaps) == 0 or gaps.min() > 1e-4, "triplet tie at anchor %d" % i
    return F.softplus(d_ap - d_an).mean()


def heads(W, feat, task_of, labels, train, rec):
    """Per task BN-neck, CosFace and triplet; returns (total loss, losses, necks)."""
    total = feat.new_zeros(())
    losses = {}
    neck = torch.zeros_like(feat)
    for ti, task in enumerate(SPACE["tasks"]):
        t = task["name"]
        rows = (task_of == ti).nonzero().flatten()
        f = feat[rows]
        h = "heads.%s." % t
        if train:
            mean = f.mean(0)
            var = f.var(0, unbiased=False)
            n = len(rows)
            rec["running_mean." + t] = (1 - BN_MOMENTUM) * W[h + "bnneck.running_mean"] + \
                BN_MOMENTUM * mean.detach()
            rec["running_var." + t] = (1 - BN_MOMENTUM) * W[h + "bnneck.running_var"] + \
                BN_MOMENTUM * var.detach() * n / (n - 1)
        else:
            mean = W[h + "bnneck.running_mean"]
            var = W[h + "bnneck.running_var"]
        nk = (f - mean) / torch.sqrt(var + BN_EPS) * W[h + "bnneck.weight"] + \
            W[h + "bnneck.bias"]
        neck = neck.index_put((rows,), nk)
        if not train:
            continue
        y = labels[rows]
        cos = F.normalize(nk, dim=1, eps=1e-12) @ \
            F.normalize(W[h + "cosface.weight"], dim=1, eps=1e-12).t()
        logits = task["cosface_scale"] * (cos - task["cosface_margin"] *
                                          F.one_hot(y, task["classes"]).to(cos.dtype))
        rec["logits." + t] = logits
        ce = F.cross_entropy(logits, y)
        losses["cosface." + t] = ce
        loss_t = ce
        if task["triplet"]:
            tr = triplet(f, y)
            losses["triplet." + t] = tr
            loss_t = loss_t + tr
        total = total + task["loss_weight"] * loss_t
    return total, losses, neck


def gate_picks(params, gumbel, task_of, arch):
    """The hard gate decisions (1: task path) of a training pass; each must be well away from
    a tie, so that float32 on the C side picks the same."""
    picks = []
    for b in range(len(task_of)):
        for n, blk in enumerate(arch["blocks"]):
            if blk["kept"]:
                lg = params["blocks.%d.gate.%s" % (n, TASKS[task_of[b]])].detach().double()
                z = lg + gumbel[b, n].double()
                assert abs(z[0] - z[1]) > 1e-3, "gate near a tie: sample %d block %d" % (b, n)
                picks.append(int(z[1] > z[0]))
    return picks


def schedule_lr(step):
    """The closed form of src/train/schedule.h: warmup step k of W gives base·(k + 1)/W; then
    final + (base − final)·(1 + cos(π·t))/2 with t = (step − W)/(iterations − 1 − W)."""
    o = OPTIM
    base, final = o["base_lr"], o["final_lr_fraction"] * o["base_lr"]
    warmup = min(math.floor(o["warmup_fraction"] * o["iterations"] + 0.5), o["iterations"])
    if step < warmup:
        return base * (step + 1) / warmup
    span = o["iterations"] - 1 - warmup
    if span <= 0:
        return base
    t = min(1.0, (step - warmup) / span)
    return final + (base - final) * 0.5 * (1 + math.cos(math.pi * t))


def tensor_lr_factor(name):
    """bias_lr_factor for a ".bias", times lr_scale of the task that owns the tensor (its task
    FFN, gate or heads)."""
    factor = OPTIM["bias_lr_factor"] if name.endswith(".bias") else 1.0
    for t in TASKS:
        if (".task_mlp.%s." % t) in name or name.endswith(".gate." + t) or \
                name.startswith("heads.%s." % t):
            factor *= OPTIM["lr_scale"][t]
    return factor


def optimise(params32, images32, task_of, labels, gen):
    """OPTIM["steps"] training steps in float64 with PyTorch's own clip and SGD. Returns the
    final parameters and momentum buffers (by name), how far each tensor moved (see
    ref.optim.moved), the per-step losses, rates, clip
    gradient norms [steps, tensors in layout order] and gumbel noise."""
    trainable = [name for name, _, kind in layout() if kind in ("decay", "nodecay")]
    W = {name: v.double().requires_grad_(name in trainable) for name, v in params32.items()}
    groups = {}
    for name, _, kind in layout():
        if name in trainable:
            wd = OPTIM["weight_decay"] if kind == "decay" else 0.0
            groups.setdefault((tensor_lr_factor(name), wd), []).append(W[name])
    opt = torch.optim.SGD([{"params": ps, "factor": f, "weight_decay": wd}
                           for (f, wd), ps in groups.items()],
                          lr=OPTIM["base_lr"], momentum=OPTIM["momentum"], dampening=0,
                          nesterov=False)
    B = len(labels)
    losses, rates, grad_norms, noise = [], [], [], []
    travel, path = {}, {}  # per tensor: Σ over steps of |step's change| elementwise, of its norm
    for step, arch in enumerate(OPTIM_ARCHS):
        # fixed inputs: the images rolled by `step` samples, fresh gumbel noise
        images = torch.roll(images32, -step, dims=0).double()
        u = torch.rand(B, DEPTH, 2, generator=gen, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
        gumbel32 = (-torch.log(-torch.log(u))).to(torch.float32)
        noise.append(gumbel32)
        picks = gate_picks(W, gumbel32, task_of, arch)
        assert 0 < sum(picks) < len(picks), "step %d: gates must pick both paths" % step

        # forward and backward; tensors of dropped blocks get no gradient at all
        for name in trainable:
            W[name].grad = None
        rec = {}
        feat = forward(W, images, task_of, gumbel32.double(), True, rec, arch)
        total, _, _ = heads(W, feat, task_of, labels, True, rec)
        total.backward()
        losses.append(total.item())

        # per-tensor clip, then SGD at the scheduled rate
        norms = []
        for name, _, _ in layout():
            p = W[name]
            if not p.requires_grad or p.grad is None:
                norms.append(-1.0)
                continue
            norms.append(torch.nn.utils.clip_grad_norm_([p], OPTIM["grad_clip"]).item())
        clipped = sum(n > OPTIM["grad_clip"] for n in norms)
        assert clipped >= 10 and sum(0 < n < OPTIM["grad_clip"] for n in norms) >= 10, \
            "the clip must bite on some tensors and not on others"
        grad_norms.append(norms)
        lr = schedule_lr(step)
        rates.append(lr)
        for g in opt.param_groups:
            g["lr"] = lr * g["factor"]
        was = {name: v.detach().clone() for name, v in W.items()}
        opt.step()

        # BN-neck running statistics, as the forward pass left them
        with torch.no_grad():
            for t in TASKS:
                h = "heads.%s.bnneck." % t
                W[h + "running_mean"] = rec["running_mean." + t].detach()
                W[h + "running_var"] = rec["running_var." + t].detach()
            for name, v in W.items():
                move = (v.detach() - was[name]).abs().flatten()
                travel[name] = travel.get(name, 0) + move
                path[name] = path.get(name, 0) + move.norm().item()
        print("optim step %d: lr %.4f, loss %.6f, %d of %d tensors clipped, %d not updated" %
              (step, lr, total.item(), clipped, len(norms), sum(n < 0 for n in norms)))
    momentum = {}
    for name in trainable:
        state = opt.state[W[name]]
        momentum[name] = state["momentum_buffer"].detach()
    final = {name: W[name].detach() for name in W}
    moved = {name: [travel[name].sum().item(), path[name], travel[name].max().item()]
             for name in W}
    return final, momentum, moved, losses, rates, grad_norms, noise


def summary(x):
    """(Σ x, Σ |x|, |x|) of a tensor, in float64."""
    x = x.double().flatten()
    return [x.sum().item(), x.abs().sum().item(), x.norm().item()]


def sample(x):
    """Every k-th element of the flattened tensor, k odd (so that rows of any even width are
    sampled at every column), at most 256 elements; all of a small tensor."""
    x = x.flatten()
    k = max(1, -(-x.numel() // 256))
    k += 1 - k % 2 if k > 1 else 0
    return x[::k]


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, float32 tensor); written in order, header padded to 8."""
    header = {"__metadata__": metadata}
    blobs = []
    at = 0
    for name, t in tensors:
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [at, at + len(data)]}
        blobs.append(data)
        at += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as fp:
        fp.write(struct.pack("<Q", len(text)))
        fp.write(text)
        for blob in blobs:
            fp.write(blob)
    os.replace(tmp, path)


def main():
    gen = torch.Generator().manual_seed(20220603)
    params32 = init_params(gen)

    # inputs: tasks contiguous in task order
    task_of = torch.tensor([ti for ti, t in enumerate(TASKS) for _ in LABELS[t]])
    labels = torch.tensor([y for t in TASKS for y in LABELS[t]])
    B = len(labels)
    images32 = torch.randn(B, 3, S, S, generator=gen, dtype=torch.float32)
    u = torch.rand(B, DEPTH, 2, generator=gen, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
    gumbel32 = (-torch.log(-torch.log(u))).to(torch.float32)

    # every gate decision well away from a tie, and both outcomes present
    picks = gate_picks(params32, gumbel32, task_of, ARCH)
    assert 0 < sum(picks) < len(picks), "gates must pick both paths somewhere"

    # training step in float64
    W = {k: v.double().requires_grad_(kind in ("decay", "nodecay"))
         for (k, _, kind), v in zip(layout(), params32.values())}
    images = images32.double()
    gumbel = gumbel32.double()
    rec = {}
    feat = forward(W, images, task_of, gumbel, True, rec)
    total, losses, neck = heads(W, feat, task_of, labels, True, rec)
    total.backward()

    # evaluation pass
    with torch.no_grad():
        erec = {}
        efeat = forward(W, images, task_of, gumbel, False, erec)
        _, _, eneck = heads(W, efeat, task_of, labels, False, erec)

    out = [(k, v) for k, v in params32.items()]
    out += [("ref.input.images", images32), ("ref.input.labels", labels.float()),
            ("ref.input.task", task_of.float()), ("ref.input.gumbel", gumbel32),
            ("ref.out.embed", rec["embed"])]
    out += [("ref.out." + k, rec[k]) for k in rec if k.startswith("block.")]
    out += [("ref.out.gate_probs", rec["gate_probs"]), ("ref.out.gate_soft", rec["gate_soft"]),
            ("ref.out.feature", feat), ("ref.out.neck", neck)]
    for t in TASKS:
        out += [("ref.out.logits." + t, rec["logits." + t]),
                ("ref.out.running_mean." + t, rec["running_mean." + t]),
                ("ref.out.running_var." + t, rec["running_var." + t])]
    out += [("ref.loss." + k, v.reshape(1)) for k, v in losses.items()]
    out += [("ref.loss.total", total.reshape(1))]
    for name, _, kind in layout():
        if kind in ("decay", "nodecay"):
            g = W[name].grad
            out.append(("ref.grad." + name, g if g is not None else torch.zeros_like(W[name])))
    out += [("ref.eval.feature", efeat), ("ref.eval.neck", eneck)]

    # three optimiser steps from the same start (after every other draw from gen)
    final, momentum, moved, opt_losses, rates, grad_norms, noise = optimise(
        params32, images32, task_of, labels, gen)
    out += [("ref.optim.gumbel", torch.stack(noise)),
            ("ref.optim.lr", torch.tensor(rates, dtype=torch.float64)),
            ("ref.optim.loss", torch.tensor(opt_losses, dtype=torch.float64)),
            ("ref.optim.grad_norm", torch.tensor(grad_norms, dtype=torch.float64))]
    stats, mstats, moves = [], [], []
    for name, _, _ in layout():
        delta = final[name] - params32[name].double()
        stats.append(summary(delta))
        moves.append(moved[name])
        mstats.append(summary(momentum[name]) if name in momentum else [0.0, 0.0, 0.0])
        out.append(("ref.optim.delta." + name, sample(delta)))
    out += [("ref.optim.delta_stats", torch.tensor(stats, dtype=torch.float64)),
            ("ref.optim.momentum_stats", torch.tensor(mstats, dtype=torch.float64)),
            ("ref.optim.moved", torch.tensor(moves, dtype=torch.float64))]

    config = {"tau": TAU, "bn_eps": BN_EPS, "bn_momentum": BN_MOMENTUM, "ln_eps": LN_EPS,
              "batch": B, "task_rows": {t: int((task_of == i).sum()) for i, t in
                                        enumerate(TASKS)},
              "drop_path": 0.0, "weight_decay": 0.0}
    meta = {"ufo.format": "ufo-supernet-1", "ufo.space": json.dumps(SPACE),
            "ufo.reference.arch": json.dumps(ARCH), "ufo.reference.config": json.dumps(config),
            "ufo.reference.optim": json.dumps(OPTIM)}
    for step, arch in enumerate(OPTIM_ARCHS):
        meta["ufo.reference.optim.arch.%d" % step] = json.dumps(arch)
    write_safetensors(OUT, out, meta)

    n_params = sum(v.numel() for v in params32.values())
    print("wrote %s: %d parameters, %d bytes" % (OUT, n_params, os.path.getsize(OUT)))
    print("loss total %.6f  %s" % (total.item(), "  ".join("%s %.6f" % (k, v.item())
                                                           for k, v in losses.items())))
    print("gate picks: %d of %d chose the task path" % (sum(picks), len(picks)))


if __name__ == "__main__":
    sys.exit(main())
