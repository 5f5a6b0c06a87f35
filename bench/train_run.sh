#!/bin/sh
# Training benchmarks against PyTorch on this machine, with the ratio ufo/PyTorch per case:
#   step  (issue 3) one training step, bench/train_step beside bench/train_step_peer.py, for the
#         small and large configurations and their largest and smallest architectures;
#   loop  (issue 5) training throughput with data loading: ufo-train (sampling = largest) on a
#         generated JPEG folder dataset, images/s read from its train.jsonl, beside
#         bench/train_loop_peer.py (a PyTorch DataLoader loop) on the same files.
#
# usage: bench/train_run.sh [--device SPEC] [--part step|loop|all] [--steps N] [--repeats R]
#                           [--loop-steps N] [--skip N] [--workers W]
# UFO_BENCH_CONFIGS="small" (or "large") limits the loop part to one configuration.
# PyTorch runs with 2 threads and OMP_WAIT_POLICY=PASSIVE; $PYTHON (default /usr/bin/python3,
# Debian's python3-torch) runs the peers. Timings are medians of the repeats; CPU time is
# shown beside them because the machine may be shared.
set -eu
cd "$(dirname "$0")/.."
py=${PYTHON:-/usr/bin/python3}
device=auto part=all steps=0 repeats=3 loop_steps=12 skip=3 workers=2
while [ $# -gt 0 ]; do
    case $1 in
    --device) device=$2; shift 2 ;;
    --part) part=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --loop-steps) loop_steps=$2; shift 2 ;;
    --skip) skip=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    *) sed -n '2,14s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done
export OMP_WAIT_POLICY=PASSIVE

make -s bench ufo-train >/dev/null
dir=$(mktemp -d /tmp/ufo-bench-train-XXXXXX)
trap 'rm -rf "$dir"' EXIT

if [ "$part" = step ] || [ "$part" = all ]; then
    echo "== one training step (issue 3): $repeats repeats, median"
    bench/train_step --json --device "$device" --repeats "$repeats" --steps "$steps" \
        >"$dir/step-ufo.jsonl" 2>"$dir/step-ufo.log" || { cat "$dir/step-ufo.log"; exit 1; }
    "$py" bench/train_step_peer.py --json --repeats "$repeats" --steps "$steps" \
        >"$dir/step-torch.jsonl"
    "$py" - "$dir/step-ufo.jsonl" "$dir/step-torch.jsonl" <<'EOF'
import json, sys
ufo = {(r["config"], r["arch"]): r for r in map(json.loads, open(sys.argv[1]))}
ref = {(r["config"], r["arch"]): r for r in map(json.loads, open(sys.argv[2]))}
dev = next(iter(ufo.values()))["device"]
print("%-6s %-8s %5s | %20s | %20s | %5s" % ("config", "arch", "batch", "ufo %s img/s (cpu)" % dev,
                                             "torch img/s (cpu)", "ratio"))
for key, u in ufo.items():
    t = ref[key]
    if u["params"] != t["params"]:
        sys.exit("parameter counts differ for %s: ufo %d, torch %d" % (key, u["params"], t["params"]))
    print("%-6s %-8s %5d | %9.2f (%6.0f ms) | %9.2f (%6.0f ms) | %5.2f" % (
        key[0], key[1], u["batch"], u["images_per_s"], u["cpu_ms_per_step"], t["images_per_s"],
        t["cpu_ms_per_step"], u["images_per_s"] / t["images_per_s"]))
print("(cpu: CPU time per step of the whole process; ratio: ufo/torch images/s)")
EOF
fi

if [ "$part" = loop ] || [ "$part" = all ]; then
    echo "== training loop with data loading (issue 5): $loop_steps steps after $skip warm-up" \
         "steps, $workers workers"
    : >"$dir/loop.txt"
    for cfg in ${UFO_BENCH_CONFIGS:-small large}; do
        case $cfg in
        small) width=192 heads=3 side=64 batch=64 ;;
        large) width=384 heads=6 side=128 batch=32 ;;
        esac
        data="$dir/data-$cfg"
        "$py" bench/train_loop_peer.py make "$data" $side >/dev/null
        iterations=$((skip + loop_steps))
        cat >"$dir/$cfg.ini" <<EOF
[model]
embed_dim = $width
depth = 6
heads = $heads
head_dim = 64
patch_size = 16
image_size = $side
mlp_ratio_max = 4
heads_choices = $((heads - 1)), $heads
mlp_ratio_choices = 3, 3.5, 4
min_depth = 5
drop_path_rate = 0.1

[task.face]
kind = classification
datasets = folder:$data/face
batch_size = $((batch / 2))
cosface_scale = 64
cosface_margin = 0.35

[task.person]
kind = retrieval
datasets = folder:$data/person
batch_size = $((batch / 4))
cosface_scale = 30
cosface_margin = 0.25
triplet = true

[task.product]
kind = retrieval
datasets = folder:$data/product
batch_size = $((batch / 4))
cosface_scale = 30
cosface_margin = 0.25
triplet = true

[train]
batch_size = $batch
iterations = $iterations
base_lr = 0.01
warmup_fraction = 0
sampling = largest
checkpoint_interval = 0
keep_checkpoints = 1
log_interval = 1
workers = $workers
run_dir = $dir/run-$cfg

[eval]
at_end = false
EOF
        /usr/bin/time -f "%e %U %S" -o "$dir/time-$cfg" ./ufo-train --config "$dir/$cfg.ini" \
            --device "$device" >"$dir/ufo-$cfg.log" 2>&1 || { cat "$dir/ufo-$cfg.log"; exit 1; }
        "$py" bench/train_loop_peer.py run "$data" $cfg --steps "$loop_steps" --skip "$skip" \
            --workers "$workers" --json >"$dir/torch-$cfg.json"
        "$py" - "$dir/run-$cfg/train.jsonl" "$dir/time-$cfg" "$dir/torch-$cfg.json" $cfg $batch \
            $skip >>"$dir/loop.txt" <<'EOF'
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if '"images_per_s"' in l]
cfg, batch, skip = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
rates = [l["images_per_s"] for l in lines if l["step"] > skip]
rate = len(rates) * batch / sum(batch / r for r in rates)
wall, user, sys_ = map(float, open(sys.argv[2]).read().split()[-3:])
cpu = 1e3 * (user + sys_) / (len(lines) * batch)
t = json.load(open(sys.argv[3]))
print("%-6s %5d | %8.2f (%5.1f ms) | %8.2f (%5.1f ms) | %5.2f" % (
    cfg, batch, rate, cpu, t["images_per_s"], t["cpu_ms_per_image_total"],
    rate / t["images_per_s"]))
EOF
    done
    printf "%-6s %5s | %20s | %20s | %5s\n" config batch "ufo img/s (cpu)" \
        "torch img/s (cpu)" ratio
    cat "$dir/loop.txt"
    echo "(cpu: CPU time per image of the whole run, workers included; ratio: ufo/torch)"
fi
