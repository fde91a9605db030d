#!/usr/bin/env python3
"""torch_peer.py: PyTorch's figures for what `cascade bench` measures, on the
same card in the same call, and ours beside them as ratios.

Models are built from the same safetensors files (architectures as in
../shared/weights/MODELS.md), fp16, channels_last, inference_mode. "e2e"
means from pinned host uint8 CIFAR images: H2D copy, normalise, forward,
argmax, D2H, one stream, batch 1024 — as TARGETS.md measured its anchors.
Modes for the models alone: eager, CUDA graph, torch.compile; and the naive
cascade (cheap -> softmax -> mask -> index_select -> full). Measured in that
order of cost: every model eager and as a CUDA graph, then the cascades, then
torch.compile (whole batches only, dynamic=False: one compile per batch size),
whose compiles take a minute or more, so that a run cut off by a time limit
keeps the rest; the seconds of each part go to stderr and the JSON.

usage: torch_peer.py [--assets DIR] [--ours bench.json] [--images N] [--runs R] [--seed S]
                     [--models a,b] [--compile a,b] [--cascades cheap:full@thr,...] [--json FILE]
                     [--device cuda|cpu] [--threads N] [--batches B1,B2]
--json writes the PyTorch figures (medians, img/s) for profiling/targets.py, which
gives the TARGETS.md verdicts (the best cascade's speed-up over eager resnet34 among them).
--device cpu runs the same peers on the CPU in fp32 (no CUDA graph), over --threads
threads (all cores by default): the anchor for `cascade bench --device cpu`.
The images are cascade bench's: its seeded order (--seed, else --ours' seed) of
the test set replicated, all of --ours' images when --images is their count,
else the first --images of them (a random sample of the bench's images); more
--images than the bench's, or another --seed, is other images (a notice says so).
Needs torch and numpy; safetensors when importable, else a numpy reader of the format.
"""
import argparse, json, os, statistics, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from safetensors.torch import load_file
except ImportError:  # e.g. Debian's torch, which has no safetensors package
    load_file = None

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
DEVICE = "cuda"  # --device
DTYPE = torch.float16  # fp32 on the CPU


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class AlexNet(nn.Module):
    def __init__(self, widths):
        super().__init__()
        chans = (3,) + tuple(widths)
        for i in range(len(widths)):
            setattr(self, "conv%d" % (i + 1), nn.Conv2d(chans[i], chans[i + 1], 3, padding=1, bias=False))
            setattr(self, "bn%d" % (i + 1), nn.BatchNorm2d(chans[i + 1]))
        self.n = len(widths)
        self.fc1, self.fc2, self.fc3 = nn.Linear(widths[-1] * 16, 512), nn.Linear(512, 512), nn.Linear(512, 10)

    def forward(self, x):
        for i in range(1, self.n + 1):
            x = F.relu(getattr(self, "bn%d" % i)(getattr(self, "conv%d" % i)(x)))
            if i in (1, 2, self.n):
                x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64)
        cin, layers = 64, []
        for i, (width, n) in enumerate(zip((64, 128, 256, 512), blocks)):
            stage = []
            for j in range(n):
                stage.append(BasicBlock(cin, width, 2 if (j == 0 and i > 0) else 1))
                cin = width
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*stage))
        self.linear = nn.Linear(512, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


ARCHS = {
    "lenet": LeNet,
    "alexnet": lambda: AlexNet((64, 192, 384, 256, 256)),
    "alexnet_shallow": lambda: AlexNet((64, 192, 384, 256)),
    "alexnet_shallower": lambda: AlexNet((64, 192, 256)),
    "resnet18": lambda: ResNet((2, 2, 2, 2)),
    "resnet34": lambda: ResNet((3, 4, 6, 3)),
}


def read_safetensors(path):
    """The tensors of a safetensors file: the safetensors package's reader when
    present, else this one (an 8-byte header length, a JSON header, raw data)."""
    if load_file:
        return load_file(path)
    kinds = {"F32": np.float32, "F16": np.float16, "BF16": None, "I64": np.int64}
    with open(path, "rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(header_len))
        data = f.read()
    tensors = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if kinds.get(t["dtype"]) is None:
            raise SystemExit("%s: tensor %s has dtype %s, which this reader does not know" % (path, name, t["dtype"]))
        start, end = t["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=kinds[t["dtype"]]).reshape(t["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


def load_model(assets, name):
    model = ARCHS[name]()
    state = {k: v.float() for k, v in read_safetensors(os.path.join(assets, "weights", name + ".safetensors")).items()}
    model.load_state_dict(state, strict=False)  # BatchNorm's num_batches_tracked is not stored
    missing = set(model.state_dict()) - set(state) - {k for k in model.state_dict() if k.endswith("num_batches_tracked")}
    if missing:
        raise SystemExit("%s: missing tensors %s" % (name, sorted(missing)[:5]))
    return model.to(DEVICE, DTYPE).eval().to(memory_format=torch.channels_last)


def bench_order(n, seed):
    """cascade bench's order of n replicated images (host/job.c, shuffled_order):
    Fisher-Yates from the end, the k-th draw splitmix64's k-th output."""
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps, as in C
        k = np.arange(1, n, dtype=np.uint64)
        z = np.uint64(seed) + k * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    i = np.arange(n - 1, 0, -1, dtype=np.uint64)  # the draw for position i takes z % (i + 1)
    swaps = (z % (i + np.uint64(1))).tolist()
    order = list(range(n))
    for pos, j in zip(range(n - 1, 0, -1), swaps):
        order[pos], order[j] = order[j], order[pos]
    return order


def load_images(assets, count, population, seed):
    """The first `count` images of cascade bench's order over `population`
    replicated test images (the same images as the bench when the counts match),
    their labels and the first 16 test-set records (for the JSON: which images)."""
    raw = np.fromfile(os.path.join(assets, "data", "cifar10", "test_batch.bin"), dtype=np.uint8).reshape(-1, 3073)
    replicated = len(raw) * (-(-population // len(raw)))
    order = np.array(bench_order(replicated, seed)[:count], dtype=np.int64) % len(raw)
    images = torch.from_numpy(np.ascontiguousarray(raw[order, 1:])).reshape(count, 3, 32, 32)
    images = images.pin_memory() if DEVICE == "cuda" else images
    labels = torch.from_numpy(raw[order, 0].astype(np.int64))
    return images, labels, order[:16].tolist()


class Normalise:
    def __init__(self):
        self.scale = (1.0 / (255.0 * torch.tensor(STD))).view(1, 3, 1, 1).to(DEVICE, DTYPE)
        self.shift = (torch.tensor(MEAN) / torch.tensor(STD)).view(1, 3, 1, 1).to(DEVICE, DTYPE)

    def __call__(self, x_u8):
        x = x_u8.to(DTYPE) * self.scale - self.shift
        return x.contiguous(memory_format=torch.channels_last)


def synchronize():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def timed(fn, runs):
    fn()  # warm-up
    synchronize()
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        n = fn()
        synchronize()
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates), min(rates), max(rates)


def e2e_eager(model, images, out, norm, batch=1024, full_only=False):
    """full_only (torch.compile): whole batches only, as the CUDA graph runs,
    so that a last, shorter batch does not make Dynamo compile again for a
    dynamic batch size and time that graph instead."""
    end = len(images) // batch * batch if full_only and len(images) >= batch else len(images)

    def run():
        for i in range(0, end, batch):
            x = norm(images[i:i + batch].to(DEVICE, non_blocking=True))
            out[i:i + batch].copy_(model(x).argmax(1), non_blocking=True)
        return end
    return run


def e2e_graph(model, images, out, norm, batch=1024):
    if DEVICE != "cuda":
        raise RuntimeError("CUDA graphs need a CUDA device")
    if len(images) < batch:  # it replays whole batches only: no figure, rather than 0 images/s
        raise RuntimeError("%d images, fewer than one batch of %d" % (len(images), batch))
    static_in = torch.empty((batch, 3, 32, 32), dtype=torch.uint8, device="cuda")
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            model(norm(static_in))
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_pred = model(norm(static_in)).argmax(1)

    def run():
        full = len(images) // batch * batch
        for i in range(0, full, batch):
            static_in.copy_(images[i:i + batch], non_blocking=True)
            graph.replay()
            out[i:i + batch].copy_(static_pred, non_blocking=True)
        return full
    return run


def allow_compiles(count):
    """Dynamo compiles a code object at most recompile_limit (older 2.x:
    cache_size_limit) times, 8 by default, then runs it eagerly: models of one
    class share their forward, and each batch size is a compile of its own."""
    try:
        import torch._dynamo
    except ImportError:  # (no torch.compile: its rows then say it failed)
        return
    for knob in ("recompile_limit", "cache_size_limit"):
        if hasattr(torch._dynamo.config, knob):
            setattr(torch._dynamo.config, knob, max(getattr(torch._dynamo.config, knob), count + 8))
            return


def best_batch(batches, make_run, runs):
    """The median rate at each batch size, the best of them and its batch:
    (rate, batch, {batch: rate})."""
    rates = {b: timed(make_run(b), runs)[0] for b in batches}
    best = max(rates, key=rates.get)
    return rates[best], best, rates


def naive_cascade(cheap, full, images, out, norm, threshold, deferred, batch=1024):
    """deferred[0]: how many images the last run sent to the full model."""
    def run():
        deferred[0] = 0
        for i in range(0, len(images), batch):
            x = norm(images[i:i + batch].to(DEVICE, non_blocking=True))
            probs = torch.softmax(cheap(x).float(), 1)
            conf, pred = probs.max(1)
            idx = (conf < threshold).nonzero().squeeze(1)
            deferred[0] += idx.numel()  # (a sync, as the index_select's size is one anyway)
            if idx.numel():
                pred[idx] = full(x.index_select(0, idx)).argmax(1)
            out[i:i + batch].copy_(pred, non_blocking=True)
        return len(images)
    return run


def ours_figures(path):
    """Our figures from `cascade bench --json`; none (a notice) when the file is
    missing or unreadable: the peers are still worth measuring."""
    if not path:
        return {}, [], {}
    try:
        with open(path) as f:
            ours = json.load(f)
    except (OSError, ValueError) as e:
        print("torch_peer.py: --ours %s: %s; no ratios to our figures" % (path, e), file=sys.stderr)
        return {}, [], {}
    try:
        alone = {}
        for f in ours.get("alone", []):  # the best batch size's figure
            if f["images_per_s"]["median"] > alone.get(f["model"], (0, None))[0]:
                alone[f["model"]] = (f["images_per_s"]["median"], f.get("accuracy"))
        cascades = [f for f in ours.get("cascades", []) if (f["cheap"], f["full"], float(f["threshold"]))]  # (checks them)
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        print("torch_peer.py: --ours %s: not cascade bench's JSON (%s); no ratios to our figures" % (path, e),
              file=sys.stderr)
        return {}, [], {}
    return alone, cascades, ours


def image_order(args, ours):
    """The seed and the population of the peers' images: --seed, else --ours'
    seed, else 1; the order of --ours' image count when it covers --images
    (the bench's own images, or the first of them), else of --images."""
    def notice(message):
        print("torch_peer.py: " + message, file=sys.stderr)
    test_set = os.path.join(args.assets, "data", "cifar10", "test_batch.bin")
    theirs_data = ours.get("data")
    if isinstance(theirs_data, str) and os.path.realpath(theirs_data) != os.path.realpath(test_set):
        notice("--ours replicated %s, not %s: other images than the bench's" % (theirs_data, test_set))
    theirs_seed = ours.get("seed", 1)  # (a bench JSON from before the seed was written: its default)
    if type(theirs_seed) is not int or not 0 <= theirs_seed < 2 ** 64:
        if ours:
            notice("--ours' seed %r is no seed: taken as 1" % (theirs_seed,))
        theirs_seed = 1
    seed = args.seed if args.seed is not None else theirs_seed
    population = args.images
    theirs = ours.get("images")
    if type(theirs) is int and theirs >= args.images and theirs_seed == seed:
        population = theirs
    if ours and theirs_seed != seed:
        notice("--seed %d is not --ours' seed %d: other images than the bench's" % (seed, theirs_seed))
    elif type(theirs) is int and theirs < args.images:
        notice("--images %d is more than --ours' %d: other images than the bench's (its order covers %d)"
               % (args.images, theirs, theirs))
    print("images: %s%d of cascade bench's order of %d (seed %d)%s" % (
        "" if population == args.images else "the first ", args.images, population, seed,
        ", as --ours" if ours and population == ours.get("images") == args.images else ""))
    return seed, population


def write_json(path, figures):
    """The figures so far, replacing the file whole: a run stopped by its time
    limit still leaves every model and cascade it finished ("complete": false)."""
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(figures, f, indent=1)
    os.replace(tmp, path)


def set_device(device, threads):
    """Where the peers run (--device): the card in fp16, or the CPU in fp32
    over `threads` threads. Returns the device's name for the reports."""
    global DEVICE, DTYPE
    DEVICE, DTYPE = device, torch.float16 if device == "cuda" else torch.float32
    if device == "cuda":
        torch.backends.cudnn.benchmark = True
        return torch.cuda.get_device_name()
    torch.set_num_threads(max(1, threads))
    return "CPU, %d threads" % torch.get_num_threads()


def names(text):
    """A comma-separated list; "" or "none" is the empty one."""
    return [] if text in ("", "none") else text.split(",")


def check_args(args):
    """One line and exit 2 for an argument that cannot run, before any is
    measured: unknown models, a cascade not cheap:full@threshold, a threshold
    outside (0, 1], no images or runs, assets without the files."""
    def fail(message):
        print("torch_peer.py: " + message, file=sys.stderr)
        sys.exit(2)
    if args.images < 1 or args.runs < 1:
        fail("--images and --runs must be at least 1")
    if args.seed is not None and not 0 <= args.seed < 2 ** 63:
        fail("--seed must be in [0, 2^63)")
    try:
        args.batch_list = [int(b) for b in args.batches.split(",")]
    except ValueError:
        args.batch_list = []
    if not args.batch_list or min(args.batch_list) < 1 or len(set(args.batch_list)) != len(args.batch_list):
        fail("--batches: '%s' is not a list of distinct sizes >= 1" % args.batches)
    wanted = set(names(args.models)) | set(names(args.compile))
    cascades = []
    for spec in names(args.cascades):
        pair, at, thr = spec.partition("@")
        cheap, colon, full = pair.partition(":")
        try:
            threshold = float(thr)
        except ValueError:
            threshold = -1.0
        if not at or not colon or not 0.0 < threshold <= 1.0:
            fail("--cascades: '%s' is not cheap:full@threshold (a threshold in (0, 1])" % spec)
        wanted |= {cheap, full}
        cascades.append((cheap, full, thr))
    unknown = sorted(wanted - set(ARCHS))
    if unknown:
        fail("unknown model '%s' (known: %s)" % (unknown[0], ",".join(ARCHS)))
    for path in [os.path.join(args.assets, "data", "cifar10", "test_batch.bin")] + \
            [os.path.join(args.assets, "weights", m + ".safetensors") for m in sorted(wanted)]:
        if not os.path.isfile(path):
            fail("%s: not found (--assets or CASCADE_ASSETS)" % path)
    return cascades


def measure_alone(name, model, images, labels, out, norm, batches, args, figures):
    """Eager and (on a card) CUDA graph figures of one model alone, into figures["alone"]."""
    row, at, per_batch = {}, {}, {}

    def measure(mode, make_run):
        row[mode], at[mode], per_batch[mode] = best_batch(batches, make_run, args.runs)
    measure("eager", lambda b: e2e_eager(model, images, out, norm, b))
    acc = (out == labels).float().mean().item()
    try:
        if DEVICE == "cuda":
            measure("graph", lambda b: e2e_graph(model, images, out, norm, b))
    except Exception as e:  # a peer that cannot run is reported, not fatal
        print("  cuda graph failed for %s: %s" % (name, e), file=sys.stderr)
    figures["alone"][name] = dict(row, accuracy=acc, batch=at, per_batch=per_batch)
    write_json(args.json, figures)


def print_alone_row(name, figure, ours_alone, several_batches, compile_later):
    row = {m: figure[m] for m in ("eager", "graph", "compile") if m in figure}
    ours_rate, ours_acc = ours_alone.get(name, (0, None))
    best = max(row.values())
    shown = {m: ("%.0f" % row[m]) + ("@%d" % figure["batch"][m] if several_batches else "") for m in row}
    print("%-18s %12s %12s %12s %8.4f %12s %8s %12s" % (
        name, shown["eager"], shown.get("graph", "-"), shown.get("compile", "later" if compile_later else "-"),
        figure["accuracy"], "%.0f" % ours_rate if ours_rate else "-",
        "%.4f" % ours_acc if ours_acc is not None else "-", "%.2fx" % (ours_rate / best) if ours_rate else "-"))


def our_cascade(ours_cascades, cheap, full, threshold):
    """Our row of that cascade at that threshold (as targets.py matches them:
    within 1e-6, not rounded to 4 decimals, where 0.99991 and 0.99994 met), or None."""
    rows = [f for f in ours_cascades if f["cheap"] == cheap and f["full"] == full
            and abs(float(f["threshold"]) - threshold) < 1e-6]
    return min(rows, key=lambda f: abs(float(f["threshold"]) - threshold)) if rows else None


def measure_cascade(models, cheap, full, thr, images, labels, out, norm, batches, args, figures, ours_cascades):
    """The naive cascade's figure, into figures["cascades"], and its row beside ours."""
    deferred = [0]
    rate, at, per_batch = best_batch(batches, lambda b: naive_cascade(
        models[cheap], models[full], images, out, norm, float(thr), deferred, b), args.runs)
    acc = (out == labels).float().mean().item()
    figures["cascades"].append({"cheap": cheap, "full": full, "threshold": float(thr), "images_per_s": rate,
                                "deferred": deferred[0] / args.images, "accuracy": acc, "batch": at,
                                "per_batch": per_batch})
    write_json(args.json, figures)
    o = our_cascade(ours_cascades, cheap, full, float(thr))
    print("%-34s %12s %8.4f %8.4f %12s %8s %8s %10s" % (
        "%s -> %s @ %s" % (cheap, full, thr), ("%.0f" % rate) + ("@%d" % at if len(batches) > 1 else ""),
        deferred[0] / args.images, acc,
        "%.0f" % o["images_per_s"]["median"] if o else "-", "%.4f" % o["deferred"] if o else "-",
        "%.4f" % o["accuracy"] if o else "-", "%.2fx" % (o["images_per_s"]["median"] / rate) if o else "-"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--assets", default=os.environ.get("CASCADE_ASSETS", "../shared"))
    ap.add_argument("--ours", help="cascade bench --json output to compare with")
    ap.add_argument("--images", type=int, default=200000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, help="order of the replicated images, as cascade bench's --seed "
                    "[--ours' seed, else 1]")
    ap.add_argument("--models", default="lenet,alexnet_shallower,alexnet_shallow,alexnet,resnet18,resnet34",
                    help="models alone (none: no model alone)")
    ap.add_argument("--compile", default="alexnet_shallower,resnet34", help="models to also torch.compile (none)")
    ap.add_argument("--cascades", default="alexnet_shallower:resnet34@0.9,lenet:resnet34@0.8,alexnet:resnet34@0.8",
                    help="naive cascades, cheap:full@threshold,... (none)")
    ap.add_argument("--batches", default="1024", help="batch sizes; each figure is the best of them, named in the "
                    "table (@B) when more than one [1024, as TARGETS.md's anchors]")
    ap.add_argument("--json", help="write the PyTorch figures to this file")
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (--device cpu)")
    args = ap.parse_args()
    cascades = check_args(args)
    batches = args.batch_list
    tag = "e2e b%s" % args.batches if len(batches) == 1 else "e2e, best of b%s" % args.batches
    device_name = set_device(args.device, args.threads)
    print("torch %s, cuDNN %s, %s" % (torch.__version__, torch.backends.cudnn.version(), device_name))
    ours_alone, ours_cascades, ours = ours_figures(args.ours)
    seed, population = image_order(args, ours)
    images, labels, first_records = load_images(args.assets, args.images, population, seed)
    out = torch.empty(args.images, dtype=torch.int64)
    out = out.pin_memory() if DEVICE == "cuda" else out
    norm = Normalise()
    models = {}
    figures = {"torch": torch.__version__, "cudnn": torch.backends.cudnn.version(),
               "device": device_name, "images": args.images, "runs": args.runs,
               "seed": seed, "order_of": population, "first_records": first_records,
               "batch": batches[0], "batches": batches, "complete": False, "alone": {}, "cascades": []}
    header = "\n%-18s %12s %12s %12s %8s %12s %8s %12s" % ("model (%s)" % tag, "eager", "cuda graph", "compile",
                                                           "acc", "ours", "acc", "ours/best")
    compiled = [m for m in names(args.models) if m in names(args.compile)]
    seconds = figures["seconds"] = {}
    # the slow part last: torch.compile's first compile takes a minute or more a model, so that a
    # call cut off by its time limit still has every eager / CUDA graph figure and the cascades
    with torch.inference_mode():
        start = time.perf_counter()
        print(header)
        for name in names(args.models):
            models[name] = load_model(args.assets, name)
            measure_alone(name, models[name], images, labels, out, norm, batches, args, figures)
            print_alone_row(name, figures["alone"][name], ours_alone, len(batches) > 1, name in compiled)
        seconds["alone"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        if cascades:
            print("\n%-34s %12s %8s %8s %12s %8s %8s %10s" % (
                "naive cascade (%s)" % tag, "torch img/s", "deferred", "acc", "ours img/s", "deferred", "acc",
                "ours/torch"))
        for cheap, full, thr in cascades:
            for m in (cheap, full):
                if m not in models:  # (setdefault would load it again each time)
                    models[m] = load_model(args.assets, m)
            measure_cascade(models, cheap, full, thr, images, labels, out, norm, batches, args, figures,
                            ours_cascades)
        if population != args.images and (cascades or names(args.models)):
            print("(acc, deferred: torch's over the first %d images of the order, ours over all %d: they differ by "
                  "sampling too)" % (args.images, population))
        seconds["cascades"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        if compiled:
            print("\ntorch.compile, measured last (its compiles are slow):" + header)
            allow_compiles(len(compiled) * len(batches))
        for name in compiled:
            try:
                program = torch.compile(models[name], dynamic=False)
                row = figures["alone"][name]
                row["compile"], row["batch"]["compile"], row["per_batch"]["compile"] = best_batch(
                    batches, lambda b: e2e_eager(program, images, out, norm, b, full_only=True), args.runs)
                write_json(args.json, figures)
            except Exception as e:  # a peer that cannot run is reported, not fatal
                print("  torch.compile failed for %s: %s" % (name, e), file=sys.stderr)
            print_alone_row(name, figures["alone"][name], ours_alone, len(batches) > 1, False)
        seconds["compile"] = round(time.perf_counter() - start, 1)
    print("torch_peer.py: seconds: %s" % ", ".join("%s %.1f" % kv for kv in seconds.items()), file=sys.stderr)
    figures["complete"] = True
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
