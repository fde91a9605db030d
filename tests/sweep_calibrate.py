#!/usr/bin/env python3
"""sweep_calibrate.py: `cascade sweep` and `cascade calibrate` as real processes,
checked against the golden logits.

usage: sweep_calibrate.py CASCADE_BINARY   (assets from $CASCADE_ASSETS, default ../shared)

- sweep over the first 300 test images (lenet, alexnet_shallower -> resnet34,
  thresholds 0.5:0.99:0.01, CPU): every CSV row, (alexnet_shallower, 0.9)
  first, equals the counts derived from the golden logits on the same images;
  the predicted throughput follows 1/(1/T_cheap + p/T_full) from the measured
  T's; the pareto column equals a brute-force dominance check; the printed
  frontier has those points; the SVG parses as XML with the expected parts.
- calibrate on test records 0..299 with the throughputs pinned by
  --throughputs: for a target accuracy and a target agreement, the choice is
  the one the golden-derived table picks under the same rule, with the same
  figures; --test runs the choice and reports what it achieves.
- bad usage, SIGINT and SIGTERM: one line on stderr, the documented exit code, no output file.
- the outputs at the edges (test_output_edges, test_odd_names_and_exact_thresholds): odd bytes and
  characters in names, accuracy 0, extreme given throughputs, a model in a cascade with itself.
- a model named by a long path: sweep's, bench's and calibrate's tables keep its rows under their
  headers, and a throughput by that path reaches it while "lenet" names the zoo's lenet only.
- without --cheap, the default list leaves out the --full model.
- a --test sharing images with the validation range, or holding the default file's trained-on
  records, gets a notice on stderr, a line in the report and counts in the JSON; a disjoint one none.
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402
import checks  # noqa: E402
from checks import check  # noqa: E402

cascade = os.path.abspath(sys.argv[1])
N = 300
G = golden.Golden()
PINNED = {"lenet": 2801683.0, "alexnet_shallower": 666063.0, "resnet34": 109826.0}  # docs/TARGETS.md


def run(args, timeout=600):
    return subprocess.run([cascade] + args, capture_output=True, text=True, timeout=timeout)


def frange(lo, hi, step):
    n = int((hi - lo) / step + 1e-9) + 1
    return [round(lo + i * step, 9) for i in range(n)]


def oracle_table(cheap_models, full, thresholds, records, throughputs):
    """The golden-derived points, in the order sweep_evaluate writes them."""
    n = len(records)
    points = []
    for c in cheap_models:
        for t in thresholds:
            pt = golden.cascade_point(G, c, full, t, records)
            p = pt["deferred"] / n
            pt.update(cheap=c, threshold=t, accuracy=pt["correct"] / n, agreement=pt["agree"] / n, p=p,
                      predicted=golden.predicted_throughput(throughputs[c], throughputs[full], p))
            points.append(pt)
    fp = G.decisions(full)[0]
    correct = sum(fp[r] == G.labels[r] for r in records)
    points.append(dict(cheap=None, threshold=None, deferred=n, correct=correct, agree=n, near=0,
                       accuracy=correct / n, agreement=1.0, p=1.0, predicted=throughputs[full]))
    return points


def oracle_choice(points, key, level):
    """calibrate's rule: highest predicted images/s with key >= level; ties: higher key, then earlier
    (the points are in sweep_evaluate's order, ascending thresholds: the earlier cheap model, then the lower threshold)."""
    best = None
    for i, pt in enumerate(points):
        if pt[key] + 1e-12 < level:
            continue
        if best is None or pt["predicted"] > points[best]["predicted"] or \
                (pt["predicted"] == points[best]["predicted"] and pt[key] > points[best][key]):
            best = i
    return best


def test_sweep(tmp):
    csv_path, svg_path, json_path = (os.path.join(tmp, "sweep" + e) for e in (".csv", ".svg", ".json"))
    t0 = time.time()
    r = run(["sweep", "--cheap", "lenet,alexnet_shallower", "--full", "resnet34", "--thresholds", "0.5:0.99:0.01",
             "--limit", str(N), "--device", "cpu", "--csv", csv_path, "--svg", svg_path, "--json", json_path])
    print("sweep: exit %d in %.1f s" % (r.returncode, time.time() - t0))
    if not check(r.returncode == 0, "sweep: exit %d: %s" % (r.returncode, r.stderr)):
        return
    rows = list(csv.DictReader(open(csv_path)))
    thresholds = frange(0.5, 0.99, 0.01)
    check(len(rows) == 2 * len(thresholds) + 1, "sweep: %d CSV rows" % len(rows))
    report = json.load(open(json_path))
    t = {m["name"]: m["images_per_s"] for m in report["models"]}
    check(report["images"] == N and all(m["throughput"] == "measured" for m in report["models"]),
          "sweep: JSON images %r" % report["images"])
    oracle = oracle_table(["lenet", "alexnet_shallower"], "resnet34", thresholds, range(N), t)
    for m in report["models"]:  # each model's own accuracy, the golden one (a count short of its last image passed)
        pred = G.decisions(m["name"])[0]
        want = sum(pred[k] == G.labels[k] for k in range(N)) / N
        check(abs(m["accuracy"] - want) < 1e-6, "sweep: %s's JSON accuracy %r, golden %r" % (m["name"], m["accuracy"],
                                                                                          want))
    # the figure the issue names first
    row = next(x for x in rows if x["cheap"] == "alexnet_shallower" and float(x["threshold"]) == 0.9)
    o = next(x for x in oracle if x["cheap"] == "alexnet_shallower" and x["threshold"] == 0.9)
    print("sweep: alexnet_shallower @ 0.9 on %d images: deferred %s, correct %s, agree %s; golden %d, %d, %d "
          "(%d near 0.9)" % (N, row["deferred"], row["correct"], row["agree"], o["deferred"], o["correct"], o["agree"],
                             o["near"]))
    check(int(row["deferred"]) == o["deferred"] and int(row["correct"]) == o["correct"] and
          int(row["agree"]) == o["agree"] and float(row["deferred_fraction"]) == round(o["deferred"] / N, 6) and
          abs(float(row["accuracy"]) - o["correct"] / N) < 1e-6,
          "sweep: (alexnet_shallower, 0.9) differs from the golden figures")
    # every row
    differ = 0
    for x, o in zip(rows, oracle):
        slack = o["near"]
        same_key = (x["cheap"] == "none" and o["cheap"] is None) or \
            (x["cheap"] == o["cheap"] and abs(float(x["threshold"]) - o["threshold"]) < 1e-9)
        if not same_key or abs(int(x["deferred"]) - o["deferred"]) > slack or \
                abs(int(x["correct"]) - o["correct"]) > slack or abs(int(x["agree"]) - o["agree"]) > slack:
            differ += 1
            if differ <= 3:
                print("  row %r vs golden %r" % (x, o))
        tc = float(x["cheap_images_per_s"]) if x["cheap"] != "none" else None
        tf, pred = float(x["full_images_per_s"]), float(x["predicted_images_per_s"])
        want = golden.predicted_throughput(tc, tf, float(x["deferred_fraction"])) if tc else tf
        if abs(pred - want) > 2e-3 + 1e-5 * want:
            differ += 1
            print("  predicted %g, formula %g" % (pred, want))
    check(differ == 0, "sweep: %d rows differ from the golden table or the formula" % differ)
    # the frontier
    pts = [(float(x["predicted_images_per_s"]), float(x["accuracy"])) for x in rows]
    brute = []
    for i, (s, a) in enumerate(pts):
        dominated = any((s2 >= s and a2 >= a and (s2 > s or a2 > a)) or (j < i and s2 == s and a2 == a)
                        for j, (s2, a2) in enumerate(pts) if j != i)
        brute.append(0 if dominated else 1)
    marks = [int(x["pareto"]) for x in rows]
    check(marks == brute, "sweep: pareto column differs from brute force")
    table = r.stdout.split("Pareto frontier", 1)[-1].splitlines()[2:]
    table = [l for l in table if l.startswith("  ")]
    check(len(table) == sum(marks), "sweep: printed frontier has %d lines, CSV %d points" % (len(table), sum(marks)))
    print("sweep: %d rows match the golden table, %d on the frontier; printed:" % (len(rows), sum(marks)))
    print("\n".join("  " + l for l in r.stdout.split("Pareto frontier", 1)[-1].splitlines()[1:4]))
    check_svg(svg_path, rows)


def check_svg(path, rows):
    ns = {"s": "http://www.w3.org/2000/svg"}
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        check(False, "svg: not well formed: %s" % e)
        return
    check(root.tag == "{http://www.w3.org/2000/svg}svg", "svg: root is %s" % root.tag)
    w, h = float(root.get("width")), float(root.get("height"))
    fills = []
    for c, name in enumerate(["lenet", "alexnet_shallower"]):
        g = root.find(".//s:g[@id='cheap-%d']" % c, ns)
        n_rows = sum(1 for x in rows if x["cheap"] == name)
        if check(g is not None, "svg: no group for %s" % name):
            circles = g.findall("s:circle", ns)
            check(len(circles) == n_rows, "svg: %d points for %s, %d rows" % (len(circles), name, n_rows))
            inside = all(0 <= float(e.get("cx")) <= w and 0 <= float(e.get("cy")) <= h for e in circles)
            check(inside, "svg: %s points outside the picture" % name)
            fills.append(g.get("fill"))  # (its circles take the group's colour)
    legend = root.find(".//s:g[@id='legend']", ns)
    # (the legend's cheap models come first; then the frontier's open circle)
    keys = [e.get("fill") for e in legend.findall("s:circle", ns)][:len(fills)] if legend is not None else []
    check(len(fills) == 2 and all(fills) and fills[0] != fills[1] and keys == fills,
          "svg: the cheap models' colours %r, the legend's %r (each its own, the same in both)" % (fills, keys))
    line = root.find(".//s:polyline[@id='frontier']", ns)
    if check(line is not None, "svg: no frontier polyline"):
        n_pts = len(line.get("points").split())
        check(n_pts == sum(int(x["pareto"]) for x in rows), "svg: frontier has %d points" % n_pts)
    full = root.find(".//s:g[@id='full-alone']", ns)
    if check(full is not None, "svg: expensive model alone not marked"):
        check(full.find("s:polygon", ns) is not None, "svg: no marker for the expensive model")
        check("resnet34 alone" in "".join(full.itertext()), "svg: no label for the expensive model")
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for want in ("lenet", "alexnet_shallower", "Pareto frontier", "accuracy", "images/s"):
        check(want in texts, "svg: no text %r" % want)
    ticks = [t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "tick"]
    check(len(ticks) >= 6, "svg: only %d tick labels" % len(ticks))
    print("svg: well formed, %d elements, %d tick labels" % (sum(1 for _ in root.iter()), len(ticks)))


def test_calibrate(tmp):
    throughputs = ",".join("%s=%g" % kv for kv in PINNED.items())
    thresholds = frange(0.5, 0.999, 0.001)
    oracle = oracle_table(["lenet", "alexnet_shallower"], "resnet34", thresholds, range(N), PINNED)
    for kind, level, test in (("accuracy", 0.9, True), ("agreement", 0.99, False)):
        out = os.path.join(tmp, "cal-%s.json" % kind)
        args = ["calibrate", "--cheap", "lenet,alexnet_shallower", "--full", "resnet34", "--val", golden.TEST_BATCH,
                "--val-range", "0:%d" % N, "--target-" + kind, str(level), "--throughputs", throughputs,
                "--device", "cpu", "--json", out, "--quiet"]
        if test:
            args += ["--test", golden.TEST_BATCH, "--test-limit", "100"]
        t0 = time.time()
        r = run(args)
        if not check(r.returncode == 0, "calibrate %s: exit %d: %s" % (kind, r.returncode, r.stderr)):
            continue
        rep = json.load(open(out))
        choice = rep["choice"]
        want = oracle[oracle_choice(oracle, kind, level)]
        near = sum(1 for rec in range(N) for c in ("lenet", "alexnet_shallower")
                   if any(abs(G.decisions(c)[1][rec] - t) < 1e-5 for t in thresholds))
        print("calibrate %s >= %g (%.1f s): chose %s @ %s, predicted %.0f images/s, %s %.4f; golden oracle: %s @ %s, "
              "%.0f images/s, %.4f" % (kind, level, time.time() - t0, choice["cheap"], choice["threshold"],
                                       choice["predicted_images_per_s"], kind, choice[kind], want["cheap"],
                                       want["threshold"], want["predicted"], want[kind]))
        check(choice["cheap"] == want["cheap"] and
              (want["threshold"] is None or abs(choice["threshold"] - want["threshold"]) < 1e-9),
              "calibrate %s: chose %s @ %s, the oracle %s @ %s (%d image confidences within 1e-5 of a grid threshold)"
              % (kind, choice["cheap"], choice["threshold"], want["cheap"], want["threshold"], near))
        check(choice["deferred"] == want["deferred"] and choice["correct"] == want["correct"] and
              choice["agree"] == want["agree"], "calibrate %s: figures differ from the oracle's" % kind)
        check(abs(choice["predicted_images_per_s"] - want["predicted"]) < 1e-3 * want["predicted"],
              "calibrate %s: predicted %g vs %g" % (kind, choice["predicted_images_per_s"], want["predicted"]))
        check(rep["validation"]["images"] == N and rep["validation"]["first"] == 0, "calibrate: validation range")
        check(("choice      %s -> resnet34 at threshold %g" % (choice["cheap"], choice["threshold"])) in r.stdout,
              "calibrate: summary %r" % r.stdout)
        if test:
            t = rep["test"]
            rt = golden.cascade_point(G, choice["cheap"], "resnet34", choice["threshold"], range(100))
            print("calibrate: on 100 test images the choice reached accuracy %.4f, deferred %.4f, %.1f images/s "
                  "(golden: %.4f, %.4f)" % (t["accuracy"], t["deferred_fraction"], t["images_per_s"],
                                            rt["correct"] / 100, rt["deferred"] / 100))
            check(t["images"] == 100 and abs(t["accuracy"] - rt["correct"] / 100) <= rt["near"] / 100 + 1e-9 and
                  abs(t["deferred_fraction"] - rt["deferred"] / 100) <= rt["near"] / 100 + 1e-9,
                  "calibrate: test figures %r vs golden %r" % (t, rt))
            check("realised    accuracy" in r.stdout, "calibrate: no realised line in %r" % r.stdout)


def expect_error(name, args, code, want, tmp):
    before = set(os.listdir(tmp))
    r = run(args, timeout=120)
    lines = [l for l in r.stderr.splitlines() if l.strip() and not l.startswith("notice:")]
    ok = r.returncode == code and len(lines) == 1 and want.lower() in lines[0].lower()
    left = set(os.listdir(tmp)) - before
    check(ok and not left, "%s: exit %d (want %d), stderr %r, left %s" % (name, r.returncode, code, lines, left))
    if ok:
        print("ok   %-34s exit %d: %s" % (name, r.returncode, lines[0]))


def check_unreachable(tmp, quick):
    """A target no candidate reaches: exit 1 with one line, the report of what
    was measured on stdout (no choice), and the outputs say what was reached:
    every validation point, the JSON's choice null."""
    csv_path, json_path = os.path.join(tmp, "unreached.csv"), os.path.join(tmp, "unreached.json")
    r = run(["calibrate", "--target-accuracy", "0.999", "--thresholds", "0.5,0.9", "--csv", csv_path,
             "--json", json_path] + quick, timeout=120)
    lines = [l for l in r.stderr.splitlines() if l.strip() and not l.startswith("notice:")]
    check(r.returncode == 1 and len(lines) == 1 and "no candidate reaches" in lines[0] and "written" in lines[0],
          "calibrate: unreachable target: exit %d, stderr %r" % (r.returncode, lines))
    # the report still says what was measured (target, data, each model alone), with no choice line
    check(r.stdout.startswith("target      accuracy >= 0.999") and "alone       " in r.stdout and
          "choice" not in r.stdout, "calibrate: unreachable target: stdout %r" % r.stdout[-300:])
    rows = list(csv.DictReader(open(csv_path))) if os.path.exists(csv_path) else []
    j = json.load(open(json_path)) if os.path.exists(json_path) else {}
    best = max((float(x["accuracy"]) for x in rows), default=-1)
    check(len(rows) == 3 and j.get("reached") is False and j.get("choice", "absent") is None and
          abs(j.get("best_accuracy", -1) - best) < 1e-6,
          "calibrate: unreachable target: %d CSV rows (want 2 thresholds + resnet34 alone), JSON reached %r, "
          "choice %r, best %r (CSV's %.4f)" % (len(rows), j.get("reached"), j.get("choice", "absent"),
                                               j.get("best_accuracy"), best))
    for path in (csv_path, json_path):
        if os.path.exists(path):
            os.unlink(path)


def test_errors(tmp):
    o = os.path.join(tmp, "x")
    quick = ["--cheap", "lenet", "--limit", "20", "--device", "cpu", "--quiet"]
    expect_error("sweep: --full none", ["sweep", "--full", "none", "--csv", o], 2, "needs an expensive", tmp)
    expect_error("sweep: model twice", ["sweep", "--cheap", "lenet,lenet", "--csv", o], 2, "listed twice", tmp)
    # one file under two names (it was measured twice, and its rows named one model twice)
    lenet_path = os.path.join(golden.ASSETS, "weights", "lenet.safetensors")
    expect_error("sweep: the --full model as a cheap one", ["sweep", "--cheap", "lenet,alexnet_shallower", "--full",
                                                            "alexnet_shallower", "--limit", "20", "--csv", o], 2,
                 "'alexnet_shallower' is the --full model", tmp)
    expect_error("calibrate: one model by name and path", ["calibrate", "--target-accuracy", "0.5", "--cheap",
                                                            "lenet," + lenet_path, "--limit", "20", "--csv", o], 2,
                 "'lenet' and '%s' are one file" % lenet_path, tmp)
    expect_error("sweep: unknown model", ["sweep", "--cheap", "lenet,vgg", "--csv", o], 2, "unknown model", tmp)
    expect_error("sweep: threshold range", ["sweep", "--thresholds", "0.5:1.5:0.1", "--csv", o], 2, "outside", tmp)
    expect_error("sweep: bad throughputs", ["sweep", "--throughputs", "lenet=fast", "--csv", o], 2,
                 "not a positive number", tmp)
    expect_error("sweep: throughput of another model", ["sweep", "--cheap", "lenet", "--throughputs",
                                                         "lenet=1e6,resnet43=1e5", "--csv", o], 2,
                 "'resnet43' is none of this run's models", tmp)
    expect_error("sweep: one model's throughput twice", ["sweep", "--cheap", "lenet", "--throughputs",
                                                          "lenet=1e6,resnet34=1e5,lenet=2e6", "--limit", "20",
                                                          "--csv", o], 2,
                 "--throughputs: a second throughput for lenet", tmp)  # no "line 1:" of a command line
    expect_error("sweep: by path and by name", ["sweep", "--cheap", lenet_path, "--throughputs",
                                                "%s=1e6,lenet=2e6" % lenet_path, "--limit", "20", "--csv", o], 2,
                 "a second throughput for " + lenet_path, tmp)
    for cmd, extra in (("sweep", []), ("calibrate", ["--target-accuracy", "0.5"])):  # refused before it is read:
        given = os.path.join(tmp, "given-%s.txt" % cmd)  # its notice ('vgg' is none of the models) was said first
        open(given, "w").write("lenet=100,vgg=3\n")
        r = run([cmd, "--cheap", "lenet", "--throughput-from", given, "--csv", given, "--limit", "20"] + extra)
        check(r.returncode == 2 and r.stderr.strip().splitlines() == [
            "cascade %s: --csv %s is also the --throughput-from file: an output may not replace an input" % (cmd, given)]
            and open(given).read() == "lenet=100,vgg=3\n",
            "%s --throughput-from F --csv F: exit %d, stderr %r" % (cmd, r.returncode, r.stderr))
        os.unlink(given)
    twice = os.path.join(tmp, "twice.txt")
    open(twice, "w").write("# measured\nlenet=1e6\nresnet34=1e5\nlenet=2e6\n")
    start = time.time()  # refused before the passes over all 10,000 images (a minute and more here)
    expect_error("calibrate: throughput file twice", ["calibrate", "--target-accuracy", "0.9", "--cheap", "lenet",
                                                      "--throughput-from", twice], 1,
                 "line 4: a second throughput for lenet", tmp)
    check(time.time() - start < 20, "calibrate: throughput file twice: refused after %.0f s" % (time.time() - start))
    os.unlink(twice)
    for median in ("1e999", "-5", "0"):  # 1e999 was taken as infinity: JSON with "images_per_s": inf, exit 0
        infinite = os.path.join(tmp, "infinite.json")
        open(infinite, "w").write('{"alone": [{"model": "lenet", "images_per_s": {"median": %s}}], "cascades": []}'
                                  % median)
        expect_error("sweep: bench JSON median %s" % median, ["sweep", "--cheap", "lenet", "--throughput-from",
                                                              infinite, "--limit", "20", "--json", o], 1,
                     "median for lenet is not a positive finite number", tmp)
        os.unlink(infinite)
    expect_error("sweep: range past the end", ["sweep", "--range", "9990:10010", "--csv", o], 2, "not all in", tmp)
    expect_error("sweep: missing data", ["sweep", "--data", os.path.join(tmp, "no.bin"), "--csv", o], 1,
                 "cannot open", tmp)
    expect_error("sweep: unwritable svg", ["sweep", "--svg", os.path.join(tmp, "no", "dir", "p.svg")], 1,
                 "cannot write", tmp)
    expect_error("sweep: unknown option", ["sweep", "--frobnicate"], 2, "unknown option", tmp)
    weights = open(os.path.join(golden.ASSETS, "weights", "lenet.safetensors"), "rb").read()
    broken = os.path.join(tmp, "broken.safetensors")
    open(broken, "wb").write(weights[:len(weights) // 2])
    # every model is loaded before the first (long) pass: a bad file fails at once, with one line
    expect_error("sweep: truncated weights", ["sweep", "--cheap", "lenet," + broken, "--csv", o], 1,
                 "broken.safetensors", tmp)
    os.unlink(broken)
    # the target as given, not rounded: 0.99999 was "accuracy 1.0000", and 0.9999995 a JSON level of 1
    expect_error("calibrate: unreachable target as given", ["calibrate", "--target-accuracy", "0.99999", "--full",
                                                           "alexnet_shallower", "--val", golden.TEST_BATCH] + quick, 1,
                 "no candidate reaches accuracy 0.99999 on the 20", tmp)
    level = os.path.join(tmp, "level.json")
    r = run(["calibrate", "--target-agreement", "0.9999995", "--full", "alexnet_shallower", "--val", golden.TEST_BATCH,
             "--json", level] + quick)
    got = json.load(open(level))["target"]["level"] if r.returncode == 0 else None
    check(got == 0.9999995, "calibrate --target-agreement 0.9999995: rc %d, JSON level %r" % (r.returncode, got))
    if os.path.exists(level):
        os.unlink(level)
    expect_error("calibrate: no target", ["calibrate", "--json", o], 2, "--target-accuracy", tmp)
    expect_error("calibrate: two targets", ["calibrate", "--target-accuracy", "0.9", "--target-agreement", "0.9"], 2,
                 "one of", tmp)
    expect_error("calibrate: target above 1", ["calibrate", "--target-accuracy", "1.2"], 2, "outside", tmp)
    expect_error("calibrate: throughput file", ["calibrate", "--target-accuracy", "0.9", "--throughput-from",
                                                os.path.join(tmp, "none.txt")], 1, "cannot open", tmp)
    # a default validation file too short for the default split: the file's fault (exit 1), not an option's
    short = os.path.join(tmp, "assets")
    os.makedirs(os.path.join(short, "data", "cifar10"))
    os.symlink(os.path.join(golden.ASSETS, "weights"), os.path.join(short, "weights"))
    with open(os.path.join(golden.ASSETS, "data", "cifar10", "data_batch_5.bin"), "rb") as f:
        open(os.path.join(short, "data", "cifar10", "data_batch_5.bin"), "wb").write(f.read(3073 * 300))
    r = subprocess.run([cascade, "calibrate", "--target-accuracy", "0.8", "--cheap", "lenet"], capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, CASCADE_ASSETS=short))
    lines = [l for l in r.stderr.splitlines() if l.strip() and not l.startswith("notice:")]
    check(r.returncode == 1 and len(lines) == 1 and "too few for the default --val-range 5000:10000" in lines[0],
          "calibrate: short default validation file: exit %d, stderr %r" % (r.returncode, lines))
    shutil.rmtree(short)
    check_unreachable(tmp, quick)
    for cmd in ("sweep", "calibrate"):
        r = run([cmd, "--help"])
        check(r.returncode == 0 and r.stdout.startswith("usage: cascade " + cmd), "%s --help" % cmd)


def signal_after_line(p, text, sig, pause, timeout):
    """Sends sig to p pause seconds after a line of its stderr holds text (or
    timeout seconds pass); waits for p (killed past 120 s); returns the
    stderr's lines."""
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(p.stderr), daemon=True)
    reader.start()
    deadline = time.time() + timeout
    while time.time() < deadline and p.poll() is None and not any(text in l for l in lines):
        time.sleep(0.002)
    time.sleep(pause)
    p.send_signal(sig)
    try:
        p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    reader.join(10)
    return lines


def test_sweep_sigint(tmp, sig=signal.SIGINT):
    outs = [os.path.join(tmp, "int" + e) for e in (".csv", ".svg", ".json")]
    p = subprocess.Popen([cascade, "sweep", "--cheap", "lenet", "--full", "resnet34", "--limit", "3000", "--device",
                          "cpu", "--chunk", "64", "--csv", outs[0], "--svg", outs[1], "--json", outs[2]],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # into the expensive pass (about a minute on a CPU): once the cheap one's line is out (the outputs are
    # unnamed temporary files until the commit: nothing shows in the folder before)
    err = "".join(signal_after_line(p, "lenet alone", sig, 0.5, 60))
    lines = [l for l in err.splitlines() if l.startswith("cascade sweep: interrupted")]
    left = [f for f in os.listdir(tmp) if f.startswith("int")]
    check(p.returncode == 128 + sig and len(lines) == 1 and not left,
          "sweep signal %d: exit %d, stderr %r, left %s" % (sig, p.returncode, err, left))
    print("sweep signal %d: exit %d, %r, nothing left behind" % (sig, p.returncode, lines[0] if lines else None))


def test_calibrate_sigint_during_test(tmp):
    """calibrate stopped while its --test runs: exit 130, and the choice (minutes
    of validation) is still reported and written, the JSON's test incomplete
    with no figures; it wrote nothing and printed nothing of the choice."""
    outs = [os.path.join(tmp, "cal-int" + e) for e in (".csv", ".json")]
    p = subprocess.Popen([cascade, "calibrate", "--cheap", "lenet", "--full", "alexnet_shallower", "--limit", "200",
                          "--thresholds", "0.99", "--target-accuracy", "0.5", "--device", "cpu", "--chunk", "64",
                          "--test", golden.TEST_BATCH, "--test-limit", "10000", "--csv", outs[0], "--json", outs[1]],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr_lines = []
    reader = threading.Thread(target=lambda: stderr_lines.extend(p.stderr), daemon=True)
    reader.start()
    deadline = time.time() + 120  # the validation passes' lines: the expensive one's last, then the test runs
    while time.time() < deadline and p.poll() is None and not any("alexnet_shallower alone on" in l
                                                                   for l in stderr_lines):
        time.sleep(0.02)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=120)  # (its report is short: the pipe holds it)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    stdout = p.stdout.read()
    reader.join(10)
    said = [l for l in stderr_lines if l.startswith("cascade calibrate: stopped by SIGINT; the choice is reported and "
                                                     "written, without test figures")]
    j = json.load(open(outs[1])) if os.path.exists(outs[1]) else {}
    test = j.get("test") or {}
    check(p.returncode == 130 and said and "choice " in stdout and "stopped before it ended" in stdout and
          os.path.exists(outs[0]) and j.get("choice") and test.get("complete") is False and "accuracy" not in test,
          "calibrate stopped during --test: exit %d, stderr %r, stdout %r, JSON test %r" % (
              p.returncode, stderr_lines[-2:], stdout[-300:], test))
    for f in outs:
        if os.path.exists(f):
            os.unlink(f)


def test_throughputs_from_bench_names(tmp):
    """--throughput-from a bench JSON whose rows are named by paths that hold a
    space, a quote and 90 characters: each figure reaches its model."""
    weights = os.path.join(golden.ASSETS, "weights")
    odd = os.path.join(tmp, "a folder with \"quotes\"" + "x" * 40)  # (no comma: lists are comma-separated)
    os.mkdir(odd)
    cheap = os.path.join(odd, "my lenet.safetensors")
    shutil.copy(os.path.join(weights, "lenet.safetensors"), cheap)
    bench = os.path.join(tmp, "named.json")
    r = run(["bench", "--device", "cpu", "--models", cheap + ",alexnet_shallower", "--no-cascades", "--images", "32",
             "--runs", "1", "--warmup", "0", "--batches", "32", "--json", bench])
    check(r.returncode == 0, "bench with a path for a name: rc %d %s" % (r.returncode, r.stderr[-200:]))
    figures = {a["model"]: a["images_per_s"]["median"] for a in json.load(open(bench))["alone"]} if r.returncode == 0 else {}
    out = os.path.join(tmp, "named-sweep.json")
    r = run(["sweep", "--device", "cpu", "--quiet", "--cheap", cheap, "--full", "alexnet_shallower", "--limit", "20",
             "--thresholds", "0.9", "--throughput-from", bench, "--json", out])
    models = json.load(open(out)).get("models", []) if r.returncode == 0 else []
    given = {m.get("name"): m.get("images_per_s") for m in models}
    check(r.returncode == 0 and len(figures) == 2 and all(abs(given.get(k, 0) - v) <= 0.5 for k, v in figures.items()),
          "sweep --throughput-from those names: rc %d, bench %s, sweep %s %s" % (r.returncode, figures, given,
                                                                              r.stderr[-200:]))


def test_throughputs_from_pipe(tmp):
    """--throughput-from <(...): the file is a pipe that can be read once. It was
    opened three times (a check, the stand-ins, the passes) and the second open
    waited for a writer that never came: the command hung."""
    for cmd, extra in (("sweep", ["--thresholds", "0.9"]), ("calibrate", ["--target-accuracy", "0.5",
                                                                         "--val", golden.TEST_BATCH])):
        fifo = os.path.join(tmp, "throughputs-%s.fifo" % cmd)
        os.mkfifo(fifo)
        writer = threading.Thread(target=lambda: open(fifo, "w").write("lenet=1234\nalexnet_shallower=567\n"),
                                  daemon=True)
        writer.start()
        out = os.path.join(tmp, "pipe-%s.json" % cmd)
        try:
            r = run([cmd, "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--limit",
                     "20", "--throughput-from", fifo, "--json", out] + extra, timeout=60)
            rc, text = r.returncode, open(out).read() if r.returncode == 0 else r.stderr[-200:]
        except subprocess.TimeoutExpired:
            rc, text = "hung (60 s)", ""
            threading.Thread(target=lambda: open(fifo, "w").close(), daemon=True).start()
        check(rc == 0 and "1234" in text and "567" in text, "%s --throughput-from a pipe: rc %s %s" % (cmd, rc, text[-200:]))
        print("%s --throughput-from a pipe: rc %s" % (cmd, rc))


def test_throughputs_from_fifo_stop(tmp):
    """SIGINT while --throughput-from is a FIFO with no writer: a stop (130)
    at once. A blocking open and read restarted after the signal (SA_RESTART),
    so the first SIGINT was lost and the command waited for ever."""
    for cmd, extra in (("sweep", ["--thresholds", "0.9"]), ("calibrate", ["--target-accuracy", "0.5",
                                                                         "--val", golden.TEST_BATCH])):
        fifo = os.path.join(tmp, "no-writer-%s.fifo" % cmd)
        os.mkfifo(fifo)
        p = subprocess.Popen([cascade, cmd, "--device", "cpu", "--quiet", "--cheap", "lenet", "--full",
                              "alexnet_shallower", "--limit", "20", "--throughput-from", fifo] + extra,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)  # past the start: waiting on the FIFO
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            err = "still waiting 10 s after SIGINT"
        lines = [l for l in err.splitlines() if l.strip()]
        check(p.returncode == 130 and len(lines) == 1 and "interrupted" in lines[0],
              "%s --throughput-from a FIFO with no writer, SIGINT: rc %s %r" % (cmd, p.returncode, lines))
        print("%s --throughput-from a FIFO with no writer, SIGINT: rc %s" % (cmd, p.returncode))


def test_odd_names_and_exact_thresholds(tmp):
    """A model path with a byte that is not UTF-8: the JSON and the SVG stay
    valid UTF-8 (U+FFFD in its place). A threshold %g would print as 1
    (0.9999995): the CSV, the JSON and `run` give it as it was given."""
    odd = os.path.join(tmp.encode(), b"lat\xe9n")
    os.mkdir(odd)
    cheap = os.path.join(odd, b"lenet.safetensors")
    shutil.copy(os.path.join(golden.ASSETS, "weights", "lenet.safetensors"), cheap)
    out = {k: os.path.join(tmp, "odd." + k) for k in ("json", "svg", "csv")}
    r = subprocess.run([cascade, "sweep", "--device", "cpu", "--quiet", "--cheap", cheap, "--full", "alexnet_shallower",
                        "--limit", "40", "--thresholds", "0.5,0.9999995", "--json", out["json"], "--svg", out["svg"],
                        "--csv", out["csv"], "--throughputs", "lenet=2e6,alexnet_shallower=7e5"], capture_output=True)
    check(r.returncode == 0, "sweep with a non-UTF-8 path: rc %d %r" % (r.returncode, r.stderr[-200:]))
    if r.returncode:
        return
    try:
        with open(out["json"], encoding="utf-8") as f:
            names = [m["name"] for m in json.load(f)["models"]]
        ok = any("lat\ufffdn" in n for n in names)
        check(ok, "sweep JSON: the odd byte is not U+FFFD in %r" % names)
    except (UnicodeDecodeError, ValueError) as e:
        check(False, "sweep JSON with a non-UTF-8 path is not valid UTF-8 JSON: %s" % e)
    try:
        ET.parse(out["svg"])
    except ET.ParseError as e:
        check(False, "sweep SVG with a non-UTF-8 path does not parse: %s" % e)
    try:
        with open(out["csv"], newline="", encoding="utf-8") as f:  # (U+FFFD for the odd byte, as in the JSON)
            cells = sorted(row["threshold"] for row in csv.DictReader(f) if row["threshold"])
        check(cells == ["0.5", "0.9999995"], "sweep CSV thresholds %s, not 0.5 and 0.9999995" % cells)
    except UnicodeDecodeError as e:
        check(False, "sweep CSV with a non-UTF-8 path is not UTF-8: %s" % e)
    report = os.path.join(tmp, "exact-run.json")
    r = run(["run", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--limit", "20",
             "--threshold", "0.9999995", "--json", report])
    shown = [l for l in r.stdout.splitlines() if l.startswith("cascade ")]
    thr = json.load(open(report)).get("threshold") if r.returncode == 0 else None
    check(r.returncode == 0 and thr == 0.9999995 and shown and shown[0].endswith("at threshold 0.9999995"),
          "run --threshold 0.9999995: rc %d, JSON %r, summary %r" % (r.returncode, thr, shown))
    print("non-UTF-8 path: JSON and SVG valid; threshold 0.9999995 kept in the CSV, the JSON and run's summary")


def strict_json(path):
    """The JSON at path, refused (ValueError) where a strict reader would: no key twice, no NaN or Infinity."""
    def no_key_twice(pairs):
        keys = [k for k, _ in pairs]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError("key twice: %s" % twice)
        return dict(pairs)

    def no_constant(name):
        raise ValueError("not JSON: %s" % name)
    with open(path, encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=no_key_twice, parse_constant=no_constant)


def test_output_edges(tmp):
    """Strict readers at the edges: a name with U+FFFF (UTF-8, but no XML character) leaves the SVG well
    formed; every point at accuracy 0 (one record both models get wrong, confidently) puts no axis tick below
    0; given throughputs of 1e300 and 1e-300 stay what they are in the CSV (%.3f wrote 301 digits and 0.000)
    and the predicted one follows from them; calibrate with the expensive model among the cheap ones writes
    no JSON key twice."""
    lp, lc = G.decisions("lenet")
    ap, ac = G.decisions("alexnet_shallower")
    wrong = next(i for i in range(len(G.labels)) if lp[i] != G.labels[i] != ap[i] and min(lc[i], ac[i]) > 0.8)
    odd = os.path.join(tmp, "non\uffffchar.safetensors")
    shutil.copy(os.path.join(golden.ASSETS, "weights", "lenet.safetensors"), odd)
    svg = os.path.join(tmp, "edge.svg")
    for what, args in (("a name with U+FFFF", ["--cheap", odd, "--range", "0:10"]),
                       ("accuracy 0 (record %d)" % wrong, ["--cheap", "lenet", "--range", "%d:%d" % (wrong, wrong + 1)])):
        r = run(["sweep", "--device", "cpu", "--quiet", "--full", "alexnet_shallower", "--thresholds", "0.5",
                 "--svg", svg] + args)
        if not check(r.returncode == 0, "sweep, %s: rc %d %s" % (what, r.returncode, r.stderr[-200:])):
            continue
        try:
            ticks = [t.text or "" for t in ET.parse(svg).iter() if t.get("class") == "tick"]
            check(ticks and not [t for t in ticks if t.startswith("-")], "sweep SVG, %s: ticks %s" % (what, ticks))
        except ET.ParseError as e:
            check(False, "sweep SVG, %s: not well formed: %s" % (what, e))
    csv_path = os.path.join(tmp, "edge.csv")
    r = run(["sweep", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--limit", "20",
             "--thresholds", "0.5,0.9", "--throughputs", "lenet=1e300,alexnet_shallower=1e-300", "--csv", csv_path])
    if check(r.returncode == 0, "sweep with throughputs 1e300, 1e-300: rc %d %s" % (r.returncode, r.stderr[-200:])):
        with open(csv_path, newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            p, given = float(row["deferred_fraction"]), (1e300 if row["cheap"] == "lenet" else 1e-300)
            want = golden.predicted_throughput(1e300, 1e-300, p) if row["cheap"] == "lenet" else 1e-300
            # (blank only where it does not apply: the expensive model alone has no cheap figure)
            got = [float(row[k] or (given if row["cheap"] == "none" else "nan"))
                   for k in ("cheap_images_per_s", "full_images_per_s", "predicted_images_per_s")]
            ok = all(abs(g - w) <= 1e-8 * w for g, w in zip(got, (given, 1e-300, want)))
            check(ok and max(len(v or "") for v in row.values()) < 32,
                  "sweep CSV with throughputs 1e300, 1e-300: %s" % dict(row))
    report = os.path.join(tmp, "edge-calibrate.json")
    twin = os.path.join(tmp, "lenet-twin.safetensors")  # the same weights in another file (one file is refused)
    shutil.copy(os.path.join(golden.ASSETS, "weights", "lenet.safetensors"), twin)
    r = run(["calibrate", "--device", "cpu", "--quiet", "--target-accuracy", "0.5", "--cheap", "lenet", "--full",
             twin, "--limit", "20", "--json", report])
    if check(r.returncode == 0, "calibrate lenet -> lenet: rc %d %s" % (r.returncode, r.stderr[-200:])):
        try:
            models = [(m["name"], m["role"]) for m in strict_json(report)["models"]]
            check(models == [("lenet", "cheap"), (twin, "full")], "calibrate JSON models %s" % models)
        except (ValueError, KeyError) as e:
            check(False, "calibrate lenet -> lenet: the JSON: %s" % e)
    print("edges: U+FFFF in a name, accuracy 0, throughputs 1e300 and 1e-300, calibrate of a model with itself")


def test_default_cheap_without_full(tmp):
    """Without --cheap, the default list leaves out the --full model: `sweep
    --full alexnet` ran alexnet twice (two models rows, an alexnet -> alexnet
    cascade), and so did --full naming the zoo's alexnet file by its path. A
    --cheap naming it is refused (test_errors)."""
    # the zoo's file named by its path is the same model
    by_path = os.path.abspath(os.path.join(golden.ASSETS, "weights", "alexnet.safetensors"))
    for full, cheap, want in (("alexnet", [], ["lenet", "alexnet_shallower", "alexnet_shallow"]),
                              ("alexnet", ["--cheap", "lenet,alexnet_shallow"], ["lenet", "alexnet_shallow"]),
                              (by_path, [], ["lenet", "alexnet_shallower", "alexnet_shallow"])):
        out = os.path.join(tmp, "default-cheap.json")
        r = run(["sweep", "--device", "cpu", "--full", full, "--limit", "32", "--thresholds", "0.9", "--quiet",
                 "--json", out] + cheap)
        report = json.load(open(out)) if r.returncode == 0 else {}
        models = [(m["name"], m["role"]) for m in report.get("models", [])]
        version = run(["--version"]).stdout.split(",")[0][len("cascade "):]
        check(report.get("version") == version and "(git " in version, "sweep JSON version %r, --version %r" % (
            report.get("version"), version))
        check(models == [(n, "cheap") for n in want] + [(full, "full")],
              "sweep --full %s %s: rc %d, models %r" % (full, " ".join(cheap) or "(default --cheap)", r.returncode,
                                                        models))
        if os.path.exists(out):
            os.unlink(out)


def test_calibrate_test_overlap(tmp):
    """--test over the validation images themselves, or over the default file's
    trained-on records 0..4999, measured nothing independent of the choice:
    said at once (a notice), in the report and in the JSON; a disjoint --test says nothing.
    Images are matched by their pixels: records copied into a file of their own count too.
    Validation images that were trained on are said too (a notice, the report's
    validation line, the JSON's validation.trained_on)."""
    val5 = os.path.join(golden.ASSETS, "data", "cifar10", "data_batch_5.bin")
    records = lambda path, first, n: open(path, "rb").read()[first * 3073:(first + n) * 3073]  # noqa: E731
    copies = {"copy5": records(val5, 0, 100),  # images matched by their pixels, whatever the file
              "mixed": records(val5, 5000, 10) + records(golden.TEST_BATCH, 0, 10),
              "cut": records(golden.TEST_BATCH, 50, 100)}
    for name, data in copies.items():
        copies[name] = os.path.join(tmp, name + ".bin")
        open(copies[name], "wb").write(data)
    cases = (  # validation args, --test file and limit, shared, trained on; validation images trained on
        (["--val", golden.TEST_BATCH, "--val-range", "50:150"], golden.TEST_BATCH, 100, 50, 0, 0),
        (["--val", golden.TEST_BATCH, "--val-range", "200:300"], golden.TEST_BATCH, 100, 0, 0, 0),
        (["--limit", "20"], val5, 30, 0, 30, 0),              # default validation: records 5000..5019
        (["--val", val5, "--val-range", "0:40"], val5, 60, 40, 60, 40),
        (["--limit", "20"], copies["copy5"], 100, 0, 100, 0),  # data_batch_5's first records, in a file of their own
        (["--limit", "20"], copies["mixed"], 20, 10, 0, 0),    # validation records 5000..5009, then test images
        (["--val", golden.TEST_BATCH, "--val-range", "100:200"], copies["cut"], 100, 50, 0, 0),
        (["--val", copies["copy5"], "--val-range", "90:100"], golden.TEST_BATCH, 10, 0, 0, 10),  # validated on them
        (["--val", val5, "--val-range", "4990:5010"], golden.TEST_BATCH, 10, 0, 0, 10),  # half of them
    )
    for val, test, limit, shared, trained, val_trained in cases:
        out = os.path.join(tmp, "overlap.json")
        r = run(["calibrate", "--cheap", "lenet", "--full", "alexnet_shallower", "--target-accuracy", "0.3",
                 "--device", "cpu", "--quiet", "--json", out, "--test", test, "--test-limit", str(limit)] + val)
        name = "calibrate %s --test %s --test-limit %d" % (" ".join(val), os.path.basename(test), limit)
        if not check(r.returncode == 0, "%s: exit %d: %s" % (name, r.returncode, r.stderr)):
            continue
        j = json.load(open(out))
        t = j["test"]
        notices = [l for l in r.stderr.splitlines() if l.startswith("notice:")]
        want = (["notice: %d of the validation images were trained on" % val_trained] if val_trained else []) + \
            (["notice: %d of the --test images are validation images too" % shared] if shared else []) + \
            (["notice: %d of the --test images were trained on" % trained] if trained else [])
        line = "not independent: %d also validation images, %d trained on" % (shared, trained)
        ok = [check(len(notices) == len(want) and all(n.startswith(w) for n, w in zip(notices, want)),
                    "%s: notices %r, want %r" % (name, notices, want)),
              check(t.get("shared_with_validation") == shared and t.get("trained_on") == trained,
                    "%s: JSON test %r, want shared %d, trained on %d" % (name, t, shared, trained)),
              check((line in r.stdout) == bool(shared or trained), "%s: report %r" % (name, r.stdout)),
              # (the report's count: "some" read as a few where every one was)
              check(j["validation"].get("trained_on") == val_trained and
                    ((", all trained on)" if val_trained == j["validation"].get("images") else
                      ", %d trained on)" % val_trained) in r.stdout) == bool(val_trained) and
                    (" trained on)" in r.stdout) == bool(val_trained),
                    "%s: validation %r, want %d trained on" % (name, j["validation"], val_trained))]
        if all(ok):
            print("ok   %s: %d shared, %d trained on" % (name, shared, trained))
        os.unlink(out)


def test_throughputs_from_unknown_names(tmp):
    """A --throughput-from name=value file may list other models (kept for many
    runs), but one this run lacks is said (a misspelt name was silent), and so
    is a file that gives no figure; a file whose names all match says nothing.
    A bench JSON alike (it said nothing: a misspelt name was silent there)."""
    def bench_json(*figures):
        return json.dumps({"alone": [{"model": m, "images_per_s": {"median": v}} for m, v in figures],
                           "cascades": []})
    for name, text, want in (("typo", "lenet=1e6\nresnet43=5\n", "'resnet43' is none of this run's models"),
                             ("empty", "", "gives none of this run's models a figure"),
                             ("good", "lenet=1e6\nalexnet_shallower=5\n", None),
                             ("bench JSON typo", bench_json(("lenet", 1e6), ("resnet43", 5)),
                              "'resnet43' is none of this run's models"),
                             ("bench JSON with no figure", bench_json(), "gives none of this run's models a figure"),
                             ("good bench JSON", bench_json(("lenet", 1e6), ("alexnet_shallower", 5)), None)):
        path = os.path.join(tmp, "figures-%s.txt" % name.replace(" ", "-"))
        open(path, "w").write(text)
        r = run(["sweep", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--limit",
                 "20", "--thresholds", "0.9", "--throughput-from", path])
        notices = [l for l in r.stderr.splitlines() if l.startswith("notice: --throughput-from")]
        check(r.returncode == 0 and (len(notices) == 1 and want in notices[0] if want else not notices),
              "--throughput-from a %s file: rc %d, notices %r" % (name, r.returncode, notices))


def check_aligned(what, lines, header_word, value_of):
    """Each table line's value (value_of(line): the text it must print) ends where header_word ends."""
    if not lines:
        return check(False, "%s: no table" % what)
    end = lines[0].index(header_word) + len(header_word)
    bad = [l for l in lines[1:] if not l[:end].endswith(value_of(l)) or l[end:end + 1] not in ("", " ")]
    check(not bad, "%s: rows not under '%s' (column %d): %r" % (what, header_word, end, bad[:2]))


def table(stdout, first_word, stop=""):
    """The lines of stdout from the one that starts with first_word to the first blank one (or one starting with stop)."""
    lines, on = [], False
    for l in stdout.splitlines():
        on = on or l.lstrip().startswith(first_word)
        if on and (not l.strip() or (stop and l.startswith(stop))):
            break
        if on:
            lines.append(l)
    return lines


def test_long_names(tmp):
    """A model named by a path longer than the name column: its rows stay under their headers (sweep's two
    tables, bench's two, calibrate's), and a throughput given by that path reaches it while "lenet" names the
    zoo's lenet, not every model of its architecture (a copy of lenet read "a second throughput for" it).
    The path has characters of two bytes: a column counts characters, not bytes (its rows stood 2 to the left)."""
    copy = os.path.join(tmp, "a_modèle_named_by_a_päth_longer_than_the_name_column.safetensors")
    shutil.copy(os.path.join(golden.ASSETS, "weights", "lenet.safetensors"), copy)
    out = os.path.join(tmp, "long.json")
    r = run(["sweep", "--device", "cpu", "--quiet", "--cheap", "lenet," + copy, "--full", "alexnet_shallower",
             "--limit", "40", "--thresholds", "0.5,0.9", "--throughputs",
             "lenet=1000,%s=2000,alexnet_shallower=100" % copy, "--json", out])
    given = {m.get("name"): m.get("images_per_s") for m in json.load(open(out)).get("models", [])} \
        if r.returncode == 0 else {}
    check(r.returncode == 0 and given == {"lenet": 1000, copy: 2000, "alexnet_shallower": 100},
          "sweep: lenet and a long-named copy given their own throughputs: rc %d, %s %s" % (
              r.returncode, given, r.stderr[-200:]))
    check_aligned("sweep alone", table(r.stdout, "alone "), "images/s", lambda l: l.split()[1])
    check_aligned("sweep frontier", table(r.stdout, "cheap ", "(speed-up"), "threshold",
                  lambda l: l.split()[-6])
    r = run(["bench", "--device", "cpu", "--models", "lenet," + copy, "--cascades", copy + ":lenet",
             "--thresholds", "0.9", "--images", "64", "--runs", "1", "--warmup", "0", "--batches", "32"])
    check(r.returncode == 0, "bench with a long name: rc %d %s" % (r.returncode, r.stderr[-200:]))
    check_aligned("bench alone", table(r.stdout, "model alone"), "batch", lambda l: l.split()[1])
    check_aligned("bench cascades", table(r.stdout, "cascade ", "(ideal"), "thr", lambda l: l.split()[-9])
    r = run(["calibrate", "--device", "cpu", "--quiet", "--cheap", "lenet," + copy, "--full", "alexnet_shallower",
             "--limit", "40", "--thresholds", "0.5,0.9", "--target-accuracy", "0.5", "--val", golden.TEST_BATCH,
             "--throughputs", "lenet=1000,%s=2000,alexnet_shallower=100" % copy])
    rows = [l for l in r.stdout.splitlines() if "images/s (" in l and not l.startswith(("choice", "predicted"))]
    ends = {l.index(" images/s (") for l in rows}
    check(r.returncode == 0 and len(rows) == 3 and len(ends) == 1,
          "calibrate with a long name: rc %d, figures end at columns %s: %r %s" % (r.returncode, ends, rows,
                                                                             r.stderr[-200:]))


def test_threshold_one_is_swept(tmp):
    """--thresholds 1 is inside [0, 1] (check_thresholds takes it, `run --threshold 1` defers every image): the
    sweep's row at 1 defers all 20 images and agrees with the expensive model on each."""
    out = os.path.join(tmp, "thr-one.csv")
    r = run(["sweep", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--limit", "20",
             "--thresholds", "0.5,1", "--csv", out])
    rows = list(csv.DictReader(open(out))) if r.returncode == 0 else []
    at1 = [x for x in rows if x["cheap"] == "lenet" and x["threshold"] == "1"]
    check(r.returncode == 0 and len(at1) == 1 and int(at1[0]["deferred"]) == 20 and int(at1[0]["agree"]) == 20,
          "sweep --thresholds 0.5,1: rc %d, rows at 1 %r %s" % (r.returncode, at1, r.stderr[-200:]))


def test_threshold_zero_is_swept(tmp):
    """--thresholds 0 is inside [0, 1]: the row at 0 defers no image, and its accuracy is lenet's own (golden)."""
    out = os.path.join(tmp, "thr-zero.csv")
    r = run(["sweep", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--limit", "20",
             "--thresholds", "0,0.5", "--csv", out])
    rows = list(csv.DictReader(open(out))) if r.returncode == 0 else []
    at0 = [x for x in rows if x["cheap"] == "lenet" and x["threshold"] == "0"]
    pred = G.decisions("lenet")[0]
    want = sum(pred[k] == G.labels[k] for k in range(20))
    check(r.returncode == 0 and len(at0) == 1 and int(at0[0]["deferred"]) == 0 and int(at0[0]["correct"]) == want,
          "sweep --thresholds 0,0.5: rc %d, rows at 0 %r (lenet alone: %d correct) %s" % (r.returncode, at0, want,
                                                                                      r.stderr[-200:]))


def test_frontier_holds_the_expensive_model_alone(tmp):
    """Where the expensive model alone is the most accurate point (alexnet_shallower behind lenet at 0.5), it is on the
    frontier: the CSV's pareto column equals brute-force dominance over every row, the alone row (cheap none) included.
    (In test_sweep cascades beat resnet34 alone, so its row was never marked either way.)"""
    out = os.path.join(tmp, "alone-front.csv")
    r = run(["sweep", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--limit", "100",
             "--thresholds", "0.5,0.7", "--csv", out])
    rows = list(csv.DictReader(open(out))) if r.returncode == 0 else []
    pts = [(float(x["predicted_images_per_s"]), float(x["accuracy"])) for x in rows]
    brute = [0 if any((s2 >= s and a2 >= a and (s2 > s or a2 > a)) or (j < i and s2 == s and a2 == a)
                      for j, (s2, a2) in enumerate(pts) if j != i) else 1 for i, (s, a) in enumerate(pts)]
    marks = [int(x["pareto"]) for x in rows]
    alone = [x for x in rows if x["cheap"] == "none"]
    check(r.returncode == 0 and marks == brute and alone and alone[0]["pareto"] == "1",
          "sweep lenet -> alexnet_shallower: rc %d, pareto %s, brute force %s (last: alone) %s" % (
              r.returncode, marks, brute, r.stderr[-200:]))


def test_frontier_at_accuracy_zero(tmp):
    """Every point at accuracy 0 (one record both models get wrong, confidently): the frontier is the fastest point
    alone, not empty (the CSV marks one row, the JSON's frontier has one entry, the table one line)."""
    lp, lc = G.decisions("lenet")
    ap, ac = G.decisions("alexnet_shallower")
    wrong = next(i for i in range(len(G.labels)) if lp[i] != G.labels[i] != ap[i] and min(lc[i], ac[i]) > 0.8)
    out_csv, out_json = os.path.join(tmp, "zero.csv"), os.path.join(tmp, "zero.json")
    r = run(["sweep", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--thresholds",
             "0.5", "--range", "%d:%d" % (wrong, wrong + 1), "--throughputs", "lenet=1000,alexnet_shallower=100",
             "--csv", out_csv, "--json", out_json])
    rows = list(csv.DictReader(open(out_csv))) if r.returncode == 0 else []
    front = json.load(open(out_json))["frontier"] if r.returncode == 0 else []
    marked = [x["cheap"] for x in rows if x["pareto"] == "1"]
    check(r.returncode == 0 and marked == ["lenet"] and len(front) == 1 and front[0]["cheap"] == "lenet" and
          "(1 of 2 points" in r.stdout,
          "sweep at accuracy 0 (record %d): rc %d, marked %r, JSON frontier %r %s" % (wrong, r.returncode, marked, front,
                                                                                 r.stderr[-200:]))


def test_throughputs_win_over_file(tmp):
    """--help: '--throughputs wins over' --throughput-from: a model in both gets the --throughputs figure; one only in
    the file gets the file's."""
    given = os.path.join(tmp, "given.txt")
    open(given, "w").write("lenet=111\nalexnet_shallower=222\n")
    out = os.path.join(tmp, "wins.json")
    r = run(["sweep", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--limit", "20",
             "--thresholds", "0.9", "--throughput-from", given, "--throughputs", "lenet=333", "--json", out])
    figures = {m["name"]: (m["images_per_s"], m["throughput"]) for m in json.load(open(out))["models"]} \
        if r.returncode == 0 else {}
    check(figures == {"lenet": (333, "given"), "alexnet_shallower": (222, "given")},
          "sweep --throughput-from lenet=111 --throughputs lenet=333: rc %d, %r %s" % (r.returncode, figures,
                                                                                    r.stderr[-200:]))


def test_sweep_json_frontier(tmp):
    """The JSON report's frontier is the Pareto frontier: the CSV rows marked 1, in the same order, and no other."""
    out_csv, out_json = os.path.join(tmp, "front.csv"), os.path.join(tmp, "front.json")
    r = run(["sweep", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--limit", "50",
             "--thresholds", "0.5:0.99:0.01", "--csv", out_csv, "--json", out_json])
    rows = list(csv.DictReader(open(out_csv))) if r.returncode == 0 else []
    front = json.load(open(out_json))["frontier"] if r.returncode == 0 else []
    want = [(None if x["cheap"] == "none" else x["cheap"], float(x["threshold"]) if x["threshold"] else None)
            for x in rows if x["pareto"] == "1"]
    got = [(f["cheap"], f["threshold"]) for f in front]
    check(r.returncode == 0 and got == want and len(got) < len(rows),
          "sweep JSON frontier %r, CSV marked %r (of %d rows)" % (got, want, len(rows)))


def test_sweep_sigint_after_passes(tmp, sig=signal.SIGINT):
    """--help: stopped by SIGINT, 'no output is written', exit 130 -- also when the signal comes after the last pass,
    while the points are evaluated (8 cheap models x 10,000 thresholds x 10,000 images: a second or more, no stop
    check in it): finish_outputs' own check is all that keeps the outputs back."""
    weights = os.path.join(golden.ASSETS, "weights", "lenet.safetensors")
    copies = []
    for k in range(9):  # (nine files of lenet: eight cheap ones and the expensive one, each pass quick)
        copies.append(os.path.join(tmp, "lenet%d.safetensors" % k))
        shutil.copy(weights, copies[-1])
    outs = [os.path.join(tmp, "late" + e) for e in (".csv", ".json")]
    p = subprocess.Popen([cascade, "sweep", "--device", "cpu", "--cheap", ",".join(copies[:8]), "--full", copies[8],
                          "--thresholds", "0:0.9999:0.0001", "--throughputs", "lenet=1000", "--csv", outs[0],
                          "--json", outs[1]], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # the last pass is done: into the evaluation
    stderr_lines = signal_after_line(p, os.path.basename(copies[8]) + " alone on", sig, 0, 120)
    left = [f for f in os.listdir(tmp) if f.startswith("late")]
    said = [l for l in stderr_lines if l.startswith("cascade sweep: interrupted")]
    check(p.returncode == 128 + sig and len(said) == 1 and not left,
          "sweep signal %d after the passes: exit %d, left %s, stderr %r" % (sig, p.returncode, left, stderr_lines[-2:]))


def test_calibrate_target_accuracy_zero(tmp):
    """--target-accuracy 0 (inside [0, 1]) is an accuracy target: the JSON's kind, the report's target line."""
    out = os.path.join(tmp, "acc0.json")
    r = run(["calibrate", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--val",
             golden.TEST_BATCH, "--limit", "20", "--thresholds", "0.5", "--target-accuracy", "0", "--json", out])
    target = json.load(open(out))["target"] if r.returncode == 0 else None
    check(target == {"kind": "accuracy", "level": 0} and r.stdout.startswith("target      accuracy >= 0 "),
          "calibrate --target-accuracy 0: rc %d, JSON target %r, stdout %r" % (r.returncode, target, r.stdout[:60]))


def test_calibrate_default_file_named(tmp):
    """--help: --val-range defaults to 5000:10000 of the default file 'named or not': --val naming
    data_batch_5.bin itself still leaves out its trained-on records 0..4999."""
    val5 = os.path.join(golden.ASSETS, "data", "cifar10", "data_batch_5.bin")
    out = os.path.join(tmp, "named-default.json")
    r = run(["calibrate", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--val", val5,
             "--limit", "20", "--thresholds", "0.5", "--target-accuracy", "0.3", "--json", out])
    v = json.load(open(out))["validation"] if r.returncode == 0 else {}
    notices = [l for l in r.stderr.splitlines() if l.startswith("notice:")]
    check(v.get("first") == 5000 and v.get("images") == 20 and v.get("trained_on") == 0 and not notices,
          "calibrate --val data_batch_5.bin (named): rc %d, validation %r, notices %r" % (r.returncode, v, notices))


def test_calibrate_test_prediction(tmp):
    """With --test, the JSON's test predicted_images_per_s is 1/(1/T_cheap + p_test/T_full) with the test's own deferred
    fraction (the pinned figures), not the validation one."""
    out = os.path.join(tmp, "test-pred.json")
    r = run(["calibrate", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--val",
             golden.TEST_BATCH, "--val-range", "100:400", "--thresholds", "0.9", "--target-accuracy", "0.3",
             "--throughputs", "lenet=1000,alexnet_shallower=100", "--test", golden.TEST_BATCH, "--test-limit", "100",
             "--json", out])
    j = json.load(open(out)) if r.returncode == 0 else {}
    t, c = j.get("test", {}), j.get("choice") or {}
    p = t.get("deferred_fraction", -1)
    want = golden.predicted_throughput(1000, 100, p)
    check(r.returncode == 0 and c.get("cheap") == "lenet" and p != c.get("deferred_fraction") and
          abs(t.get("predicted_images_per_s", 0) - want) < 1e-6 * want,
          "calibrate --test: rc %d, test p %r (validation %r), predicted %r, want %r" % (
              r.returncode, p, c.get("deferred_fraction"), t.get("predicted_images_per_s"), want))


def test_calibrate_agreement_on_test(tmp):
    """--target-agreement with --test: the JSON's test agreement is the chosen cascade's agreement with the expensive
    model on the test images (golden), and 1 where the expensive model alone is the choice. (test_calibrate's
    agreement case has no --test: the extra pass of the expensive model over the test was never checked.)"""
    for level, thresholds, want_alone in (("0.9", "0.9", False), ("1", "0.5", True)):
        out = os.path.join(tmp, "agree-test.json")
        r = run(["calibrate", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--val",
                 golden.TEST_BATCH, "--val-range", "100:400", "--thresholds", thresholds, "--target-agreement", level,
                 "--test", golden.TEST_BATCH, "--test-limit", "100", "--json", out])
        j = json.load(open(out)) if r.returncode == 0 else {}
        c, t = j.get("choice") or {}, j.get("test", {})
        if c.get("cheap"):
            g = golden.cascade_point(G, c["cheap"], "alexnet_shallower", c["threshold"], range(100))
            ok = abs(t.get("agreement", -1) - g["agree"] / 100) <= g["near"] / 100 + 1e-9
        else:
            g, ok = None, t.get("agreement") == 1
        check(r.returncode == 0 and (c.get("cheap") is None) == want_alone and ok,
              "calibrate --target-agreement %s --test: rc %d, choice %r, test %r, golden %r %s" % (
                  level, r.returncode, c.get("cheap"), t, g, r.stderr[-200:]))


def test_calibrate_unreached_with_test(tmp):
    """No candidate reaches the target and --test is given: nothing runs on the test file (there is no choice to run;
    a run there read the point before the array), exit 1 with the one line, the JSON's choice null and no "test"."""
    out = os.path.join(tmp, "unreached-test.json")
    r = run(["calibrate", "--device", "cpu", "--cheap", "lenet", "--full", "alexnet_shallower", "--val", golden.TEST_BATCH,
             "--val-range", "100:120", "--thresholds", "0.5,0.9", "--target-accuracy", "0.999", "--test",
             golden.TEST_BATCH, "--test-limit", "50", "--json", out])
    lines = [l for l in r.stderr.splitlines() if l.strip() and not l.startswith("notice:") and " alone on " not in l]
    j = json.load(open(out)) if os.path.exists(out) else {}
    check(r.returncode == 1 and len(lines) == 1 and "no candidate reaches" in lines[0] and j.get("choice", 0) is None
          and "test" not in j, "calibrate unreached with --test: rc %d, stderr %r, JSON keys %r" % (
              r.returncode, lines, sorted(j)))


def test_calibrate_first_cheap_on_test(tmp):
    """A choice of the first cheap model (index 0) runs as a cascade on --test: the test's deferred fraction and accuracy
    are the golden cascade's on those images, the report says 'as the cascade'."""
    out = os.path.join(tmp, "first-cheap.json")
    r = run(["calibrate", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--val",
             golden.TEST_BATCH, "--val-range", "100:400", "--thresholds", "0.9", "--target-accuracy", "0.3",
             "--test", golden.TEST_BATCH, "--test-limit", "100", "--json", out])
    j = json.load(open(out)) if r.returncode == 0 else {}
    c, t = j.get("choice") or {}, j.get("test", {})
    g = golden.cascade_point(G, "lenet", "alexnet_shallower", 0.9, range(100))
    slack = g["near"] / 100 + 1e-9
    check(r.returncode == 0 and c.get("cheap") == "lenet" and
          abs(t.get("deferred_fraction", -1) - g["deferred"] / 100) <= slack and
          abs(t.get("accuracy", -1) - g["correct"] / 100) <= slack and "run as the cascade" in r.stdout,
          "calibrate --cheap lenet --test: rc %d, test %r, golden %r" % (r.returncode, t, g))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        test_output_edges(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        test_odd_names_and_exact_thresholds(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        test_throughputs_from_bench_names(tmp)
        test_throughputs_from_pipe(tmp)
        test_throughputs_from_unknown_names(tmp)
        test_throughputs_from_fifo_stop(tmp)
        test_long_names(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        test_sweep(tmp)
        test_calibrate(tmp)
        test_calibrate_test_overlap(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        test_errors(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        test_sweep_sigint(tmp)
        test_sweep_sigint(tmp, signal.SIGTERM)
        test_calibrate_sigint_during_test(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        test_default_cheap_without_full(tmp)
    with tempfile.TemporaryDirectory() as tmp:  # (edges found by mutation testing: helper 67)
        test_threshold_one_is_swept(tmp)
        test_threshold_zero_is_swept(tmp)
        test_frontier_holds_the_expensive_model_alone(tmp)
        test_frontier_at_accuracy_zero(tmp)
        test_throughputs_win_over_file(tmp)
        test_sweep_json_frontier(tmp)
        test_sweep_sigint_after_passes(tmp)
        test_calibrate_target_accuracy_zero(tmp)
        test_calibrate_default_file_named(tmp)
        test_calibrate_test_prediction(tmp)
        test_calibrate_agreement_on_test(tmp)
        test_calibrate_unreached_with_test(tmp)
        test_calibrate_first_cheap_on_test(tmp)
    return checks.finish("sweep_calibrate")


if __name__ == "__main__":
    sys.exit(main())
