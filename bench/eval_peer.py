#!/usr/bin/python3
"""The numpy yardstick for bench/eval: the same arrays (written by `bench/eval --save DIR`)
scored the way common evaluation scripts do it: a BLAS matmul for the similarities and a full
argsort of every row, in blocks of queries so memory stays bounded.

    python3 bench/eval_peer.py DIR [--sop-seconds S] [--market-seconds S]

With the device's seconds given, prints the ratio numpy / device."""
import argparse
import time

import numpy as np


def load(d, name):
    x = np.load(f"{d}/{name}.npy")
    lab = np.loadtxt(f"{d}/{name}.txt", dtype=np.int64, usecols=(0, 1), comments="#", ndmin=2)
    return x, lab[:, 0], lab[:, 1]


def normalise(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def sop_recall(x, ids, ks=(1, 10, 100, 1000), block=1024):
    """Recall@K, every image querying all others."""
    x = normalise(x.astype(np.float32))
    n = len(x)
    ks = sorted({min(k, n - 1) for k in ks})
    hits = np.zeros(len(ks))
    for a in range(0, n, block):
        s = x[a:a + block] @ x.T
        s[np.arange(s.shape[0]), np.arange(a, a + s.shape[0])] = -np.inf
        order = np.argsort(-s, axis=1, kind="stable")[:, :-1]
        match = ids[order] == ids[a:a + block, None]
        first = np.where(match.any(1), match.argmax(1) + 1, n + 1)
        for i, k in enumerate(ks):
            hits[i] += (first <= k).sum()
    return {f"recall@{k}": h / n for k, h in zip(ks, hits)}


def reid_map(q, qid, qcam, g, gid, gcam, block=1024):
    """CMC, mAP and mINP with same-identity-same-camera and junk (-1) removed."""
    q, g = normalise(q.astype(np.float32)), normalise(g.astype(np.float32))
    ranks = [r for r in (1, 5, 10) if r <= len(g)]
    cmc, aps, inps = np.zeros(len(ranks)), [], []
    for a in range(0, len(q), block):
        dist = 1 - q[a:a + block] @ g.T
        order = np.argsort(dist, axis=1, kind="stable")
        for i in range(dist.shape[0]):
            o = order[i]
            keep = (gid[o] >= 0) & ~((gid[o] == qid[a + i]) & (gcam[o] == qcam[a + i]))
            rel = (gid[o][keep] == qid[a + i])
            if not rel.any():
                continue
            pos = np.flatnonzero(rel) + 1
            cmc += pos[0] <= np.array(ranks)
            aps.append((np.arange(1, len(pos) + 1) / pos).mean())
            inps.append(len(pos) / pos[-1])
    n = len(aps)
    out = {f"rank-{r}": c / n for r, c in zip(ranks, cmc)}
    out["mAP"] = float(np.mean(aps))
    out["mINP"] = float(np.mean(inps))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--sop-seconds", type=float)
    ap.add_argument("--market-seconds", type=float)
    args = ap.parse_args()

    x, ids, _ = load(args.dir, "sop")
    t = time.perf_counter()
    r = sop_recall(x, ids)
    t_sop = time.perf_counter() - t
    print(f"numpy sop {x.shape[0]} x {x.shape[1]}: {t_sop:.3f} s", r)
    if args.sop_seconds:
        print(f"sop: numpy {t_sop:.3f} s, device {args.sop_seconds:.3f} s, "
              f"ratio numpy/device {t_sop / args.sop_seconds:.2f}")

    q, qid, qcam = load(args.dir, "query")
    g, gid, gcam = load(args.dir, "gallery")
    t = time.perf_counter()
    r = reid_map(q, qid, qcam, g, gid, gcam)
    t_market = time.perf_counter() - t
    print(f"numpy market {len(q)} x {len(g)} x {q.shape[1]}: {t_market:.3f} s", r)
    if args.market_seconds:
        print(f"market: numpy {t_market:.3f} s, device {args.market_seconds:.3f} s, "
              f"ratio numpy/device {t_market / args.market_seconds:.2f}")


if __name__ == "__main__":
    main()
