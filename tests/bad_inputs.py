#!/usr/bin/env python3
"""bad_inputs.py: every kind of bad input gives a non-zero exit, exactly one
clear line on stderr, and leaves no output file behind.

usage: bad_inputs.py CASCADE_BINARY   (assets from $CASCADE_ASSETS, default ../shared)
Broken files are made from the real lenet weights and CIFAR test set.
`cascade bench` checks every model it is given before measuring any.
A model whose weights fp16 cannot hold runs on the CPU; `info` says the GPU
backend does not run it.
A file of another format given as --data (an archive, a pickle, an image,
CIFAR-100, weights) is named for what it is; so is a model file of another
format (a PyTorch checkpoint, a pickle, a gzip file, CIFAR data); a missing
tensor's message names what the file has in its place (a prefix, another name);
every dimension and the dtype of each tensor are checked (a running_var of 0 loads).
Odd but usable class names in a model's metadata (not UTF-8, too long, quoted)
are cleaned, not refused: the JSON they go into stays valid UTF-8.
"""
import json, os, shutil, struct, subprocess, sys, tempfile

cascade = os.path.abspath(sys.argv[1])
assets = os.environ.get("CASCADE_ASSETS") or os.path.join(os.path.dirname(__file__), "..", "..", "shared")
lenet = os.path.join(assets, "weights", "lenet.safetensors")
test_batch = os.path.join(assets, "data", "cifar10", "test_batch.bin")
failures = 0
cases = 0


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_safetensors(path, header, data, header_bytes=None):
    hb = header_bytes if header_bytes is not None else json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + data)


def expect_failure(name, args, want, tmp):
    """Runs cascade with args plus an --output in tmp; checks exit, stderr, no output."""
    global failures, cases
    cases += 1
    out = os.path.join(tmp, "out-%d.csv" % cases)
    full = [cascade] + args + (["--output", out, "--quiet"] if args[:1] == ["run"] else [])
    r = subprocess.run(full, capture_output=True, text=True, timeout=120)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    problems = []
    if r.returncode == 0:
        problems.append("exit code 0")
    if len(lines) != 1:
        problems.append("%d stderr lines: %r" % (len(lines), lines))
    elif want.lower() not in lines[0].lower():
        problems.append("message %r lacks %r" % (lines[0], want))
    left = [f for f in os.listdir(tmp) if f.startswith("out-")]
    if left:
        problems.append("left behind: %s" % left)
        for f in left:
            os.unlink(os.path.join(tmp, f))
    if problems:
        failures += 1
        print("FAIL %-32s %s" % (name, "; ".join(problems)))
    else:
        print("ok   %-32s exit %d: %s" % (name, r.returncode, lines[0]))


def weight_cases(tmp):
    header, data = read_safetensors(lenet)
    meta = header["__metadata__"]
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    raw = open(lenet, "rb").read()
    cases = {}

    def variant(name, make):
        path = os.path.join(tmp, name + ".safetensors")
        make(path)
        cases[name] = path

    variant("truncated", lambda p: open(p, "wb").write(raw[: len(raw) - 1000]))
    variant("too-short", lambda p: open(p, "wb").write(raw[:5]))
    variant("header-past-eof", lambda p: open(p, "wb").write(struct.pack("<Q", len(raw) * 2) + raw[8:]))
    variant("malformed-json", lambda p: write_safetensors(p, None, data, json.dumps(header).encode()[:-7] + b"       "))
    h = json.loads(json.dumps(header)); h["conv1.weight"]["dtype"] = "F7"
    variant("unknown-dtype", lambda p, h=h: write_safetensors(p, h, data))
    h2 = json.loads(json.dumps(header)); h2["fc3.bias"]["data_offsets"] = [len(data) - 4, len(data) + 16]
    variant("offset-out-of-range", lambda p, h=h2: write_safetensors(p, h, data))
    h3 = json.loads(json.dumps(header))
    b = h3["fc3.bias"]["data_offsets"]; w = h3["fc3.weight"]["data_offsets"]
    h3["fc3.bias"]["data_offsets"] = [w[0], w[0] + (b[1] - b[0])]
    variant("overlapping-offsets", lambda p, h=h3: write_safetensors(p, h, data))
    last = max(tensors, key=lambda k: tensors[k]["data_offsets"][1])  # and its bytes: no hole left
    h4 = {k: v for k, v in header.items() if k != last}
    variant("missing-tensor", lambda p, h=h4: write_safetensors(p, h, data[:tensors[last]["data_offsets"][0]]))
    # the format allows no byte outside every tensor (a second file hidden in one): trailing, or a hole
    variant("trailing-bytes", lambda p: write_safetensors(p, header, data + b"%PDF"))
    h10 = json.loads(json.dumps(header))
    h10[last]["data_offsets"] = [o + 8 for o in h10[last]["data_offsets"]]
    begin = tensors[last]["data_offsets"][0]
    variant("hole-in-data", lambda p, h=h10: write_safetensors(p, h, data[:begin] + bytes(8) + data[begin:]))
    h7 = json.loads(json.dumps(header)); h7["fc4.weight"] = {"dtype": "F32", "shape": [10],
                                                            "data_offsets": [len(data), len(data) + 40]}
    variant("unused-weights", lambda p, h=h7: write_safetensors(p, h, data + bytes(40)))
    h8 = json.loads(json.dumps(header)); h8["__metadata__"]["input"] = "3x64x64"
    variant("input-not-cifar", lambda p, h=h8: write_safetensors(p, h, data))
    h9 = json.loads(json.dumps(header)); h9["__metadata__"]["num_classes"] = "5"
    variant("five-classes", lambda p, h=h9: write_safetensors(p, h, data))
    h5 = json.loads(json.dumps(header)); h5["__metadata__"]["arch"] = "alexnet"
    variant("wrong-shape-for-arch", lambda p, h=h5: write_safetensors(p, h, data))
    nan = bytearray(data); off = header["conv2.weight"]["data_offsets"][0]; nan[off:off + 2] = b"\x00\x7e"
    variant("nan-in-weights", lambda p: write_safetensors(p, header, bytes(nan)))
    h6 = json.loads(json.dumps(header)); h6["fc1.weight"]["shape"] = [120, 401]
    variant("shape-vs-bytes", lambda p, h=h6: write_safetensors(p, h, data))
    # the other two edges: a hole of one F16 (2 bytes), and a last tensor's range 2 bytes longer than its shape
    h11 = json.loads(json.dumps(header))
    h11[last]["data_offsets"] = [o + 2 for o in h11[last]["data_offsets"]]
    variant("small-hole", lambda p, h=h11: write_safetensors(p, h, data[:begin] + bytes(2) + data[begin:]))
    h12 = json.loads(json.dumps(header))
    h12[last]["data_offsets"][1] += 2
    variant("range-past-shape", lambda p, h=h12: write_safetensors(p, h, data + bytes(2)))
    return cases


