"""golden.py: the golden logits as the tests' oracle (Python standard library only).

Reads $CASCADE_ASSETS/golden/test_logits.safetensors (default ../shared next to
the checkout) and derives what a cascade decides from it, the way the C code
does: confidence = 1 / sum_k exp(l_k - l_max) in float32, ties to the lowest
class, deferred iff threshold >= 1 or confidence < threshold (the float32
confidence against the threshold as given: exactly what the C code decides).
"""
import array
import json
import math
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ASSETS = os.environ.get("CASCADE_ASSETS") or os.path.join(HERE, "..", "..", "shared")
TEST_BATCH = os.path.join(ASSETS, "data", "cifar10", "test_batch.bin")


def shuffled_order(n, seed):
    """host/job.c shuffled_order, the documented random order written again: Fisher-Yates from the end, the
    k-th draw splitmix64's k-th output from the seed, position i swapped with draw % (i + 1)."""
    mask, state, order = (1 << 64) - 1, seed, list(range(n))
    for i in range(n - 1, 0, -1):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        j = z % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def f32(x):
    """x rounded to float32, as a Python float."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


class Golden:
    def __init__(self):
        path = os.path.join(ASSETS, "golden", "test_logits.safetensors")
        raw = open(path, "rb").read()
        n = struct.unpack("<Q", raw[:8])[0]
        self.header = json.loads(raw[8:8 + n])
        self.data = raw[8 + n:]
        self._cache = {}
        lo, hi = self.header["test_labels"]["data_offsets"]
        self.labels = list(self.data[lo:hi])

    def logits(self, model):
        t = self.header[model + ".test_logits"]
        assert t["dtype"] == "F32" and t["shape"][1] == 10
        lo, hi = t["data_offsets"]
        a = array.array("f")
        a.frombytes(self.data[lo:hi])
        if sys.byteorder != "little":
            a.byteswap()
        return a

    def decisions(self, model):
        """(predictions, confidences) of the model alone on all 10,000 test images."""
        if model not in self._cache:
            l = self.logits(model)
            preds, confs = [], []
            for i in range(len(l) // 10):
                row = l[i * 10:i * 10 + 10]
                best = 0
                for k in range(1, 10):
                    if row[k] > row[best]:
                        best = k
                s = sum(math.exp(row[k] - row[best]) for k in range(10))
                preds.append(best)
                confs.append(f32(1.0 / s))
            self._cache[model] = (preds, confs)
        return self._cache[model]


def defers(conf, threshold):
    return threshold >= 1.0 or conf < threshold


def cascade_point(golden, cheap, full, threshold, records):
    """Counts of the cascade cheap -> full at threshold over the given test records."""
    cp, cc = golden.decisions(cheap)
    fp, _ = golden.decisions(full)
    deferred = correct = agree = near = 0
    for r in records:
        d = defers(cc[r], threshold)
        answer = fp[r] if d else cp[r]
        deferred += d
        correct += answer == golden.labels[r]
        agree += answer == fp[r]
        near += abs(cc[r] - threshold) <= 1e-4 and threshold < 1
    return {"deferred": deferred, "correct": correct, "agree": agree, "near": near}


def predicted_throughput(t_cheap, t_full, p):
    return 1.0 / (1.0 / t_cheap + p / t_full)


def wilson(k, n, population, z=1.959963984540054):
    """95% Wilson interval with the finite-population correction (as estimate.c documents it)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    if population > 0 and n >= population:
        return p, p
    n_eff = n * (population - 1) / (population - n) if population > 1 else n
    centre = (p + z * z / (2 * n_eff)) / (1 + z * z / n_eff)
    half = z * math.sqrt(p * (1 - p) / n_eff + z * z / (4 * n_eff * n_eff)) / (1 + z * z / n_eff)
    return max(0.0, centre - half), min(1.0, centre + half)
