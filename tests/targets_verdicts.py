#!/usr/bin/env python3
"""targets_verdicts.py: profiling/targets.py's verdicts on bench files made here.

usage: targets_verdicts.py CASCADE_BINARY   (assets from $CASCADE_ASSETS, default ../shared)

- the measurement itself: too few images or runs, or no warm-up, is a GAP, a bench cut short
  is said to be;
- a bench file where every target holds: every line "met", exit 0;
- each target broken in turn (a slow model, a cascade that loses accuracy, a
  low efficiency, a cheap model never benchmarked, a slow best cascade):
  that line alone says GAP / not measured, exit 1;
- with a PyTorch peers file the ratios use its figures ("same call"), without
  it the TARGETS.md anchors, marked as such;
- a real `cascade bench --json` (CPU, a few images, a shorter warm-up) is read
  without error and its unmeasured targets are reported, not invented;
- a missing or malformed file: one line on stderr, exit 2.
"""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import checks  # noqa: E402
from checks import check  # noqa: E402

checks.verbose = True
TARGETS = os.path.join(here, "..", "profiling", "targets.py")
cascade = os.path.abspath(sys.argv[1])


def rate(x):
    return {"median": x, "min": x * 0.99, "max": x * 1.01}


def cascade_row(cheap, thr, img_s, acc, eff):
    return {"cheap": cheap, "full": "resnet34", "threshold": thr, "images_per_s": rate(img_s),
            "deferred": 0.2, "accuracy": acc, "ideal_images_per_s": img_s / eff, "efficiency": eff}


def passing_bench():
    alone = {"lenet": 13e6, "alexnet_shallower": 2.2e6, "alexnet_shallow": 1.5e6, "alexnet": 1.3e6,
             "resnet18": 4.2e5, "resnet34": 2.2e5}
    bench = {"device": "gpu (test card)", "versions": "test", "images": 1000000, "runs": 5, "warmup": 1,
             "alone": [{"model": m, "batch": 8192, "images_per_s": rate(r), "accuracy": 0.9067 if m == "resnet34"
                        else 0.8} for m, r in alone.items()],
             "cascades": []}
    for cheap in ("lenet", "alexnet_shallower", "alexnet_shallow", "alexnet", "resnet18"):
        for thr in (0.8, 0.9, 0.95, 0.99):
            bench["cascades"].append(cascade_row(cheap, thr, 6e5, 0.9063 if thr >= 0.9 else 0.90, 0.95))
    return bench


def run(bench, torch=None, raw=None):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bench.json")
        with open(path, "w") as f:
            f.write(raw if raw is not None else json.dumps(bench))
        args = [sys.executable, TARGETS, path]
        if torch is not None:
            args += ["--torch", os.path.join(d, "torch.json")]
            with open(args[-1], "w") as f:
                json.dump(torch, f)
        p = subprocess.run(args, capture_output=True, text=True)
    lines = {}
    for line in p.stdout.splitlines()[1:]:
        target = line[:69].strip()
        lines[target] = line[69:].strip()
    return p.returncode, lines, p


def line_of(lines, start):
    hits = [v for k, v in lines.items() if k.startswith(start)]
    return hits[0] if hits else ""


def only_this_fails(bench, start, expect):
    rc, lines, p = run(bench)
    bad = [k for k, v in lines.items() if not v.startswith("met")]
    check(rc == 1 and bad and all(k.startswith(start) for k in bad) and line_of(lines, start).startswith(expect),
          "%s -> %s (rc %d, lines not met: %s)" % (start, expect, rc, bad))