def bench_cases(tmp, broken):
    """A bad name or file anywhere in bench's lists fails before the first figure (one line, no JSON)."""
    quick = ["bench", "--device", "cpu", "--images", "64", "--runs", "1", "--warmup", "0",
             "--json", os.path.join(tmp, "out-bench.json")]
    expect_failure("bench: unknown model, last", quick + ["--models", "lenet,vgg99", "--no-cascades"],
                   "unknown model 'vgg99'", tmp)
    expect_failure("bench: unknown full model", quick + ["--models", "lenet", "--cascades", "lenet:lenet,lenet:vgg99"],
                   "unknown model 'vgg99'", tmp)
    expect_failure("bench: broken weights, cascade", quick + ["--models", "lenet", "--cascades", "lenet:" + broken],
                   "outside", tmp)
    expect_failure("bench: nothing to measure", quick + ["--models", "none", "--cascades", "none"],
                   "nothing to measure", tmp)
    expect_failure("bench: pair without full", quick + ["--models", "lenet", "--cascades", "lenet:lenet,lenet"],
                   "not cheap:full", tmp)
    # a list beside the flag that drops it (the list went unchecked and unused)
    expect_failure("bench: --cascades with --no-cascades", quick + ["--cascades", "lenet:vgg99", "--no-cascades"],
                   "--cascades lenet:vgg99 with --no-cascades", tmp)
    expect_failure("bench: --models with --no-alone", quick + ["--models", "lenet", "--no-alone"],
                   "--models lenet with --no-alone", tmp)
    # a setting for the part that is skipped (it went unused, silently)
    for setting in (["--thresholds", "0.9"], ["--chunk", "64"], ["--batch", "32"]):
        for skip in (["--no-cascades"], ["--cascades", "none"]):
            expect_failure("bench: %s with %s" % (setting[0], " ".join(skip)), quick + ["--models", "lenet"] + skip
                           + setting, "%s with no cascades to measure" % setting[0], tmp)
    expect_failure("bench: --warmup-images with --warmup 0", quick[:-2] + ["--models", "lenet", "--no-cascades",
                                                                           "--warmup-images", "32"],
                   "--warmup-images with --warmup 0", tmp)
    expect_failure("bench: --batches with --no-alone", quick + ["--no-alone", "--cascades", "lenet:lenet",
                                                                "--batches", "64"], "--batches with no models alone", tmp)
    expect_failure("bench: --batches with --models none", quick + ["--models", "none", "--cascades", "lenet:lenet",
                                                                   "--batches", "64"], "--batches with no models alone", tmp)
    expect_failure("run: --threshold with --full none", ["run", "--device", "cpu", "--full", "none", "--threshold",
                                                         "0.5", "--limit", "4"], "--threshold with --full none", tmp)
    # more figures than the report holds: refused before the first is measured (they were thrown away at the 65th)
    expect_failure("bench: 2 models x 33 batches", quick + ["--models", "lenet,alexnet_shallower", "--no-cascades",
                                                           "--batches", "1:33:1"], "at most 64", tmp)
    expect_failure("bench: 5 cascades x 64 thresholds", quick + [
        "--models", "none", "--thresholds", "0.01:0.64:0.01", "--cascades",
        "lenet:lenet,lenet:alexnet_shallower,alexnet_shallower:lenet,alexnet_shallower:alexnet_shallower,lenet:alexnet"],
        "at most 256", tmp)
    expect_failure("bench: --batches 32.9", quick + ["--models", "lenet", "--no-cascades", "--batches", "32.9,32.2"],
                   "not a whole number", tmp)
    # a batch past the run's images was measured at the images, under its own name: two rows of one batch
    expect_failure("bench: --batches past --images", quick + ["--models", "lenet", "--no-cascades", "--batches",
                                                              "32,128"], "128 is more than the 64 images", tmp)
    expect_failure("calibrate: --batch without --test", ["calibrate", "--device", "cpu", "--target-accuracy", "0.5",
                                                         "--batch", "32"], "--batch needs --test", tmp)
    expect_failure("run: --batch with --full none", ["run", "--device", "cpu", "--full", "none", "--batch", "32",
                                                     "--limit", "4"], "--batch with --full none", tmp)
    expect_failure("run: --seed with --order file", ["run", "--device", "cpu", "--order", "file", "--seed", "3",
                                                     "--limit", "4"], "--seed with --order file", tmp)
    # a prefix of the file's own order is no random sample: an interval on it (and a stop on that) would mislead
    expect_failure("run: --target-ci with --order file", ["run", "--device", "cpu", "--order", "file", "--target-ci",
                                                          "0.05", "--limit", "4"], "--target-ci with --order file", tmp)
    # an empty item was skipped at the end of a list ("lenet,") and refused without a reason elsewhere
    expect_failure("bench: trailing comma in --models", quick + ["--models", "lenet,", "--no-cascades"],
                   "--models: empty item in 'lenet,'", tmp)
    expect_failure("bench: empty item in --cascades", quick + ["--models", "lenet", "--cascades", "lenet:lenet,,"],
                   "--cascades: empty item", tmp)
    expect_failure("bench: --models item of 3000 bytes", quick + ["--models", "m" * 3000, "--no-cascades"],
                   "--models: item mmmm", tmp)
    expect_failure("bench: --cascades model of 1500 bytes", quick + ["--models", "lenet", "--cascades",
                                                                     "lenet:" + "m" * 1500], "longer than 1023", tmp)
    expect_failure("sweep: --cheap name of 1500 bytes", ["sweep", "--cheap", "m" * 1500, "--limit", "64"],
                   "longer than 1023", tmp)


