#!/usr/bin/env python3
"""gpu_commands.py: the `cascade` commands themselves on the GPU backend,
checked against the golden logits (fp16 on the GPU: within a tolerance).

usage: gpu_commands.py CASCADE_BINARY   (assets from $CASCADE_ASSETS; first
$CASCADE_TEST_IMAGES test images, default 2000; exit 77 without a GPU;
CASCADE_TEST_DEVICE=cpu runs the same checks on the CPU backend, to try the
script itself on a machine without a GPU)

- run --device gpu over N images in the default random order, with --output,
  --json and --progress-json: files whole, one CSV row per image, the JSON's
  counts equal the CSV's, the last progress line says N of N; each image's
  answer is the golden cascade's except where fp16 can flip it (a confidence
  within 2e-3 of the threshold, or argmax), at most 0.5% of the images;
- sweep --device gpu (lenet, alexnet_shallower -> resnet34, five thresholds):
  every row within that slack of the golden-derived counts, the throughputs
  measured on the GPU (the JSON says so), the prediction follows the formula;
- calibrate --device gpu with pinned throughputs: the choice meets the target
  on the validation images and its --test figures are the golden ones within
  the slack;
- bench --device gpu, a short run: median, min and max those of its three runs, efficiency and
  accuracy sane (the accuracy that of the golden cascade over the data used);
  a --batches size past the GPU networks' largest is refused before any figure.
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402
import checks  # noqa: E402
from checks import check  # noqa: E402

cascade = os.path.abspath(sys.argv[1])
N = int(os.environ.get("CASCADE_TEST_IMAGES", "2000"))
DEVICE = os.environ.get("CASCADE_TEST_DEVICE", "gpu")
BENCH_IMAGES = 50000 if DEVICE == "gpu" else 256
FP16_WINDOW = 2e-3  # |confidence - threshold| below which fp16 may decide the other way
FLIP_RATE = 0.005   # share of images whose answer may differ from the golden one
PINNED = {"lenet": 2801683.0, "alexnet_shallower": 666063.0, "resnet34": 109826.0}  # docs/TARGETS.md
G = None
checks.verbose = True


def run(args, timeout=600):
    return subprocess.run([cascade] + args, capture_output=True, text=True, timeout=timeout)


def slack(cheap, threshold, records):
    """How many of these images fp16 may send the other way, or answer differently."""
    _, conf = G.decisions(cheap)
    near = sum(1 for r in records if abs(conf[r] - threshold) <= FP16_WINDOW)
    return near + int(FLIP_RATE * len(records)) + 1


def test_run(tmp):
    out, rep, prog = (os.path.join(tmp, f) for f in ("p.csv", "r.json", "progress.jsonl"))
    r = run(["run", "--device", DEVICE, "--limit", str(N), "--output", out, "--json", rep, "--progress-json", prog,
             "--quiet"])
    if not check(r.returncode == 0, "run --device %s: exit %d %s" % (DEVICE, r.returncode, r.stderr.strip()[-300:])):
        return
    rows = list(csv.DictReader(open(out)))
    report = json.load(open(rep))
    last = json.loads(open(prog).read().strip().splitlines()[-1])
    check(len(rows) == N and len({x["index"] for x in rows}) == N, "run: %d CSV rows, distinct images" % len(rows))
    check(report["backend"].lower().startswith(DEVICE), "run: backend %r" % report["backend"])
    correct = sum(x["prediction"] == x["label"] for x in rows)
    deferred = sum(x["deferred"] == "1" for x in rows)
    check(report["processed"] == N and report["complete"] and report["accuracy"]["correct"] == correct and
          report["deferred"]["count"] == deferred, "run: JSON counts %d correct, %d deferred = the CSV's" %
          (correct, deferred))
    check(last["processed"] == N and last["total"] == N, "run: last progress line %d of %d" % (last["processed"],
                                                                                           last["total"]))
    cp, cc = G.decisions(report["cheap"])
    fp, _ = G.decisions(report["full"])
    thr = report["threshold"]
    records = [int(x["index"]) for x in rows]
    differ = sum(1 for x in rows for i in [int(x["index"])]
                 if int(x["prediction"]) != (fp[i] if golden.defers(cc[i], thr) else cp[i]))
    allowed = slack(report["cheap"], thr, records)
    check(differ <= allowed, "run: %d of %d answers differ from the golden cascade (allowed %d)" % (differ, N, allowed))


def test_sweep(tmp):
    csv_path, json_path = os.path.join(tmp, "s.csv"), os.path.join(tmp, "s.json")
    thresholds = [0.5, 0.8, 0.9, 0.95, 0.99]
    r = run(["sweep", "--device", DEVICE, "--cheap", "lenet,alexnet_shallower", "--full", "resnet34", "--thresholds",
             ",".join(map(str, thresholds)), "--limit", str(N), "--csv", csv_path, "--json", json_path, "--quiet"])
    if not check(r.returncode == 0, "sweep --device %s: exit %d %s" % (DEVICE, r.returncode, r.stderr.strip()[-300:])):
        return
    rows = list(csv.DictReader(open(csv_path)))
    report = json.load(open(json_path))
    check(len(rows) == 2 * len(thresholds) + 1, "sweep: %d CSV rows" % len(rows))
    check(all(m["throughput"] == "measured" and m["images_per_s"] > 0 for m in report["models"]),
          "sweep: throughputs measured: %s" % ", ".join("%s %.0f/s" % (m["name"], m["images_per_s"])
                                                         for m in report["models"]))
    records = range(N)
    worst = 0
    for x in rows:
        if x["cheap"] == "none":
            fp, _ = G.decisions("resnet34")
            want = sum(fp[i] == G.labels[i] for i in records)
            check(abs(int(x["correct"]) - want) <= FLIP_RATE * N + 1, "sweep: resnet34 alone %s correct, golden %d" %
                  (x["correct"], want))
            continue
        t = float(x["threshold"])
        o = golden.cascade_point(G, x["cheap"], "resnet34", t, records)
        s = slack(x["cheap"], t, records)
        off = max(abs(int(x[k]) - o[k]) for k in ("deferred", "correct", "agree"))
        worst = max(worst, off / s)
        if off > s:
            print("  %s @ %g: %s deferred, %s correct, %s agree; golden %d, %d, %d (slack %d)" % (
                x["cheap"], t, x["deferred"], x["correct"], x["agree"], o["deferred"], o["correct"], o["agree"], s))
        tc, tf, p = float(x["cheap_images_per_s"]), float(x["full_images_per_s"]), float(x["deferred_fraction"])
        check(off <= s and abs(float(x["predicted_images_per_s"]) - golden.predicted_throughput(tc, tf, p)) <
              1e-3 * tf + 1e-2, "sweep: %s @ %g within %d of golden (off by %d), prediction by the formula" %
              (x["cheap"], t, s, off))
    print("  sweep: the largest offset from golden was %.2f of its slack" % worst)  # how near the bound a card runs


def test_calibrate(tmp):
    out = os.path.join(tmp, "c.json")
    fp, _ = G.decisions("resnet34")  # a target the expensive model reaches on these images
    level = round(min(0.9, sum(fp[i] == G.labels[i] for i in range(N)) / N - 0.01), 3)
    r = run(["calibrate", "--device", DEVICE, "--cheap", "lenet,alexnet_shallower", "--full", "resnet34",
             "--val", golden.TEST_BATCH, "--val-range", "0:%d" % N, "--target-accuracy", str(level),
             "--thresholds", "0.5:0.99:0.01", "--throughputs", ",".join("%s=%g" % kv for kv in PINNED.items()),
             "--test", golden.TEST_BATCH, "--test-limit", str(N), "--json", out, "--quiet"])
    if not check(r.returncode == 0, "calibrate --device %s: exit %d %s" % (DEVICE, r.returncode, r.stderr.strip()[-300:])):
        return
    rep = json.load(open(out))
    c, t = rep["choice"], rep["test"]
    check(c["accuracy"] >= level, "calibrate: chose %s @ %s, validation accuracy %.4f >= %g" % (
        c["cheap"], c["threshold"], c["accuracy"], level))
    if c["cheap"] in (None, "none"):  # right only when no cascade surely meets the target (pinned: any is faster)
        sure = [(cheap, k / 100) for cheap in ("lenet", "alexnet_shallower") for k in range(50, 100)
                if golden.cascade_point(G, cheap, "resnet34", k / 100, range(N))["correct"] -
                slack(cheap, k / 100, range(N)) >= level * N]
        check(not sure, "calibrate chose resnet34 alone; golden has %d cascades meeting %g, such as %s" % (
            len(sure), level, sure[:2]))
        return
    o = golden.cascade_point(G, c["cheap"], "resnet34", c["threshold"], range(t["images"]))
    s = slack(c["cheap"], c["threshold"], range(t["images"])) / t["images"]
    check(abs(t["accuracy"] - o["correct"] / t["images"]) <= s and
          abs(t["deferred_fraction"] - o["deferred"] / t["images"]) <= s,
          "calibrate --test: accuracy %.4f, deferred %.4f; golden %.4f, %.4f (slack %.4f)" % (
              t["accuracy"], t["deferred_fraction"], o["correct"] / t["images"], o["deferred"] / t["images"], s))


def test_bench(tmp):
    out = os.path.join(tmp, "b.json")
    r = run(["bench", "--device", DEVICE, "--models", "lenet,resnet34", "--cascades", "lenet:resnet34",
             "--thresholds", "0.9", "--batches", str(min(8192, BENCH_IMAGES)), "--images", str(BENCH_IMAGES), "--runs", "3", "--json", out])
    if not check(r.returncode == 0, "bench --device %s: exit %d %s" % (DEVICE, r.returncode, r.stderr.strip()[-300:])):
        return
    b = json.load(open(out))
    for f in b["alone"] + b["cascades"]:
        ips, each = f["images_per_s"], sorted(f["images_per_s"].get("runs", []))
        check(len(each) == 3 and each[0] > 0 and (ips["min"], ips["median"], ips["max"]) == tuple(each),
              "bench: %s %.0f images/s in [%.0f, %.0f], the runs %s" % (
                  f.get("model") or f["cheap"] + "->" + f["full"], ips["median"], ips["min"], ips["max"], each))
    c = b["cascades"][0] if b["cascades"] else None
    if not check(c is not None, "bench: a cascade figure"):
        return
    size = os.path.getsize(golden.TEST_BATCH) // 3073  # the bench replicates these records
    o = golden.cascade_point(G, "lenet", "resnet34", 0.9, range(size))
    # whole copies of the records: the golden accuracy; a part of one: a sample of it (4 sigma)
    sample = 0 if BENCH_IMAGES % size == 0 else 4 * (0.25 / BENCH_IMAGES) ** 0.5
    # (a CPU dry run times too few images to judge; on a card the alone figures run whole batches of 8192,
    # 13% of them idle over these 50,000 images, and the two networks overlap: above 1 is possible)
    low, high = (0.5, 1.5) if DEVICE == "gpu" else (0, 10)
    check(low < c["efficiency"] <= high, "bench: efficiency %.3f" % c["efficiency"])
    check(abs(c["accuracy"] - o["correct"] / size) <= slack("lenet", 0.9, range(size)) / size + sample,
          "bench: cascade accuracy %.4f, golden %.4f over the %d records replicated" % (
              c["accuracy"], o["correct"] / size, size))


def test_bench_sizes(tmp):
    """A batch the GPU networks refuse is refused before the first figure, with no JSON left: past the
    largest batch of any network, past one model's 32-bit tensor offsets (alexnet_shallower's conv1 holds
    65,536 values an image: at most 32,767 images), and a cascade's --chunk past its cheap model's."""
    if DEVICE != "gpu":
        return  # the CPU has no such limit
    out = os.path.join(tmp, "too-big.json")
    for args, says in ((["--models", "lenet", "--no-cascades", "--batches", "1024,2097152"], "lenet's largest batch"),
                       (["--models", "lenet,alexnet_shallower", "--no-cascades", "--batches", "1024,32768"],
                        "alexnet_shallower's largest batch on a GPU, 32767"),
                       (["--no-alone", "--cascades", "alexnet_shallower:resnet34", "--chunk", "32768"], "--chunk: 32768")):
        r = run(["bench", "--device", "gpu"] + args + ["--images", "4096", "--runs", "1", "--json", out])
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        check(r.returncode != 0 and len(lines) == 1 and says in lines[0] and not os.path.exists(out),
              "bench %s on the GPU: exit %d, one line before any figure saying %r (%r), no JSON" % (
                  " ".join(args), r.returncode, says, lines[-3:]))


def main():
    global G
    probe = run(["run", "--device", DEVICE, "--full", "none", "--limit", "1", "--quiet"], timeout=300)
    no_device = ("no usable CUDA device", "no GPU backend", "cannot query CUDA device")
    if DEVICE == "gpu" and probe.returncode != 0 and any(why in probe.stderr for why in no_device):
        if os.environ.get("CASCADE_EXPECT_GPU") == "1":  # device_check.sh: the card is there; not opening it fails
            print("FAIL: no usable CUDA device, and CASCADE_EXPECT_GPU=1: %s" % probe.stderr.strip())
            return 1
        print("skipped: no CUDA device (%s)" % probe.stderr.strip())
        return 77  # a device this build cannot use is no skip: the checks below fail on it
    G = golden.Golden()
    with tempfile.TemporaryDirectory() as tmp:
        for test in (test_run, test_sweep, test_calibrate, test_bench, test_bench_sizes):
            test(tmp)
    return checks.finish("gpu_commands")


if __name__ == "__main__":
    sys.exit(main())
