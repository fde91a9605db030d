#!/usr/bin/env python3
"""targets.py: the TARGETS.md verdicts from one `cascade bench --json` file and,
when given, the PyTorch peers' figures from the same call (torch_peer.py --json).

usage: targets.py BENCH_JSON [--torch TORCH_JSON] [--json FILE]

Prints one line per target: the figure measured, the target, and "met", "GAP"
(with how far short) or "not measured" (what the bench did not run). The
first line is the measurement itself: TARGETS.md asks for at least 1,000,000
images per run and a median of several (>= 5) runs, and a bench cut short
("complete": false) is said to be. Where the
PyTorch peers of the same call are missing, the anchors of TARGETS.md are used
and marked "(TARGETS.md anchor, not this call)": such a ratio is not a claim.
Exit: 0 every target met; 1 a gap or something not measured; 2 bad input.
Needs only the Python standard library (runs on this machine, no torch).
"""
import argparse, json, sys

CHEAP_MODELS = ("lenet", "alexnet_shallower", "alexnet_shallow", "alexnet", "resnet18")
FULL = "resnet34"
EFFICIENCY_RANGE = (0.8, 0.99)
ON_GPU = True  # the anchors are GPU figures: set from the bench file
# TARGETS.md: the anchors (PyTorch 2.11 on one H100), used only when this call has no peer run
ANCHOR = {"best resnet34": 166419, "best alexnet_shallower": 1442039, "best lenet": 2801683,
          "eager resnet34": 109826, "naive alexnet_shallower@0.9": 222093}