def long_name_cases(tmp):
    """A model path of 700 bytes (well within the 1023 a path may have) works
    in bench's lists and sweep's, and names its throughput: these lists held
    127 bytes a name, and refused a longer one ("bad list item")."""
    global failures, cases
    folder = os.path.join(tmp, *(["n" * 100] * 6))
    os.makedirs(folder)
    path = os.path.join(folder, "lenet-copy.safetensors")
    shutil.copy(lenet, path)
    report = os.path.join(tmp, "long-bench.json")
    bench = subprocess.run([cascade, "bench", "--device", "cpu", "--images", "64", "--runs", "1", "--warmup", "0",
                            "--models", path + ",lenet", "--cascades", path + ":lenet", "--thresholds", "0.9",
                            "--json", report], capture_output=True, text=True, timeout=300)
    ok = bench.returncode == 0
    if ok:
        got = json.load(open(report))
        ok = got["alone"][0]["model"] == path and got["cascades"][0]["cheap"] == path
    sweeps = []
    for given in (["--throughput-from", report], ["--throughputs", path + "=1000"]):
        r = subprocess.run([cascade, "sweep", "--device", "cpu", "--cheap", path, "--full", "lenet", "--limit", "64",
                            "--thresholds", "0.9", "--json", os.path.join(tmp, "long-sweep.json")] + given,
                           capture_output=True, text=True, timeout=300)
        sweeps.append(r.returncode)
        if r.returncode == 0:
            passes = json.load(open(os.path.join(tmp, "long-sweep.json")))
            ok = ok and path in json.dumps(passes)
    ok = ok and sweeps == [0, 0]
    cases += 1
    failures += not ok
    print("%s %-32s bench rc %d, sweeps rc %s %s" % ("ok  " if ok else "FAIL", "names: a 700-byte model path",
                                                   bench.returncode, sweeps, bench.stderr.strip()[-160:]))
    shutil.rmtree(os.path.join(tmp, "n" * 100))


def label_space_cases(tmp):
    """A cheap model whose classes are in another order than the full model's is refused by
    every command that pairs them (its class 3 would be reported for the full model's)."""
    header, data = read_safetensors(lenet)
    names = header["__metadata__"]["classes"].split(",")
    names[3], names[5] = names[5], names[3]
    header["__metadata__"]["classes"] = ",".join(names)
    swapped = os.path.join(tmp, "swapped.safetensors")
    write_safetensors(swapped, header, data)
    for what, args in (("run", ["run", "--cheap", swapped, "--full", "alexnet_shallower", "--limit", "4"]),
                       ("sweep", ["sweep", "--cheap", swapped, "--full", "alexnet_shallower", "--limit", "4"]),
                       ("bench", ["bench", "--device", "cpu", "--models", "none", "--cascades",
                                  swapped + ":alexnet_shallower", "--images", "16"])):
        expect_failure(what + ": classes in another order", args, "one label space", tmp)
    os.unlink(swapped)


def class_name_cases(tmp):
    """Class names from a model's metadata go into the JSON and the CSV as they are,
    but as valid UTF-8 without quotes: a name of 15 two-byte characters and one more
    byte (31 bytes, the most) is kept whole, a byte that is not UTF-8 and a quote
    become '_'."""
    global failures, cases
    cases += 1
    header, data = read_safetensors(lenet)
    names = header["__metadata__"]["classes"].split(",")
    names[0], names[1], names[2] = "\u00e9" * 15 + "x", "a\udcffb", 'q"uote'  # \udcff: the raw byte 0xff
    header["__metadata__"]["classes"] = ",".join(names)
    odd = os.path.join(tmp, "odd-classes.safetensors")
    write_safetensors(odd, header, data, json.dumps(header, ensure_ascii=False).encode("utf-8", "surrogateescape"))
    report = os.path.join(tmp, "odd-classes.json")
    r = subprocess.run([cascade, "run", "--device", "cpu", "--quiet", "--cheap", odd, "--full", "none", "--limit", "16",
                        "--json", report], capture_output=True, text=True, timeout=120)
    want = ["\u00e9" * 15 + "x", "a_b", "q_uote"] + names[3:]
    try:
        got = list(json.load(open(report, encoding="utf-8"))["predicted"]) if r.returncode == 0 else None
    except (UnicodeDecodeError, ValueError) as e:
        got = "not UTF-8 JSON: %s" % e
    if got != want:
        failures += 1
        print("FAIL %-32s rc %d, classes %r, not %r %s" % ("odd class names", r.returncode, got, want, r.stderr[-200:]))
    else:
        print("ok   %-32s %r" % ("odd class names", got[:3]))
    os.unlink(odd)


def unicode_escape_cases(tmp):
    """A header written by json.dumps (non-ASCII as \\u escapes, pairs beyond the
    BMP) reads as the same text as raw UTF-8; \\u0000 (it would cut a name short:
    'lenet\\u0000junk' read as lenet) and a lone surrogate are refused."""
    global failures, cases
    header, data = read_safetensors(lenet)
    names = ["\u98db\u884c\u6a5f", "\u00e9t\u00e9", "\U0001f697"] + header["__metadata__"]["classes"].split(",")[3:]
    header["__metadata__"]["classes"] = ",".join(names)
    escaped = os.path.join(tmp, "escaped.safetensors")
    write_safetensors(escaped, header, data)  # ensure_ascii: every non-ASCII character escaped
    report = os.path.join(tmp, "escaped.json")
    r = subprocess.run([cascade, "run", "--device", "cpu", "--quiet", "--cheap", escaped, "--full", "none", "--limit",
                        "16", "--json", report], capture_output=True, text=True, timeout=120)
    got = list(json.load(open(report, encoding="utf-8"))["predicted"]) if r.returncode == 0 else None
    cases += 1
    failures += got != names
    print("%s %-32s %r" % ("ok  " if got == names else "FAIL", "escaped class names", got if got != names else got[:3]))
    os.unlink(escaped)
    raw = json.dumps(header).encode()
    for what, old, new in [("\\u0000 in a string", b'"arch": "lenet"', b'"arch": "lenet\\u0000junk"'),
                           ("a lone surrogate", b'"arch": "lenet"', b'"arch": "lenet", "note": "\\ud800x"')]:
        assert old in raw
        bad = os.path.join(tmp, "escape.safetensors")
        write_safetensors(bad, None, data, raw.replace(old, new))
        expect_failure("header: " + what, ["info", bad], "malformed json string", tmp)
        os.unlink(bad)


