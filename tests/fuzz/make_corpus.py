#!/usr/bin/env python3
"""make_corpus.py: seed inputs for the fuzz targets in tests/fuzz.

  make_corpus.py OUTDIR            seeds derived from the real assets ($CASCADE_ASSETS,
                                   default ../shared): the zoo's safetensors headers, the
                                   whole LeNet file, a few CIFAR records. Nothing is written
                                   (and the exit is 0) when the assets are absent.
  make_corpus.py --crafted OUTDIR  the small hand-made seeds, valid and deliberately broken,
                                   that are committed in tests/fuzz/corpus.

Each seed goes to OUTDIR/<target>/<name>. fuzz_model inputs start with a selector byte
(bits 0-2: 0 = arch from metadata, 1..6 = zoo arch forced, 7 = unknown; bit 3: zero tail).
fuzz_options inputs are a mode byte then NUL-separated arguments.
"""
import json, os, struct, sys

ARCHS = ["lenet", "alexnet", "alexnet_shallow", "alexnet_shallower", "resnet18", "resnet34"]
PAD = 8


def st_file(header, data=b"", raw_header=None):
    hb = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(hb)) + hb + data


def write(out, target, name, content):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(content)


def crafted(out):
    f16 = struct.pack("<4e", 1.0, -2.0, 0.5, 0.0)
    valid = {"__metadata__": {"arch": "lenet", "note": "tiny"},
             "a": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]},
             "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]},
             "c": {"dtype": "BF16", "shape": [1], "data_offsets": [12, 14]},
             "d": {"dtype": "F64", "shape": [], "data_offsets": [14, 22]},
             "e": {"dtype": "U8", "shape": [2], "data_offsets": [22, 24]},
             "f": {"dtype": "I8", "shape": [0, 5], "data_offsets": [24, 24]},
             "g": {"dtype": "I32", "shape": [1], "data_offsets": [24, 28]},
             "h": {"dtype": "I64", "shape": [1, 1, 1, 1, 1, 1, 1, 1], "data_offsets": [28, 36]}}
    data = f16 + struct.pack("<f", 3.0) + b"\x80\x3f" + struct.pack("<d", 1.5) + b"\x01\x02" + \
        struct.pack("<i", 7) + struct.pack("<q", -1)
    seeds = {
        "valid-all-dtypes": st_file(valid, data),
        "empty-header": st_file({}),
        "metadata-only": st_file({"__metadata__": {"arch": "resnet34"}}),
        "escapes-in-name": st_file(None, f16, b'{"a\\u0041\\n\\t\\"":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}'),
        "whitespace": st_file(None, f16, b' \n{ "x" : { "shape" : [ 4 ] , "dtype" : "F16" , "data_offsets" : [ 0 , 8 ] } } \r\n'),
        "nan-f16": st_file({"x": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}}, b"\x00\x7e"),
        "subnormal-f16": st_file({"x": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}, b"\x01\x00\xff\x83"),
        "too-short": b"\x02\x00\x00",
        "header-past-eof": struct.pack("<Q", 1 << 40) + b"{}",
        "header-length-max": b"\xff" * 8 + b"{}",
        "malformed-json": st_file(None, b"", b'{"x":{"dtype":"F16",'),
        "unknown-dtype": st_file({"x": {"dtype": "F8", "shape": [1], "data_offsets": [0, 1]}}, b"\0"),
        "offsets-outside": st_file({"x": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]}}, b"\0" * 4),
        "offsets-reversed": st_file({"x": {"dtype": "F16", "shape": [0], "data_offsets": [8, 0]}}, b"\0" * 8),
        "overlap": st_file({"x": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]},
                            "y": {"dtype": "F16", "shape": [2], "data_offsets": [2, 6]}}, b"\0" * 6),
        "duplicate-name": st_file(None, b"\0" * 4, b'{"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},'
                                                  b'"x":{"dtype":"F16","shape":[1],"data_offsets":[2,4]}}'),
        "shape-vs-bytes": st_file({"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8),
        "shape-overflow": st_file({"x": {"dtype": "F64", "shape": [4294967296, 4294967296, 4294967296],
                                         "data_offsets": [0, 8]}}, b"\0" * 8),
        "nine-dims": st_file({"x": {"dtype": "U8", "shape": [1] * 9, "data_offsets": [0, 1]}}, b"\0"),
        "integer-overflow": st_file(None, b"", b'{"x":{"dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,1]}}'),
        "long-name": st_file({"n" * 200: {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}, b"\0"),
        "repeated-key": st_file(None, b"\0", b'{"x":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}'),
        "repeated-metadata": st_file(None, b"", b'{"__metadata__":{},"__metadata__":{"a":"b"}}'),
        "trailing-bytes": st_file(None, b"", b'{} x'),
        "control-char-in-name": st_file(None, b"", b'{"a\\u001b[31m":{"dtype":"F7","shape":[1],"data_offsets":[0,1]}}'),
    }
    for name, content in seeds.items():
        write(out, "safetensors", name, content)
        write(out, "model", name, bytes([PAD]) + content)
    write(out, "model", "unknown-arch", bytes([7]) + st_file({"__metadata__": {"arch": "lenet"}}))
    write(out, "model", "bad-mean", bytes([1 | PAD]) + st_file({"__metadata__": {"mean": "1,2", "std": "0,1,1"}}))
    write(out, "model", "bad-std", bytes([1 | PAD]) + st_file({"__metadata__": {"std": "0.2,0,0.2"}}))
    write(out, "model", "classes", bytes([1 | PAD]) + st_file({"__metadata__": {"classes": "a,\"b\",c\\\\,\\n,,,,,,,,,,,,"}}))
    write(out, "model", "no-arch", bytes([0]) + st_file({}))
    for name, head in (("zip", b"PK\x03\x04"), ("pickle", b"\x80\x02}q"), ("gzip", b"\x1f\x8b\x08")):
        write(out, "safetensors", "other-" + name, head + bytes(60))

    record = bytes([3]) + bytes(range(256)) * 12
    write(out, "cifar", "one-record", record)
    write(out, "cifar", "label-10", bytes([10]) + record[1:])
    write(out, "cifar", "short", record[:5])
    write(out, "cifar", "empty", b"")
    for name, head in (("gzip", b"\x1f\x8b\x08"), ("pickle", b"\x80\x02}q"), ("npy", b"\x93NUMPY\x01\x00"),
                       ("png", b"\x89PNG\r\n\x1a\n"), ("jpeg", b"\xff\xd8\xff\xe0")):
        write(out, "cifar", "other-" + name, head + record[len(head):])
    write(out, "cifar", "other-tar", b"c" + record[1:257] + b"ustar" + record[262:])
    write(out, "cifar", "cifar100-two-records", (bytes([3, 40]) + record[1:]) * 2)
    write(out, "cifar", "safetensors", st_file({}) + bytes(200))

    argvs = {
        "run-defaults": (0, []),
        "run-all": (0, ["--cheap", "lenet", "--full=none", "--threshold", "0.5", "--limit", "10", "--seed=7",
                        "--order", "file", "--device", "cpu", "--batch", "16", "--chunk", "32", "--output", "o.csv",
                        "--json", "r.json", "--progress-json", "p.json", "--time-budget", "1.5", "--target-ci",
                        "0.01", "--watch-class", "cat", "--quiet", "--progress-interval", "0"]),
        "run-help": (0, ["--threshold", "2", "--help"]),
        "run-bad-threshold": (0, ["--threshold", "nan"]),
        "run-missing-value": (0, ["--limit"]),
        "run-bad-order": (0, ["--order", "sideways"]),
        "run-empty-value": (0, ["--cheap="]),
        "run-big-int": (0, ["--seed", "99999999999999999999"]),
        "table": (1, ["--s", "x", "--i=-5", "--n", "100", "--f", "1e308", "--p=0.5", "--flag"]),
        "table-unknown": (1, ["--flagx"]),
        "list": (2, ["0.5,0.6,0.7"]),
        "range": (2, ["0.5:0.99:0.01"]),
        "range-reversed": (2, ["0.9:0.1:0.1"]),
        "range-tiny-step": (3, ["-1e300:1e300:1e-9"]),
        "list-huge": (3, ["1e300,-1e300"]),
    }
    for name, (mode, args) in argvs.items():
        write(out, "options", name, bytes([mode]) + b"\0".join(a.encode() for a in args))


def real(out):
    assets = os.environ.get("CASCADE_ASSETS") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared")
    weights = os.path.join(assets, "weights")
    if not os.path.isdir(weights):
        print("make_corpus: no assets at %s: only the committed seeds will be used" % assets)
        return
    count = 0
    for i, arch in enumerate(ARCHS):
        path = os.path.join(weights, arch + ".safetensors")
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header_bytes = f.read(n)
        header = json.loads(header_bytes)
        header_only = struct.pack("<Q", n) + header_bytes
        write(out, "safetensors", arch + "-header-only", header_only)
        # a valid file holding the first few tensors (by data offset), offsets rebased
        tensors = sorted((v["data_offsets"][0], k) for k, v in header.items() if k != "__metadata__")
        small, data = {"__metadata__": header["__metadata__"]}, b""
        with open(path, "rb") as f:
            for begin, name in tensors:
                t = header[name]
                size = t["data_offsets"][1] - begin
                if len(data) + size > 16384:
                    break
                f.seek(8 + n + begin)
                small[name] = dict(t, data_offsets=[len(data), len(data) + size])
                data += f.read(size)
        write(out, "safetensors", arch + "-first-tensors", st_file(small, data))
        write(out, "model", arch + "-header-metadata-arch", bytes([PAD]) + header_only)
        write(out, "model", arch + "-header-forced-arch", bytes([(i + 1) | PAD]) + header_only)
        write(out, "model", arch + "-header-as-lenet", bytes([1 | PAD]) + header_only)
        count += 5
    with open(os.path.join(weights, "lenet.safetensors"), "rb") as f:
        lenet = f.read()
    write(out, "safetensors", "lenet-whole", lenet)
    write(out, "model", "lenet-whole", bytes([0]) + lenet)
    count += 2
    test_batch = os.path.join(assets, "data", "cifar10", "test_batch.bin")
    if os.path.exists(test_batch):
        with open(test_batch, "rb") as f:
            records = f.read(3073 * 4)
        write(out, "cifar", "test-batch-4-records", records)
        write(out, "cifar", "test-batch-1-record", records[:3073])
        count += 2
    print("make_corpus: %d seeds from %s written to %s" % (count, assets, out))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--crafted":
        crafted(sys.argv[2])
    elif len(sys.argv) == 2:
        real(sys.argv[1])
    else:
        sys.exit(__doc__)