def main():
    rc, lines, p = run(passing_bench())
    check(rc == 0 and len(lines) == 11 and all(v.startswith("met") for v in lines.values()),
          "every target met: rc %d, %d lines, %s" % (rc, len(lines), p.stdout[-300:] + p.stderr))
    check("TARGETS.md anchor, not this call" in line_of(lines, "resnet34 alone"),
          "without peers the anchor is used and marked: " + line_of(lines, "resnet34 alone"))

    b = passing_bench()
    b["images"] = 300000
    only_this_fails(b, "bench: >= 1000000 images", "GAP: too few images")
    b["runs"] = 3
    only_this_fails(b, "bench: >= 1000000 images", "GAP: too few images and runs")
    b = passing_bench()
    b["warmup"] = 0  # TARGETS.md: the median of several runs after a warm-up
    only_this_fails(b, "bench: >= 1000000 images", "GAP: too few warm-ups")
    b = passing_bench()
    b["complete"] = False  # a bench stopped early is a GAP, not met: the summary counts it short
    only_this_fails(b, "bench: >= 1000000 images", "GAP: cut short")
    b = passing_bench()
    b["alone"][0]["images_per_s"] = rate(8e6)
    only_this_fails(b, "lenet alone", "GAP: 33.3% short")
    b = passing_bench()
    for c in b["cascades"]:
        if c["cheap"] == "alexnet_shallower" and c["threshold"] == 0.9:
            c["accuracy"] = 0.9055
    only_this_fails(b, "alexnet_shallower -> resnet34 @ 0.9", "GAP: accuracy 0.9055 < 0.906")
    b = passing_bench()
    b["cascades"][5]["efficiency"] = 0.85  # alexnet_shallower at 0.9
    only_this_fails(b, "efficiency alexnet_shallower", "GAP: 5.6% short")
    b = passing_bench()
    b["cascades"] = [c for c in b["cascades"] if c["cheap"] != "alexnet_shallow"]
    only_this_fails(b, "efficiency alexnet_shallow ", "not measured")
    b = passing_bench()
    for c in b["cascades"]:
        c["images_per_s"] = rate(4.9e5 if c["accuracy"] >= 0.9037 else 9e5)
        if c["cheap"] == "alexnet_shallower" and c["threshold"] == 0.9:
            c["images_per_s"] = rate(5.02e5)  # 4.57x the eager anchor 109,826
    only_this_fails(b, "best cascade", "GAP")

    peers = {"alone": {"resnet34": {"eager": 1e5, "graph": 1.1e5, "compile": 1.1e5 * 1.5},
                       "lenet": {"eager": 2e6, "graph": 4e6}},
             "cascades": [{"cheap": "alexnet_shallower", "full": "resnet34", "threshold": 0.9,
                           "images_per_s": 1.5e5, "accuracy": 0.906}]}
    rc, lines, p = run(passing_bench(), torch=peers)
    check("1.33x 165000 (PyTorch compile, the best of compile/eager/graph, same call)"
          in line_of(lines, "resnet34 alone"), "resnet34 vs the best peer: " + line_of(lines, "resnet34 alone"))
    check("3.25x 4000000 (PyTorch graph" in line_of(lines, "lenet alone"), "lenet: " + line_of(lines, "lenet alone"))
    check("4.00x 150000 (naive PyTorch, same call)" in line_of(lines, "alexnet_shallower -> resnet34"),
          "naive cascade peer: " + line_of(lines, "alexnet_shallower -> resnet34"))
    check("6.00x 100000 (PyTorch eager, same call)" in line_of(lines, "best cascade"),
          "speed-up vs eager resnet34 of the same call: " + line_of(lines, "best cascade"))
    check("TARGETS.md anchor" in line_of(lines, "alexnet_shallower alone"),
          "a model the peers did not run falls back to the anchor: " + line_of(lines, "alexnet_shallower alone"))

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cpu.json")
        r = subprocess.run([cascade, "bench", "--device", "cpu", "--images", "64", "--runs", "1", "--warmup", "1",
                            "--warmup-images", "16",
                            "--models", "lenet,alexnet_shallower", "--cascades", "lenet:alexnet_shallower",
                            "--thresholds", "0.9", "--batches", "32", "--json", out], capture_output=True, text=True)
        check(r.returncode == 0, "cascade bench --device cpu --json: rc %d %s" % (r.returncode, r.stderr[-200:]))
        raw = open(out).read() if os.path.exists(out) else "{}"
        check(json.loads(raw).get("warmup_images") == 16 and "after 1 warm-up (16 images each)" in r.stdout,
              "bench --warmup-images 16 is reported: %s" % r.stdout.splitlines()[2:3])
        got = json.loads(raw)
        start, end = got.get("sgemm_start_gflops", 0), got.get("sgemm_end_gflops", 0)
        check(start > 0 and end > 0 and got.get("sgemm_gflops") == max(start, end) and got.get("seed") == 1 and
              str(got.get("data")).endswith("test_batch.bin"),
              "bench JSON: sgemm at the start and the end, the better kept, the seed and the data (%s)" %
              {k: got.get(k) for k in ("sgemm_gflops", "sgemm_start_gflops", "sgemm_end_gflops", "seed", "data")})
        check("at the start," in r.stdout and "--seed 1" in r.stdout, "the table shows both sgemm rates and the seed")
        check("upload_pinned_gbps" in got and got["upload_pinned_gbps"] is None and got["upload_data_gbps"] is None,
              "bench JSON on a CPU: the uploads it does not measure are null, not 0 (%r, %r)" %
              (got.get("upload_pinned_gbps", "absent"), got.get("upload_data_gbps", "absent")))
        rc, lines, p = run(None, raw=raw)
        r = subprocess.run([cascade, "bench", "--device", "cpu", "--images", "64", "--runs", "1", "--warmup", "0",
                            "--models", "lenet", "--cascades", "none", "--batches", "32", "--json", out],
                           capture_output=True, text=True)
        alone_only = json.load(open(out)) if r.returncode == 0 else {}
        check([a.get("model") for a in alone_only.get("alone", [])] == ["lenet"] and not alone_only.get("cascades"),
              "bench --cascades none: the model alone only (rc %d %s)" % (r.returncode, r.stderr[-200:]))
        r = subprocess.run([cascade, "bench", "--device", "cpu", "--images", "64", "--runs", "1", "--warmup", "0",
                            "--models", "lenet", "--cascades", "lenet:alexnet_shallower", "--thresholds", "0.9",
                            "--batches", "32", "--json", out], capture_output=True, text=True)
        twin = os.path.join(d, "my lenet.safetensors")  # another file of the same arch: a row of its own
        assets = os.environ.get("CASCADE_ASSETS") or os.path.join(os.path.dirname(__file__), "..", "..", "shared")
        shutil.copy(os.path.join(assets, "weights", "lenet.safetensors"), twin)
        r2 = subprocess.run([cascade, "bench", "--device", "cpu", "--images", "32", "--runs", "1", "--warmup", "0",
                             "--models", "lenet," + twin, "--no-cascades", "--batches", "32", "--json", out + "2"],
                            capture_output=True, text=True)
        rows = [a.get("model") for a in json.load(open(out + "2")).get("alone", [])] if r2.returncode == 0 else []
        check(rows == ["lenet", twin], "bench names rows as given, two files of one arch two rows: %s" % rows)
        pair = (json.load(open(out)).get("cascades") or [{}])[0] if r.returncode == 0 else {}
        row = [l for l in r.stdout.splitlines() if l.startswith("lenet -> alexnet_shallower")]
        check("efficiency" in pair and pair["efficiency"] is None and pair["ideal_images_per_s"] is None
              and row and row[0].split()[-3:-1] == ["-", "-"],
              "bench, the full model not measured alone: ideal and efficiency '-' and null (%s, %s)" %
              (row, {k: pair.get(k) for k in ("ideal_images_per_s", "efficiency")}))
    lenet = line_of(lines, "lenet alone")
    check(rc == 1 and not p.stderr and line_of(lines, "resnet34 alone").startswith("not measured")
          and lenet.startswith("GAP") and "no PyTorch peer for a CPU run" in lenet and "x " not in lenet
          and "full alexnet_shallower" in line_of(lines, "efficiency lenet")
          and line_of(lines, "efficiency alexnet ").startswith("not measured"),
          "a real CPU bench file: rc %d\n%s%s" % (rc, p.stdout, p.stderr))

    rc, lines, p = run(None, raw="{not json")
    check(rc == 2 and p.stderr.startswith("targets: cannot read") and p.stderr.count("\n") == 1,
          "malformed file: rc %d, %r" % (rc, p.stderr))
    rc, lines, p = run(None, raw="[1, 2]")
    check(rc == 2 and "not a cascade bench --json file" in p.stderr, "wrong JSON: rc %d, %r" % (rc, p.stderr))
    # a bench file of another shape (no writer of ours makes these): one line and exit 2, not a traceback
    for what, bench, torch in (("alone null", dict(passing_bench(), alone=None), None),
                               ("resnet34 alone without its accuracy",
                                dict(passing_bench(), alone=[{k: v for k, v in passing_bench()["alone"][-1].items()
                                                              if k != "accuracy"}]), None),
                               ("peers' cascades of strings", passing_bench(), {"alone": {}, "cascades": ["x"]})):
        rc, lines, p = run(bench, torch)
        check(rc == 2 and p.stderr.startswith("targets: ") and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr,
              "%s: rc %d, %r" % (what, rc, p.stderr[-300:]))
    return checks.finish("targets_verdicts")


if __name__ == "__main__":
    sys.exit(main())