def class_list_cases(tmp):
    """The metadata's class names: one per class, none empty, none twice (each is
    a key of the report); one __metadata__ object, an empty one counted too; and an empty tensor among the others holds no bytes, so
    it overlaps nothing (the safetensors writer puts it at its neighbour's offset)."""
    header, data = read_safetensors(lenet)
    names = header["__metadata__"]["classes"].split(",")
    for what, classes, want in [("a class twice", ",".join(["cat"] + names[1:3] + ["cat"] + names[4:]),
                                 "'cat' names classes 0 and 3"),
                                ("an empty class", ",".join(names[:9] + [""]), "name 9 is empty"),
                                # cut to fit, two names differing past byte 31 would read as one (and two
                                # models' class lists as the same)
                                ("a name past 31 bytes", ",".join(names[:4] + ["\u00e9" * 16] + names[5:]),
                                 "name 4 ('" + "\u00e9" * 15 + "...') is longer than 31 bytes"),
                                ("two classes of ten", "a,b", "2 names for 10 classes"),
                                ("eleven classes", ",".join(names + ["extra"]), "11 names for 10 classes")]:
        h = json.loads(json.dumps(header))
        h["__metadata__"]["classes"] = classes
        path = os.path.join(tmp, "classes.safetensors")
        write_safetensors(path, h, data)
        expect_failure("classes: " + what, ["info", path], want, tmp)
        expect_failure("classes: run, " + what, ["run", "--cheap", path, "--full", "none", "--limit", "4"], want, tmp)
        os.unlink(path)
    for key, value, want in [("mean", "1e38,1e38,1e38", "1e+38 is outside [0, 1]"),
                             ("mean", "125.3,123.0,113.9", "125.3 is outside [0, 1]"),
                             ("std", "1e-45,1e-45,1e-45", "is outside [0.001, 1000]"),
                             ("std", "0,0.2,0.2", "0 is outside [0.001, 1000]")]:
        h = json.loads(json.dumps(header))
        h["__metadata__"][key] = value
        path = os.path.join(tmp, "normalize.safetensors")
        write_safetensors(path, h, data)  # every logit NaN, or pixel units: accuracy 0.1, exit 0
        expect_failure("metadata: %s %s" % (key, value.split(",")[0]), ["info", path], want, tmp)
        os.unlink(path)
    meta = json.dumps(header["__metadata__"])[1:-1]
    rest = json.dumps({k: v for k, v in header.items() if k != "__metadata__"})[1:-1]
    for what, entries, want in [("a metadata key twice", '"arch": "resnet34", ' + meta, "'arch' appears twice"),
                                ("2000 metadata entries", meta + "".join(', "k%d": ""' % i for i in range(2000)),
                                 "more than 1024 metadata entries")]:
        path = os.path.join(tmp, "metadata.safetensors")
        write_safetensors(path, None, data, ('{"__metadata__": {%s}, %s}' % (entries, rest)).encode())
        expect_failure("metadata: " + what, ["info", path], want, tmp)
        os.unlink(path)
    # a tensor named twice with the same bytes: named so, not "tensors 'a' and 'a' overlap"
    name = sorted(k for k in header if k != "__metadata__")[0]
    path = os.path.join(tmp, "tensor-twice.safetensors")
    write_safetensors(path, None, data, ('{"__metadata__": {%s}, %s, "%s": %s}' % (meta, rest, name,
                                                                               json.dumps(header[name]))).encode())
    expect_failure("tensor key twice, same bytes", ["info", path], "tensor '%s' appears twice" % name, tmp)
    os.unlink(path)
    # a second __metadata__ object, the empty one first or last (a first-wins reader sees another model)
    for what, objects in [("__metadata__ twice, empty first", '{}, "__metadata__": {%s}' % meta),
                          ("__metadata__ twice, empty last", '{%s}, "__metadata__": {}' % meta),
                          ("__metadata__ twice", '{%s}, "__metadata__": {%s}' % (meta, meta))]:
        path = os.path.join(tmp, "metadata.safetensors")
        write_safetensors(path, None, data, ('{"__metadata__": %s, %s}' % (objects, rest)).encode())
        want = "repeated __metadata__"
        expect_failure("metadata: " + what, ["info", path], want, tmp)
        os.unlink(path)
    h = json.loads(json.dumps(header))
    first = min(h[k]["data_offsets"][0] for k in h if k != "__metadata__")
    h["pad"] = {"dtype": "U8", "shape": [0], "data_offsets": [first, first]}
    empty = os.path.join(tmp, "empty-tensor.safetensors")
    write_safetensors(empty, h, data)
    r = subprocess.run([cascade, "info", empty], capture_output=True, text=True, timeout=120)
    global failures, cases
    cases += 1
    failures += r.returncode != 0
    print("%s %-32s rc %d %s" % ("ok  " if r.returncode == 0 else "FAIL", "an empty tensor overlaps nothing",
                                 r.returncode, r.stderr.strip()[:160]))
    os.unlink(empty)


