#!/usr/bin/env python3
"""torch_peer_check.py: profiling/torch_peer.py, the PyTorch peers of the
device check, run small before the device time is spent on them.

usage: torch_peer_check.py CASCADE_BINARY   (assets from $CASCADE_ASSETS)

Runs under the first Python that has torch and numpy: this one,
$CASCADE_TORCH_PYTHON, /opt/torch/.venv/bin/python3 (the device machine) or
/usr/bin/python3 (Debian's python3-torch); exit 77, "skipped: no PyTorch",
when there is none. On a CUDA device the peers run there (fp16, CUDA
graphs too), else on the CPU (fp32); CASCADE_TEST_DEVICE=cpu forces the CPU.

- bad arguments (a cascade without a threshold, unknown models, no images,
  missing assets) are one line and exit 2, a missing --ours a notice;
- `cascade bench --json` over the same few images gives "ours";
- torch_peer.py over the bench's 1,100 images (not a multiple of its batch of 1024;
  no torch.compile, whose compile time would dwarf so small a run): its
  table carries our figures as ratios, its --json is whole and complete,
  eager (and on a card the CUDA graph) ran, each accuracy is that of the
  golden logits over the bench's seeded order and ours, and the cascade's
  deferred fraction ours (to two images on the CPU, 0.5% in fp16);
- with an --ours of another seed and more images, the peers' images are the
  first of that order;
- --batches 64,128: each figure the best of both, its batch named;
- profiling/targets.py reads both files and takes its ratios from the peers;
- our cascade rows are matched to the peers' thresholds exactly (0.99991 is not 0.99994).
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYTHONS = [os.environ.get("CASCADE_TORCH_PYTHON"), "/opt/torch/.venv/bin/python3", "/usr/bin/python3"]


def has_torch(python):
    probe = [python, "-c", "import torch, numpy"]
    return subprocess.run(probe, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def ensure_torch_python():
    """Re-executes this script under a Python with torch; exits 77 without one."""
    try:
        import torch  # noqa: F401
        import numpy  # noqa: F401
        return
    except ImportError:
        pass
    for python in PYTHONS:
        if python and os.path.exists(python) and os.path.realpath(python) != os.path.realpath(sys.executable) \
                and has_torch(python):
            os.execv(python, [python] + sys.argv)
    print("skipped: no PyTorch (torch and numpy) in %s" % ", ".join([sys.executable] + [p for p in PYTHONS if p]))
    sys.exit(77)


ensure_torch_python()
import torch  # noqa: E402

sys.path.insert(0, HERE)
import golden  # noqa: E402
from checks import check, finish  # noqa: E402

IMAGES = 1100
CHEAP, FULL, THRESHOLD = "lenet", "alexnet_shallower", 0.8


def seeded_order(count, seed=1, population=None):
    """The records cascade bench reads (host/job.c's shuffled_order, written
    out here a draw at a time): the test set replicated to cover population
    (count when None), Fisher-Yates from the end with splitmix64; the first
    count of them."""
    n = 10000 * (-(-(population or count) // 10000))
    mask, state, order = (1 << 64) - 1, seed, list(range(n))
    for i in range(n - 1, 0, -1):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        j = (z ^ (z >> 31)) % (i + 1)
        order[i], order[j] = order[j], order[i]
    return [r % 10000 for r in order[:count]]


def expected_accuracies(records):
    g = golden.Golden()
    alone = {}
    for m in (CHEAP, FULL):
        preds = g.decisions(m)[0]
        alone[m] = sum(preds[r] == g.labels[r] for r in records) / len(records)
    cascade = golden.cascade_point(g, CHEAP, FULL, THRESHOLD, records)["correct"] / len(records)
    return alone, cascade


def run(cmd, what):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    check(p.returncode == 0, "%s exits 0 (rc %d): %s" % (what, p.returncode, p.stderr.strip()[-400:]))
    return p


def check_peer_json(path, ours_path, cuda):
    """The peers' figures: whole, over the bench's images (golden accuracies
    over the bench's order; ours, to two images on the CPU)."""
    figures, ours = json.load(open(path)), json.load(open(ours_path))
    check(figures.get("complete") is True, "torch.json says complete")
    check(figures.get("images") == IMAGES and figures.get("batch") == 1024, "torch.json: images and batch")
    check(figures.get("seed") == ours.get("seed") == 1 and figures.get("order_of") == IMAGES,
          "torch.json: the bench's seed and order (%s, %s)" % (figures.get("seed"), figures.get("order_of")))
    records = seeded_order(IMAGES)
    check(figures.get("first_records") == records[:16], "torch.json: the bench's first records (%s)"
          % figures.get("first_records"))
    alone, cascade = expected_accuracies(records)
    slack = 0.005 if cuda else 2.0 / IMAGES
    ours_alone = {f["model"]: f for f in ours.get("alone", [])}
    for m in (CHEAP, FULL):
        row = figures.get("alone", {}).get(m, {})
        check(row.get("eager", 0) > 0, "%s eager img/s > 0" % m)
        check(not cuda or row.get("graph", 0) > 0, "%s CUDA graph img/s > 0 on the card" % m)
        acc, mine = row.get("accuracy", -1), ours_alone.get(m, {}).get("accuracy", -1)
        check(abs(acc - alone[m]) <= slack, "%s accuracy %.4f, golden %.4f" % (m, acc, alone[m]))
        check(abs(acc - mine) <= slack, "%s accuracy %.4f, ours %.4f on the same images" % (m, acc, mine))
    rows, mine = figures.get("cascades", []), (ours.get("cascades") or [{}])[0]
    check(len(rows) == 1, "one naive cascade")
    if rows:
        r = rows[0]
        check((r["cheap"], r["full"], r["threshold"]) == (CHEAP, FULL, THRESHOLD), "the cascade asked for")
        check(r["images_per_s"] > 0, "cascade img/s > 0")
        check(abs(r["accuracy"] - cascade) <= slack, "cascade accuracy %.4f, golden %.4f" % (r["accuracy"], cascade))
        for key in ("accuracy", "deferred"):
            check(abs(r.get(key, -1) - mine.get(key, -1)) <= slack, "cascade %s %.4f, ours %.4f on the same images"
                  % (key, r.get(key, -1), mine.get(key, -1)))


def check_batches(tmp):
    """--batches 64,128: each figure is the best of the two, named with its batch."""
    peers = os.path.join(tmp, "batches_torch.json")
    run([sys.executable, os.path.join(ROOT, "profiling", "torch_peer.py"), "--assets", golden.ASSETS, "--device",
         "cpu", "--images", "300", "--runs", "1", "--models", CHEAP, "--compile", "none", "--cascades",
         "%s:%s@%s" % (CHEAP, FULL, THRESHOLD), "--batches", "64,128", "--json", peers], "torch_peer.py --batches")
    figures = json.load(open(peers)) if os.path.exists(peers) else {}
    row = figures.get("alone", {}).get(CHEAP, {})
    per = row.get("per_batch", {}).get("eager", {})
    check(figures.get("batches") == [64, 128] and sorted(per) == ["128", "64"] and row.get("eager") == max(per.values())
          and str(row.get("batch", {}).get("eager")) == max(per, key=per.get),
          "--batches 64,128: eager %r, per batch %r, best at %r" % (row.get("eager"), per, row.get("batch")))
    c = (figures.get("cascades") or [{}])[0]
    check(sorted(c.get("per_batch", {})) == ["128", "64"] and c.get("images_per_s") == max(c["per_batch"].values()),
          "--batches 64,128: the cascade's best of both (%r)" % c.get("per_batch"))


def check_order_from_ours(tmp):
    """--ours gives the seed and the population: 300 peers' images are the
    first 300 of the bench's order of its 25,000 with its seed 3 (three
    copies of the test set: another order than that of 300 images)."""
    ours, peers = os.path.join(tmp, "seed3.json"), os.path.join(tmp, "seed3_torch.json")
    check(seeded_order(300, 3, 25000) != seeded_order(300, 3), "the orders of 25,000 and of 300 images differ")
    with open(ours, "w") as f:
        json.dump({"images": 25000, "seed": 3, "alone": [], "cascades": []}, f)
    run([sys.executable, os.path.join(ROOT, "profiling", "torch_peer.py"), "--assets", golden.ASSETS, "--device",
         "cpu", "--ours", ours, "--images", "300", "--runs", "1", "--models", CHEAP, "--compile", "none",
         "--cascades", "none", "--json", peers], "torch_peer.py --ours with seed 3")
    figures = json.load(open(peers)) if os.path.exists(peers) else {}
    check(figures.get("seed") == 3 and figures.get("order_of") == 25000, "seed and order taken from --ours (%s, %s)"
          % (figures.get("seed"), figures.get("order_of")))
    check(figures.get("first_records") == seeded_order(16, 3, 25000), "the first records are those of that order: %s"
          % figures.get("first_records"))
    g = golden.Golden()
    preds, records = g.decisions(CHEAP)[0], seeded_order(300, 3, 25000)
    want = sum(preds[r] == g.labels[r] for r in records) / 300
    acc = figures.get("alone", {}).get(CHEAP, {}).get("accuracy", -1)
    check(abs(acc - want) <= 2.0 / 300, "%s accuracy %.4f over the first 300 of that order, golden %.4f"
          % (CHEAP, acc, want))


def check_bad_arguments():
    """An argument that cannot run is one line on stderr and exit 2, before
    anything is measured (it once was a traceback after the models alone)."""
    peer = [sys.executable, os.path.join(ROOT, "profiling", "torch_peer.py"), "--assets", golden.ASSETS,
            "--device", "cpu", "--images", "8", "--runs", "1", "--compile", "none"]
    bad = [["--cascades", "lenet:resnet34"], ["--cascades", "lenet:resnet34@1.5"], ["--cascades", "lenet@0.9"],
           ["--cascades", "lenet:vgg@0.9"], ["--models", "lenet,vgg"], ["--images", "0"], ["--seed", "-1"], ["--batches", "64,0"],
           ["--assets", "/nonexistent", "--models", "lenet"]]
    for args in bad:
        p = subprocess.run(peer + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        err = p.stderr.strip()
        check(p.returncode == 2 and len(err.splitlines()) == 1 and "Traceback" not in err and not p.stdout,
              "torch_peer.py %s: rc %d, stderr '%s'" % (" ".join(args), p.returncode, err[-300:]))
    p = subprocess.run(peer + ["--models", "none", "--cascades", "none", "--ours", "/nonexistent.json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    check(p.returncode == 0 and "no ratios" in p.stderr and "Traceback" not in p.stderr,
          "torch_peer.py with nothing to measure and a missing --ours: rc %d, '%s'" % (p.returncode, p.stderr[-300:]))
    with tempfile.TemporaryDirectory() as tmp:
        other = os.path.join(tmp, "other.json")
        with open(other, "w") as f:
            json.dump({"images": 8, "seed": 1, "data": os.path.join(tmp, "other.bin"), "alone": [], "cascades": []}, f)
        p = subprocess.run(peer + ["--models", "none", "--cascades", "none", "--ours", other],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        check(p.returncode == 0 and "other.bin, not" in p.stderr, "an --ours of another data file: a notice (rc %d, "
              "'%s')" % (p.returncode, p.stderr[-300:]))


def check_our_row_matching():
    """The peer's cascade at 0.99991 is set beside ours at 0.99991, not at
    0.99994 (both were 0.9999 to four decimals, and the last row won)."""
    sys.path.insert(0, os.path.join(ROOT, "profiling"))
    import torch_peer
    rows = [{"cheap": "lenet", "full": "resnet34", "threshold": t, "deferred": d}
            for t, d in ((0.99991, 0.9961), (0.99994, 0.3438), (0.9, 0.2))]
    got = [torch_peer.our_cascade(rows, "lenet", "resnet34", t) for t in (0.99991, 0.99994, 0.9, 0.95)]
    check([g and g["deferred"] for g in got] == [0.9961, 0.3438, 0.2, None],
          "our rows matched to the peers' thresholds: %r" % [g and g["threshold"] for g in got])


def main():
    check_bad_arguments()
    check_our_row_matching()
    cascade = os.path.abspath(sys.argv[1])
    cuda = torch.cuda.is_available() and os.environ.get("CASCADE_TEST_DEVICE") != "cpu"
    print("PyTorch %s from %s, peers on the %s" % (torch.__version__, sys.executable, "card" if cuda else "CPU"))
    with tempfile.TemporaryDirectory() as tmp:
        ours, peers = os.path.join(tmp, "ours.json"), os.path.join(tmp, "torch.json")
        run([cascade, "bench", "--device", "gpu" if cuda else "cpu", "--batches", "1024",
             "--models", "%s,%s" % (CHEAP, FULL),
             "--cascades", "%s:%s" % (CHEAP, FULL), "--thresholds", str(THRESHOLD), "--images", str(IMAGES),
             "--runs", "1", "--warmup", "0", "--json", ours], "cascade bench")
        p = run([sys.executable, os.path.join(ROOT, "profiling", "torch_peer.py"), "--assets", golden.ASSETS,
                 "--device", "cuda" if cuda else "cpu", "--ours", ours, "--images", str(IMAGES), "--runs", "1",
                 "--models", "%s,%s" % (CHEAP, FULL), "--compile", "",
                 "--cascades", "%s:%s@%s" % (CHEAP, FULL, THRESHOLD), "--json", peers], "torch_peer.py")
        print(p.stdout, end="")
        lines = {line.split()[0]: line for line in p.stdout.splitlines() if line.split()}
        for m in (CHEAP, FULL):
            check(m in lines and lines[m].rstrip().endswith("x"), "the %s row has ours/best as a ratio" % m)
        check(any(line.startswith(CHEAP + " -> ") and line.rstrip().endswith("x") for line in p.stdout.splitlines()),
              "the cascade row has ours/torch as a ratio")
        if os.path.exists(peers):
            check_peer_json(peers, ours, cuda)
        else:
            check(False, "torch_peer.py wrote --json")
        t = subprocess.run([sys.executable, os.path.join(ROOT, "profiling", "targets.py"), ours, "--torch", peers],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        # exit 1 is its verdict on so small a run (gaps, targets not measured); 2 or a traceback is a failure
        check(t.returncode in (0, 1) and not t.stderr, "targets.py reads both files (rc %d): %s" %
              (t.returncode, t.stderr.strip()[-400:]))
        check("PyTorch eager" in t.stdout and "same call" in t.stdout, "targets.py takes its ratios from the peers")
        check_order_from_ours(tmp)
        check_batches(tmp)
    return finish("torch_peer_check")


if __name__ == "__main__":
    sys.exit(main())