def fail(message):
    print("targets: " + message, file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail("cannot read %s: %s" % (path, e))


def alone_rate(bench, model):
    rates = [f["images_per_s"]["median"] for f in bench.get("alone", []) if f["model"] == model]
    return max(rates) if rates else None


def peer(torch, key):
    """(figure, note) for a PyTorch peer: this call's, else the TARGETS.md anchor.
    key "best NAME": the fastest of NAME's eager / CUDA graph / torch.compile runs;
    "eager NAME"; "naive CHEAP@THRESHOLD" (the naive cascade into resnet34)."""
    mode, name = key.split(" ", 1)
    if torch and mode == "naive":
        cheap, thr = name.split("@")
        for c in torch.get("cascades", []):
            if c["cheap"] == cheap and c["full"] == FULL and abs(c["threshold"] - float(thr)) < 1e-6:
                return c["images_per_s"], "naive PyTorch, same call"
    elif torch and name in torch.get("alone", {}):
        row = {m: v for m, v in torch["alone"][name].items() if m in ("eager", "graph", "compile") and v}
        if mode == "eager" and "eager" in row:
            return row["eager"], "PyTorch eager, same call"
        if mode == "best" and row:
            best = max(row, key=row.get)
            return row[best], "PyTorch %s, the best of %s, same call" % (best, "/".join(sorted(row)))
    if not ON_GPU:
        return None, "no PyTorch peer for a CPU run"
    return ANCHOR[key], "TARGETS.md anchor, not this call"


def versus(ref, note, ours):
    return " = %.2fx %.0f (%s)" % (ours / ref, ref, note) if ref else " (%s)" % note


def verdict(value, target):
    if value is None:
        return "not measured"
    return "met" if value >= target else "GAP: %.1f%% short" % (100.0 * (1 - value / target))


def setup_rows(bench):
    images, runs, warmup = bench.get("images") or 0, bench.get("runs") or 0, bench.get("warmup") or 0
    shown = "%d images per run, median of %d runs after %d warm-up%s" % (
        images, runs, warmup, "" if bench.get("complete", True) else ", cut short: the figures finished before the stop")
    short = [what for what, ok in (("images", images >= 1000000), ("runs", runs >= 5), ("warm-ups", warmup >= 1))
             if not ok]
    cut = not bench.get("complete", True)
    return [("bench: >= 1000000 images per run, median of >= 5 after a warm-up", shown,
             "GAP: too few %s" % " and ".join(short) if short else "GAP: cut short" if cut else "met")]


def alone_rows(bench, torch):
    rows = []
    for model, target in (("resnet34", 200000), ("alexnet_shallower", 1500000), ("lenet", 12000000)):
        rate = alone_rate(bench, model)
        ref, note = peer(torch, "best " + model)
        ratio = versus(ref, note, rate) if rate else ""
        rows.append(("%s alone >= %d img/s" % (model, target),
                     "%.0f img/s%s" % (rate, ratio) if rate else "-", verdict(rate, target)))
    return rows


def efficiency_rows(bench):
    rows = []
    lo, hi = EFFICIENCY_RANGE
    for cheap in CHEAP_MODELS:
        runs = [c for c in bench.get("cascades", [])
                if c["cheap"] == cheap and lo - 1e-9 <= c["threshold"] <= hi + 1e-9 and c.get("efficiency")]
        worst = min(runs, key=lambda c: c["efficiency"]) if runs else None
        thresholds = ",".join("%g" % c["threshold"] for c in runs)
        shown = "min %.3f at %g (thresholds %s, full %s)" % (
            worst["efficiency"], worst["threshold"], thresholds, worst["full"]) if worst else "-"
        rows.append(("efficiency %s -> * >= 0.90 at %g-%g" % (cheap, lo, hi), shown,
                     verdict(worst["efficiency"] if worst else None, 0.90)))
    return rows


def cascade_rows(bench, torch):
    rows = []
    hit = [c for c in bench.get("cascades", [])
           if c["cheap"] == "alexnet_shallower" and c["full"] == FULL and abs(c["threshold"] - 0.9) < 1e-6]
    c = hit[0] if hit else None
    ref, note = peer(torch, "naive alexnet_shallower@0.9")
    shown = "%.0f img/s, acc %.4f%s" % (c["images_per_s"]["median"], c["accuracy"],
                                        versus(ref, note, c["images_per_s"]["median"])) if c else "-"
    ok = verdict(c["images_per_s"]["median"] if c else None, 500000)
    if c and ok == "met" and c["accuracy"] < 0.906:
        ok = "GAP: accuracy %.4f < 0.906" % c["accuracy"]
    rows.append(("alexnet_shallower -> resnet34 @ 0.9 >= 500000 img/s, acc >= 0.906", shown, ok))
    full_acc = [f["accuracy"] for f in bench.get("alone", []) if f["model"] == FULL]
    eager, note = peer(torch, "eager resnet34")
    near = [c for c in bench.get("cascades", []) if full_acc and c["accuracy"] >= full_acc[0] - 0.003]
    best = max(near, key=lambda c: c["images_per_s"]["median"]) if near else None
    speedup = best["images_per_s"]["median"] / eager if best and eager else None
    shown = "%s -> %s @ %g: %.0f img/s, acc %.4f (resnet34 %.4f)%s" % (
        best["cheap"], best["full"], best["threshold"], best["images_per_s"]["median"], best["accuracy"],
        full_acc[0], versus(eager, note, best["images_per_s"]["median"])) if best else "-"
    rows.append(("best cascade within 0.3 pt of resnet34 >= 4.6x eager resnet34", shown, verdict(speedup, 4.6)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bench", help="cascade bench --json output")
    ap.add_argument("--torch", help="torch_peer.py --json output of the same call")
    ap.add_argument("--json", help="write the verdicts to this file")
    args = ap.parse_args()
    bench = load(args.bench)
    if not isinstance(bench, dict) or "alone" not in bench:
        fail("%s is not a cascade bench --json file" % args.bench)
    torch = load(args.torch) if args.torch else None
    global ON_GPU
    ON_GPU = str(bench.get("device", "")).startswith("gpu")
    try:  # a file of the right kind but not of these writers' shape: one line, not a traceback
        rows = setup_rows(bench) + alone_rows(bench, torch) + efficiency_rows(bench) + cascade_rows(bench, torch)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        fail("%s%s: not the shape cascade bench / torch_peer.py write (%s: %s)" % (
            args.bench, " or " + args.torch if args.torch else "", type(e).__name__, e))
    print("targets (TARGETS.md) for %s, %s; %s images per run" % (
        bench.get("device", "?"), bench.get("versions", "?"), bench.get("images", "?")))
    for target, shown, ok in rows:
        print("  %-66s %-18s %s" % (target, ok, shown))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"target": t, "measured": m, "verdict": v} for t, m, v in rows], f, indent=1)
    return 0 if all(v == "met" for _, _, v in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