def fp16_range_cases(tmp):
    """A weight past fp16's 65504 loads and runs on the CPU (fp32), while `info`
    says the GPU backend, which stores weights in fp16, does not run it: there
    it would be infinity and every logit NaN. fc3's bias stays fp32 there."""
    global failures, cases
    header, data = read_safetensors(lenet)
    for tensor, value, gpu_want in (("fc1.weight", 1e5, "node 5 (fc1) has weight 0 (100000) past fp16"),
                                    ("conv2.bias", -7e4, "node 2 (conv2) has bias 0 (-70000) past fp16"),
                                    ("fc3.bias", 1e5, "runs it in fp16")):
        h, raw = json.loads(json.dumps(header)), b""  # the zoo's F16 can't hold it: that tensor becomes F32
        for name in sorted((k for k in h if k != "__metadata__"), key=lambda k: h[k]["data_offsets"][0]):
            start, end = h[name]["data_offsets"]
            piece = data[start:end]
            if name == tensor:
                values = list(struct.unpack("<%de" % ((end - start) // 2), piece))
                values[0] = value
                piece, h[name]["dtype"] = struct.pack("<%df" % len(values), *values), "F32"
            h[name]["data_offsets"] = [len(raw), len(raw) + len(piece)]
            raw += piece
        path = os.path.join(tmp, "fp16-%s.safetensors" % tensor)
        write_safetensors(path, h, raw)
        info = subprocess.run([cascade, "info", path], capture_output=True, text=True, timeout=120)
        gpu = [l for l in info.stdout.splitlines() if l.startswith("gpu ")]
        run = subprocess.run([cascade, "run", "--device", "cpu", "--cheap", path, "--full", "none", "--limit", "64",
                              "--quiet"], capture_output=True, text=True, timeout=120)
        no_backend = gpu and "no GPU backend" in gpu[0]
        ok = info.returncode == 0 and run.returncode == 0 and len(gpu) == 1 and (no_backend or gpu_want in gpu[0])
        cases += 1
        failures += not ok
        print("%s %-32s info rc %d, cpu run rc %d: %s" % ("ok  " if ok else "FAIL", "fp16: %s %g" % (tensor, value),
                                                         info.returncode, run.returncode,
                                                         gpu[0] if gpu else info.stderr.strip()[:160]))
        os.unlink(path)


def long_path_cases(tmp):
    """A path longer than the 1023 bytes cascade holds is refused: cut to fit, it
    named another file (here a lenet where an alexnet_shallower was asked for)."""
    cut = os.path.join(tmp, *(["d" * 100] * 9)) + "/"
    cut += "f" * (1023 - len(cut))
    os.makedirs(os.path.dirname(cut))
    shutil.copy(lenet, cut)
    longer = cut + "x.safetensors"
    shutil.copy(lenet.replace("lenet", "alexnet_shallower"), longer)
    expect_failure("path: model past 1023 bytes", ["info", longer], "longer than 1023 bytes", tmp)
    expect_failure("path: expensive model", ["run", "--full", longer, "--limit", "4"], "longer than", tmp)
    data = cut + "x.bin"
    for cmd in (["run", "--full", "none", "--data", data], ["sweep", "--cheap", "lenet", "--data", data],
                ["bench", "--device", "cpu", "--models", "lenet", "--no-cascades", "--data", data],
                ["calibrate", "--target-accuracy", "0.8", "--cheap", "lenet", "--val", data]):
        expect_failure("path: %s --data/--val" % cmd[0], cmd, "longer than", tmp)
    # an output's says so as an input's does (it read "output path too long", naming nothing)
    for cmd in (["run", "--full", "none", "--limit", "4", "--json", cut + "x.json"],
                ["sweep", "--cheap", "lenet", "--limit", "4", "--csv", cut + "x.csv"]):
        expect_failure("path: %s output" % cmd[0], cmd, "output path longer than 1023 bytes: " + cut[:48], tmp)
    env = dict(os.environ, CASCADE_ASSETS=cut)
    r = subprocess.run([cascade, "info", "lenet"], capture_output=True, text=True, timeout=120, env=env)
    ok = r.returncode != 0 and "longer than" in r.stderr
    global failures, cases
    cases += 1
    failures += not ok
    print("%s %-32s rc %d: %s" % ("ok  " if ok else "FAIL", "path: long CASCADE_ASSETS", r.returncode,
                                  r.stderr.strip()[:120]))
    shutil.rmtree(os.path.join(tmp, "d" * 100))


def no_assets_cases(tmp):
    """CASCADE_ASSETS naming a folder without weights/ or data/: what needs a zoo model or the default data
    fails with one line naming the variable and what it lacks (it named the one missing file), exit 1; a run
    given every file by path needs no assets."""
    global failures, cases
    empty = os.path.join(tmp, "no-assets")
    os.mkdir(empty)
    env = dict(os.environ, CASCADE_ASSETS=empty)
    ten = os.path.join(tmp, "ten-records.bin")
    with open(test_batch, "rb") as f:
        open(ten, "wb").write(f.read(10 * 3073))
    other = os.path.join(tmp, "lenet-copy.safetensors")  # (calibrate refuses one file in front of itself)
    shutil.copyfile(lenet, other)
    for args, lacks in ((["run", "--quiet"], "data/"), (["info", "lenet"], "weights/"),
                        (["run", "--quiet", "--data", ten], "weights/"), (["bench", "--device", "cpu"], "data/"),
                        (["sweep", "--data", ten], "weights/"),
                        (["calibrate", "--target-accuracy", "0.8", "--cheap", lenet, "--full", other], "data/")):
        r = subprocess.run([cascade] + args, capture_output=True, text=True, timeout=120, env=env)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        ok = r.returncode == 1 and len(lines) == 1 and "no assets: CASCADE_ASSETS=%s has no %s" % (empty, lacks) in lines[0]
        cases += 1
        failures += not ok
        print("%s %-32s rc %d: %s" % ("ok  " if ok else "FAIL", "no assets: " + " ".join(args[:2]), r.returncode,
                                      " | ".join(lines)[:160]))
    r = subprocess.run([cascade, "run", "--quiet", "--device", "cpu", "--cheap", lenet, "--full", "none", "--data", ten],
                       capture_output=True, text=True, timeout=120, env=env)
    cases += 1
    failures += r.returncode != 0
    print("%s %-32s rc %d %s" % ("ok  " if r.returncode == 0 else "FAIL", "no assets: every file by path",
                                 r.returncode, r.stderr.strip()[:120]))
    # unset, with a ../shared that has weights/ only: the message names that folder, not the one beside the
    # sources (it said "neither ../shared nor SRC/../shared has a data/ folder", and the second had one)
    work = os.path.join(tmp, "job", "work")
    os.makedirs(os.path.join(tmp, "job", "shared", "weights"))
    os.makedirs(work)
    env = {k: v for k, v in os.environ.items() if k != "CASCADE_ASSETS"}
    r = subprocess.run([cascade, "run", "--quiet", "--cheap", lenet, "--full", "none"], capture_output=True, text=True,
                       timeout=120, env=env, cwd=work)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    ok = r.returncode == 1 and len(lines) == 1 and "and ../shared (taken for its weights/) has no data/" in lines[0]
    cases += 1
    failures += not ok
    print("%s %-32s rc %d: %s" % ("ok  " if ok else "FAIL", "no assets: ../shared weights only", r.returncode,
                                  " | ".join(lines)[:200]))


def other_format_cases(tmp, records, base):
    """A file in another format given as --data is named for what it is (it read "label 31", "label 128" or
    "not a whole number of records"): the archives CIFAR-10 ships in, its python version, images, CIFAR-100."""
    import gzip
    import io
    import pickle
    import tarfile
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as t:
        info = tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin")
        info.size = len(records)
        t.addfile(info, io.BytesIO(records))
    files = {
        "gzip": (gzip.compress(records), "a gzip-compressed file, not a CIFAR-10 binary file"),
        "tar": (tar.getvalue(), "a tar archive, not a CIFAR-10 binary file"),
        "pickle": (pickle.dumps({b"labels": [3] * 20, b"data": records}, protocol=2), "a Python pickle"),
        "npy": (b"\x93NUMPY\x01\x00v\x00{'descr': '|u1'}" + records, "a NumPy .npy array"),
        "png": (b"\x89PNG\r\n\x1a\n" + records[:500], "a PNG image"),
        "jpeg": (b"\xff\xd8\xff\xe0" + records[:500], "a JPEG image"),
        "cifar100": (b"".join(records[i:i + 1] + b"\x07" + records[i + 1:i + 3073] for i in range(0, len(records), 3073)),
                     "3074-byte records, CIFAR-100's format"),
        "weights": (open(lenet, "rb").read(), "a safetensors file"),
    }
    for name, (content, want) in files.items():
        path = os.path.join(tmp, "other." + name)
        open(path, "wb").write(content)
        expect_failure("cifar: " + name + " as --data", base + ["--data", path], want, tmp)


def other_weights_cases(tmp, records):
    """A model file in another format is named for what it is (it read "header length 85966670672 runs past the
    end of the file"): PyTorch's zip checkpoint, its legacy pickle, a gzip file, a CIFAR data file."""
    import gzip
    import io
    import pickle
    import zipfile
    pth = io.BytesIO()
    with zipfile.ZipFile(pth, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"conv1.weight": 0}, protocol=2))
    files = {"pth": (pth.getvalue(), "a zip archive (a PyTorch .pt/.pth checkpoint?)"),
             "pickle": (pickle.dumps({"conv1.weight": [0.0] * 50}, protocol=2), "a Python pickle"),
             "gzip": (gzip.compress(open(lenet, "rb").read()), "a gzip-compressed file"),
             "cifar": (records, "by its size, a CIFAR-10 data file")}
    for name, (content, want) in files.items():
        path = os.path.join(tmp, "model." + name)
        open(path, "wb").write(content)
        expect_failure("weights: " + name + " as a model", ["run", "--cheap", path, "--full", "none"],
                       "not a safetensors file: " + want, tmp)
        expect_failure("info: " + name, ["info", path], "not a safetensors file: " + want, tmp)


def renamed_tensor_cases(tmp):
    """A checkpoint whose tensors are named otherwise: the missing tensor's message names what the file has in
    its place (a DataParallel "module." prefix; a tensor of the wanted shape under another name)."""
    header, data = read_safetensors(lenet)
    prefixed = {("module." + k if k != "__metadata__" else k): v for k, v in header.items()}
    renamed = {("features.0.weight" if k == "conv1.weight" else k): v for k, v in header.items()}
    for name, h, want in (("prefixed", prefixed, "missing tensor 'conv1.weight' for arch lenet (the file has "
                                                 "'module.conv1.weight': its names carry the prefix 'module.'"),
                          ("renamed", renamed, "missing tensor 'conv1.weight' for arch lenet (the file has "
                                               "'features.0.weight' of that shape")):
        path = os.path.join(tmp, "lenet-%s.safetensors" % name)
        write_safetensors(path, h, data)
        expect_failure("weights: " + name + " tensors", ["info", path], want, tmp)


def rebuilt(source, path, change):
    """source's tensors, each passed through change(name, dtype, shape, bytes) -> (dtype, shape, bytes), into path."""
    header, data = read_safetensors(source)
    out, blob = {}, b""
    for name, t in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0] if kv[0] != "__metadata__" else -1):
        if name == "__metadata__":
            out[name] = t
            continue
        begin, end = t["data_offsets"]
        dtype, shape, content = change(name, t["dtype"], t["shape"], data[begin:end])
        out[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(content)]}
        blob += content
    write_safetensors(path, out, blob)


