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
- torch_peer.py over 1,100 images (not a multiple of its batch of 1024;
  no torch.compile, whose compile time would dwarf so small a run): its
  table carries our figures as ratios, its --json is whole and complete,
  eager (and on a card the CUDA graph) ran, each accuracy is that of the
  golden logits over the same seeded order (to two images on the CPU, 0.5%
  in fp16);
- profiling/targets.py reads both files and takes its ratios from the peers.
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
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, HERE)
import golden  # noqa: E402
from checks import check, finish  # noqa: E402

IMAGES = 1100
CHEAP, FULL, THRESHOLD = "lenet", "alexnet_shallower", 0.8


def seeded_order(count, seed=1):
    """The records torch_peer.py reads: the test set replicated, a seeded permutation."""
    return (np.random.default_rng(seed).permutation(10000 * (-(-count // 10000)))[:count] % 10000).tolist()


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


def check_peer_json(path, cuda):
    figures = json.load(open(path))
    check(figures.get("complete") is True, "torch.json says complete")
    check(figures.get("images") == IMAGES and figures.get("batch") == 1024, "torch.json: images and batch")
    records = seeded_order(IMAGES)
    alone, cascade = expected_accuracies(records)
    slack = 0.005 if cuda else 2.0 / IMAGES
    for m in (CHEAP, FULL):
        row = figures.get("alone", {}).get(m, {})
        check(row.get("eager", 0) > 0, "%s eager img/s > 0" % m)
        check(not cuda or row.get("graph", 0) > 0, "%s CUDA graph img/s > 0 on the card" % m)
        acc = row.get("accuracy", -1)
        check(abs(acc - alone[m]) <= slack, "%s accuracy %.4f, golden %.4f" % (m, acc, alone[m]))
    rows = figures.get("cascades", [])
    check(len(rows) == 1, "one naive cascade")
    if rows:
        r = rows[0]
        check((r["cheap"], r["full"], r["threshold"]) == (CHEAP, FULL, THRESHOLD), "the cascade asked for")
        check(r["images_per_s"] > 0, "cascade img/s > 0")
        check(abs(r["accuracy"] - cascade) <= slack, "cascade accuracy %.4f, golden %.4f" % (r["accuracy"], cascade))


def check_bad_arguments():
    """An argument that cannot run is one line on stderr and exit 2, before
    anything is measured (it once was a traceback after the models alone)."""
    peer = [sys.executable, os.path.join(ROOT, "profiling", "torch_peer.py"), "--assets", golden.ASSETS,
            "--device", "cpu", "--images", "8", "--runs", "1", "--compile", "none"]
    bad = [["--cascades", "lenet:resnet34"], ["--cascades", "lenet:resnet34@1.5"], ["--cascades", "lenet@0.9"],
           ["--cascades", "lenet:vgg@0.9"], ["--models", "lenet,vgg"], ["--images", "0"],
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


def main():
    check_bad_arguments()
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
            check_peer_json(peers, cuda)
        else:
            check(False, "torch_peer.py wrote --json")
        t = subprocess.run([sys.executable, os.path.join(ROOT, "profiling", "targets.py"), ours, "--torch", peers],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        # exit 1 is its verdict on so small a run (gaps, targets not measured); 2 or a traceback is a failure
        check(t.returncode in (0, 1) and not t.stderr, "targets.py reads both files (rc %d): %s" %
              (t.returncode, t.stderr.strip()[-400:]))
        check("PyTorch eager" in t.stdout and "same call" in t.stdout, "targets.py takes its ratios from the peers")
    return finish("torch_peer_check")


if __name__ == "__main__":
    sys.exit(main())