def tensor_check_cases(tmp):
    """Each tensor is checked whole against its architecture: every dimension of its shape (the last one
    included: a bias one short, a kernel one narrower), its dtype (F16 or F32: BF16 and F64 are refused); a running_var of 0 (a channel BatchNorm saw no variance in) loads, -1 and -1e-6 do not."""
    cases_ = (("bias one short", lenet, lambda n, d, sh, b: (d, [9], b[:18]) if n == "fc3.bias" else (d, sh, b),
               "tensor 'fc3.bias' has shape [9], arch lenet expects [10]"),
              ("kernel one narrower", lenet,
               lambda n, d, sh, b: (d, [6, 3, 5, 4], b[:6 * 3 * 5 * 4 * 2]) if n == "conv1.weight" else (d, sh, b),
               "tensor 'conv1.weight' has shape [6,3,5,4], arch lenet expects [6,3,5,5]"),
              ("bf16", lenet, lambda n, d, sh, b: ("BF16", sh, b) if n == "conv1.weight" else (d, sh, b),
               "tensor 'conv1.weight' has dtype BF16, expected F16 or F32"),
              ("f64", lenet, lambda n, d, sh, b: ("F64", sh, struct.pack("<%dd" % (len(b) // 2), *struct.unpack(
                  "<%de" % (len(b) // 2), b))) if n == "conv1.weight" else (d, sh, b),
               "tensor 'conv1.weight' has dtype F64, expected F16 or F32"))
    for name, source, change, want in cases_:
        path = os.path.join(tmp, "checked-%s.safetensors" % name.replace(" ", "-"))
        rebuilt(source, path, change)
        expect_failure("weights: " + name, ["info", path], want, tmp)
    alexnet = os.path.join(assets, "weights", "alexnet_shallower.safetensors")
    for value, ok in ((0.0, True), (-1.0, False), (-1e-6, False)):
        path = os.path.join(tmp, "running-var.safetensors")
        rebuilt(alexnet, path, lambda n, d, sh, b: (d, sh, struct.pack("<f", value) + b[4:])
                if n == "bn1.running_var" else (d, sh, b))
        if ok:
            global failures, cases
            cases += 1
            r = subprocess.run([cascade, "info", path], capture_output=True, text=True, timeout=120)
            failures += r.returncode != 0
            print("%s %-32s rc %d %s" % ("ok  " if r.returncode == 0 else "FAIL", "weights: running_var 0 loads",
                                         r.returncode, r.stderr.strip()[:160]))
        else:
            expect_failure("weights: running_var %g" % value, ["info", path], "running_var' has a negative value", tmp)


def repeated_option_cases(tmp):
    """An option with a value given twice is refused (exit 2): the last one silently
    replaced the first, so --data a.bin --data b.bin read b.bin alone. A flag twice is
    harmless and runs."""
    global failures, cases
    test = os.path.join(assets, "data", "cifar10", "test_batch.bin")
    base = ["run", "--device", "cpu", "--full", "none", "--cheap", "lenet"]
    for what, args, want in [
            ("run: --data twice", base + ["--data", test, "--data", os.path.join(tmp, "b.bin"), "--limit", "4"],
             "--data is given twice ('%s', then '%s'): cascade reads one file" % (test, os.path.join(tmp, "b.bin"))),
            ("run: --limit twice, one value", base + ["--limit", "4", "--limit=4"],
             "--limit is given twice ('4', then '4')"),
            ("run: --threshold twice", ["run", "--device", "cpu", "--limit", "4", "--threshold", "0.9",
                                        "--threshold", "0.8"], "--threshold is given twice"),
            ("bench: --runs twice", ["bench", "--device", "cpu", "--models", "lenet", "--cascades", "none",
                                     "--images", "64", "--runs", "3", "--runs", "4"],
             "--runs is given twice ('3', then '4'): give it once"),
            ("sweep: --cheap twice", ["sweep", "--device", "cpu", "--limit", "8", "--cheap", "lenet",
                                      "--cheap", "alexnet"],
             "a list is one value, comma-separated (--cheap lenet,alexnet)"),
            ("calibrate: --target twice", ["calibrate", "--device", "cpu", "--limit", "8", "--target-accuracy", "0.9",
                                           "--target-accuracy", "0.91"], "--target-accuracy is given twice")]:
        before = failures
        expect_failure(what, args, want, tmp)
        r = subprocess.run([cascade] + args, capture_output=True, text=True, timeout=120)
        if r.returncode != 2 and failures == before:  # (not counted twice)
            failures += 1
            print("FAIL %-32s exit %d, not 2 (bad usage)" % (what, r.returncode))
    cases += 1
    r = subprocess.run([cascade] + base + ["--limit", "4", "--quiet", "--quiet"], capture_output=True, text=True,
                       timeout=120)
    ok = r.returncode == 0 and "images      4 of 4" in r.stdout
    failures += not ok
    print("%s %-32s rc %d %s" % ("ok  " if ok else "FAIL", "run: a flag twice runs", r.returncode,
                                 r.stderr.strip()[-120:]))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        no_assets_cases(tmp)
        class_name_cases(tmp)
        fp16_range_cases(tmp)
        long_name_cases(tmp)
        long_path_cases(tmp)
        class_list_cases(tmp)
        unicode_escape_cases(tmp)
        repeated_option_cases(tmp)
        wants = {"truncated": "outside", "too-short": "too short", "header-past-eof": "past the end",
                 "malformed-json": "json", "unknown-dtype": "unknown dtype", "offset-out-of-range": "outside",
                 "overlapping-offsets": "overlap", "missing-tensor": "missing tensor",
                 "wrong-shape-for-arch": "shape", "nan-in-weights": "nan", "shape-vs-bytes": "do not hold",
                 "unused-weights": "not part of arch lenet", "input-not-cifar": "3x32x32",
                 "five-classes": "10-class", "trailing-bytes": "belong to no tensor (trailing bytes)",
                 "hole-in-data": "belong to no tensor", "small-hole": "belong to no tensor",
                 "range-past-shape": "do not hold"}
        label_space_cases(tmp)
        header, data = read_safetensors(lenet)  # not bad: BatchNorm's step counter, cast to float by an export
        header["bn1.num_batches_tracked"] = {"dtype": "F32", "shape": [], "data_offsets": [len(data), len(data) + 4]}
        counter = os.path.join(tmp, "counter.safetensors")
        write_safetensors(counter, header, data + struct.pack("<f", 100.0))
        r = subprocess.run([cascade, "info", counter], capture_output=True, text=True, timeout=120)
        global failures, cases
        if r.returncode != 0:
            failures += 1
        print("%s info: a float num_batches_tracked loads (rc %d) %s" % ("ok  " if r.returncode == 0 else "FAIL",
                                                                        r.returncode, r.stderr.strip()))
        os.unlink(counter)
        header, data = read_safetensors(lenet)  # not bad: metadata we do not read, long (an exporter's notes)
        header["__metadata__"]["training_args"] = json.dumps({"lr": 0.1, "notes": "n" * 3000})
        header["__metadata__"]["k" * 300] = "a key of 300 bytes"
        noted = os.path.join(tmp, "long-metadata.safetensors")
        write_safetensors(noted, header, data)
        r = subprocess.run([cascade, "info", noted], capture_output=True, text=True, timeout=120)
        cases += 1
        failures += r.returncode != 0
        print("%s info: 3 KB of metadata we do not read loads (rc %d) %s" % ("ok  " if r.returncode == 0 else "FAIL",
                                                                             r.returncode, r.stderr.strip()[:120]))
        os.unlink(noted)
        header, data = read_safetensors(lenet)  # a key, unlike a value, is bounded: keys are compared pairwise
        header["__metadata__"]["k" * 2000] = "x"
        write_safetensors(noted, header, data)
        expect_failure("metadata: key of 2000 bytes", ["info", noted], "metadata key longer than 1024 bytes", tmp)
        os.unlink(noted)
        broken = weight_cases(tmp)
        for name, path in broken.items():
            expect_failure("weights: " + name, ["run", "--cheap", path, "--full", "none", "--limit", "4"],
                           wants[name], tmp)
            expect_failure("info: " + name, ["info", path], wants[name], tmp)
        records = open(test_batch, "rb").read(3073 * 20)
        short = os.path.join(tmp, "short.bin"); open(short, "wb").write(records[:-100])
        bad_label = bytearray(records); bad_label[3073 * 7] = 10
        label10 = os.path.join(tmp, "label10.bin"); open(label10, "wb").write(bytes(bad_label))
        empty = os.path.join(tmp, "empty.bin"); open(empty, "wb").close()
        base = ["run", "--cheap", "lenet", "--full", "none"]
        expect_failure("cifar: wrong size", base + ["--data", short], "whole number of", tmp)
        expect_failure("cifar: label 10", base + ["--data", label10], "record 7 has label 10", tmp)
        # bench checks each record it draws (64 of 20 records: all of them), not the whole file up front
        expect_failure("cifar: bench, label 10", ["bench", "--device", "cpu", "--models", "lenet", "--no-cascades",
                                                  "--images", "64", "--runs", "1", "--warmup", "0", "--data", label10],
                       "record 7 has label 10", tmp)
        expect_failure("cifar: empty file", base + ["--data", empty], "empty", tmp)
        other_format_cases(tmp, records, base)
        other_weights_cases(tmp, records)
        renamed_tensor_cases(tmp)
        tensor_check_cases(tmp)
        expect_failure("cifar: missing file", base + ["--data", os.path.join(tmp, "nope.bin")], "cannot open", tmp)
        expect_failure("threshold above 1", ["run", "--threshold", "1.5"], "outside [0, 1]", tmp)
        expect_failure("threshold below 0", ["run", "--threshold", "-0.1"], "outside [0, 1]", tmp)
        small = ["--cheap", "lenet", "--full", "none", "--device", "cpu"]  # (quick, should 0 be taken as "all")
        expect_failure("run --limit 0", ["run"] + small + ["--limit", "0"], "--limit: 0 is outside [1,", tmp)
        expect_failure("sweep --limit 0", ["sweep", "--cheap", "lenet", "--full", "lenet", "--device", "cpu", "--limit",
                                           "0"], "--limit: 0 is outside [1,", tmp)
        expect_failure("threshold not a number", ["run", "--threshold", "abc"], "not a number", tmp)
        # the number's own fault named: a whole number out of range (it read "not an integer"), a step of 0 (it read
        # "0 is outside", of a range that starts at 0), a bound in full (%g gave 4.1943e+06)
        expect_failure("run --limit 1e20 written out", ["run"] + small + ["--limit", "99999999999999999999"],
                       "99999999999999999999 is outside [1, 2147483647]", tmp)
        expect_failure("sweep --thresholds step 0", ["sweep", "--thresholds", "0:1:0"], "the step of 0:1:0: 0 is outside",
                       tmp)
        expect_failure("bench --batches 0", ["bench", "--batches", "0"], "0 is outside [1, 4194304]", tmp)
        # thresholds as float32 compares them: 0.99999999 deferred every image, as 1 does, while saying 0.99999999
        expect_failure("threshold 0.99999999", ["run", "--threshold", "0.99999999"], "closer to 1", tmp)
        expect_failure("thresholds one float32", ["sweep", "--cheap", "lenet", "--thresholds", "0.9:0.90000001:1e-9"],
                       "one threshold at the float32 precision", tmp)
        expect_failure("threshold with a leading blank", ["run", "--threshold", " 0.5"], "not a number", tmp)
        # decimal only, as the integers are (0x1p-1 read as 0.5, while --limit 0x10 was refused); an underflow
        # to 0 is not the number written (1e-400 read as 0); a flag given a value says it takes none
        expect_failure("threshold in hex", ["run", "--threshold", "0x1p-1"], "'0x1p-1' is not a number", tmp)
        expect_failure("threshold 1e-400", ["run", "--threshold", "1e-400"], "1e-400 is too small", tmp)
        expect_failure("flag with a value", ["run", "--quiet=1"], "--quiet takes no value", tmp)
        expect_failure("bench --batches step 0.5", ["bench", "--batches", "64:256:0.5"],
                       "the step of 64:256:0.5: 0.5 is not a whole number", tmp)
        expect_failure("unknown model name", ["run", "--cheap", "vgg99"], "unknown model", tmp)
        # a file that is there is a path, whatever its name (it read "unknown model 'mylenet.bin'")
        shutil.copyfile(lenet, os.path.join(tmp, "mylenet.bin"))
        cases += 1
        r = subprocess.run([cascade, "run", "--device", "cpu", "--quiet", "--cheap", "mylenet.bin", "--full", "none",
                            "--limit", "4"], cwd=tmp, capture_output=True, text=True, timeout=120)
        ok = r.returncode == 0 and "mylenet.bin alone" in r.stdout
        failures += not ok
        print("%s %-32s rc %d %s" % ("ok  " if ok else "FAIL", "a model file named mylenet.bin", r.returncode,
                                     r.stderr.strip()[-120:]))
        os.unlink(os.path.join(tmp, "mylenet.bin"))
        expect_failure("unknown option", ["run", "--frobnicate"], "unknown option", tmp)
        # a number with a space around it is no number (strtol and strtod skip a leading one)
        expect_failure("--limit ' 5'", ["run", "--full", "none", "--limit", " 5"], "' 5' is not an integer", tmp)
        expect_failure("--threshold ' 0.5'", ["run", "--threshold", " 0.5"], "' 0.5' is not a number", tmp)
        expect_failure("unknown command", ["frobnicate"], "unknown command", tmp)
        # one line, not the whole usage; an extra word is an error, not the general help with exit 0
        expect_failure("no command", [], "no command given", tmp)
        expect_failure("info without a model", ["info"], "no MODEL given", tmp)
        expect_failure("help of two words", ["help", "run", "extra"], "one command at most", tmp)
        # a value forgotten: the next option is not taken for it (a file named --json was written)
        expect_failure("option as a value", ["run", "--full", "none", "--limit", "4", "--json", "--quiet"],
                       "--json needs a value, not the option --quiet", tmp)
        bench_cases(tmp, broken["truncated"])
        expect_failure("missing output dir", base + ["--limit", "4", "--json", os.path.join(tmp, "no/such/dir/r.json")],
                       "cannot write", tmp)
    print("%d passed, %d failed" % (cases - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
