#!/usr/bin/env python3
"""outputs.py: where the commands' output files land, as a user names them.

usage: outputs.py CASCADE_BINARY   (assets from $CASCADE_ASSETS, default ../shared)

- through a symbolic link (also a dangling one, also a chain of two) the
  link's target is written and the link stays;
- a file replaced keeps its permissions (a private file stays private); a new
  one gets the umask's;
- links that loop are an error (ELOOP), the links kept;
- a reader of standard output that goes away is a write error with no
  output left (not SIGPIPE); with standard output closed, no file the
  run opens takes descriptor 1, and an output asked of it (-, /dev/stdout)
  is exit 1, one line, nothing written;
- `-` is standard output: the CSV (or JSON) alone there, the summary on
  stderr; the same for /dev/stdout redirected to a file (written through
  the descriptor: the CSV whole, not overwritten by the summary);
- an output that is an input (data, weights, --throughput-from) or another
  output (one FIFO named twice too) is exit 2 with one line, before any work,
  every file as it was;
  /dev/null may take several outputs;
- a write-protected output is not replaced (as root: run as uid 65534); a
  writable one in a folder that is not says so; --progress-json ends with the
  final state once, and an existing one is kept by a run that fails before
  its work starts, and gets its content back from one that fails after; SIGINT while an output FIFO waits for its reader is a
  stop (130) with nothing written; names of 250 bytes are written;
  --progress-interval spaces the redraws on a terminal too, and a redraw fits
  the terminal's width (a model alone shows no deferred fraction, a budget
  bounds the ETA); the live rate and
  ETA are of the images screened, not ~1 img/s while the first deferred
  image waits for its batch; a sweep pass draws its progress on a terminal;
- calibrate's default validation file named on the command line keeps its
  split (records 5000..9999: the first ones were trained on);
- a run that a --time-budget stop reached after its last image was taken
  says so in the summary as in the JSON;
- the run JSON's threshold is null for a model alone, its seed null for the
  file's own order; it names the version (as --version does), the data file,
  its records, the chunk and the expensive batch; a run stopped before its first image gives null
  fractions (and eta_s), not 0; the CSV's confidences are float32's 9 digits;
- bench's GFLOP/s, ideal and efficiency follow from its own medians (the best
  over --batches); run's seeded order is the documented splitmix64
  Fisher-Yates, rebuilt here; the progress feed moves with each chunk
  screened while every image waits for the expensive batch.
"""
import csv
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, communicate_or_kill, finish  # noqa: E402
import golden  # noqa: E402
from golden import f32, shuffled_order  # noqa: E402

cascade = os.path.abspath(sys.argv[1])
SANITIZED = "--sanitized" in sys.argv[2:]  # an ASan build: no ulimit -v
assets = os.environ.get("CASCADE_ASSETS") or os.path.join(os.path.dirname(__file__), "..", "..", "shared")
test_batch = os.path.join(assets, "data", "cifar10", "test_batch.bin")
LENET = ["--cheap", "lenet", "--full", "none", "--quiet", "--device", "cpu"]


WORK = tempfile.gettempdir()  # the commands run here: a stray file ("-" from an old binary) never lands in the checkout


def run(args, **kw):
    kw.setdefault("cwd", WORK)
    return subprocess.run([cascade] + args, capture_output=True, text=True, timeout=300, **kw)


def csv_rows(text):
    return [line for line in text.splitlines() if line and line[0].isdigit()]


def check_links(tmp, data):
    real, link = os.path.join(tmp, "real.csv"), os.path.join(tmp, "link.csv")
    open(real, "w").write("old\n")
    os.symlink("real.csv", link)
    r = run(["run"] + LENET + ["--data", data, "--output", link])
    check(r.returncode == 0 and os.path.islink(link) and os.readlink(link) == "real.csv",
          "through a link: exit %d, the link %s" % (r.returncode, "kept" if os.path.islink(link) else "replaced"))
    check(len(csv_rows(open(real).read())) == 10, "through a link: its target holds the 10 rows")
    dangling, chain = os.path.join(tmp, "dangling.csv"), os.path.join(tmp, "chain.csv")
    os.symlink(os.path.join(tmp, "made-by-run.csv"), dangling)
    os.symlink("dangling.csv", chain)
    r = run(["run"] + LENET + ["--data", data, "--output", chain])
    made = os.path.join(tmp, "made-by-run.csv")
    check(r.returncode == 0 and os.path.islink(chain) and os.path.islink(dangling) and os.path.isfile(made)
          and len(csv_rows(open(made).read())) == 10, "a chain of links to a file yet to be made: exit %d" % r.returncode)
    # a relative link in another folder is relative to its own folder, not to the working one
    os.mkdir(os.path.join(tmp, "sub"))
    os.symlink("real.csv", os.path.join(tmp, "sub", "link.csv"))
    r = run(["run"] + LENET + ["--data", data, "--output", os.path.join("sub", "link.csv")], cwd=tmp)
    below = os.path.join(tmp, "sub", "real.csv")
    check(r.returncode == 0 and os.path.isfile(below) and len(csv_rows(open(below).read())) == 10 and
          len(csv_rows(open(real).read())) == 10 and os.path.islink(os.path.join(tmp, "sub", "link.csv")),
          "a relative link in a subfolder: exit %d, sub/real.csv %s" % (
              r.returncode, "written" if os.path.isfile(below) else "absent"))
    shutil.rmtree(os.path.join(tmp, "sub"))
    # a chain of 6 links (fewer than the 40 hops of a loop) is followed to its end
    chain6 = [os.path.join(tmp, "hop%d.csv" % k) for k in range(6)]
    for k in range(6):
        os.symlink(os.path.basename(chain6[k + 1]) if k < 5 else "end-of-chain.csv", chain6[k])
    r = run(["run"] + LENET + ["--data", data, "--output", chain6[0]])
    end = os.path.join(tmp, "end-of-chain.csv")
    check(r.returncode == 0 and os.path.isfile(end) and len(csv_rows(open(end).read())) == 10,
          "a chain of 6 links: exit %d %r" % (r.returncode, r.stderr.strip()[-120:]))
    for f in chain6 + [end]:
        os.unlink(f)
    loop = [os.path.join(tmp, n) for n in ("loop-a", "loop-b", "loop-c")]
    for k in range(3):
        os.symlink(os.path.basename(loop[(k + 1) % 3]), loop[k])
    r = run(["run"] + LENET + ["--data", data, "--output", loop[0]])
    check(r.returncode == 1 and "symbolic links" in r.stderr and all(os.path.islink(p) for p in loop),
          "a loop of links: rc %d, %r, links kept" % (r.returncode, r.stderr.strip()[-120:]))
    check(not [f for f in os.listdir(tmp) if ".tmp." in f], "a temporary file was left: %s" % os.listdir(tmp))


def check_modes(tmp, data):
    private = os.path.join(tmp, "private.csv")
    open(private, "w").write("old\n")
    os.chmod(private, 0o600)
    r = run(["run"] + LENET + ["--data", data, "--output", private])
    mode = stat.S_IMODE(os.stat(private).st_mode)
    check(r.returncode == 0 and mode == 0o600, "a private file replaced: exit %d, mode %o" % (r.returncode, mode))
    fresh = os.path.join(tmp, "fresh.json")
    r = run(["run"] + LENET + ["--data", data, "--json", fresh], preexec_fn=lambda: os.umask(0o027))
    mode = stat.S_IMODE(os.stat(fresh).st_mode) if os.path.exists(fresh) else -1
    check(r.returncode == 0 and mode == 0o640, "a new file under umask 027: exit %d, mode %o" % (r.returncode, mode))


def check_stdout(tmp, data):
    r = run(["run"] + LENET + ["--data", data, "--output", "-"])
    lines = r.stdout.splitlines()
    check(r.returncode == 0 and lines[:1] == ["index,prediction,confidence,deferred,label"] and len(lines) == 11,
          "--output -: exit %d, %d stdout lines (the CSV alone: 11)" % (r.returncode, len(lines)))
    check("images      10 of 10" in r.stderr, "--output -: the summary on stderr")
    r = run(["sweep", "--quiet", "--device", "cpu", "--cheap", "lenet", "--full", "alexnet_shallower", "--data", data,
             "--thresholds", "0.9", "--json", "-"])
    try:
        ok = json.loads(r.stdout).get("frontier") is not None
    except ValueError:
        ok = False
    check(r.returncode == 0 and ok and "sweep " in r.stderr, "sweep --json -: the JSON alone on stdout (rc %d)" % r.returncode)
    into = os.path.join(tmp, "stdout.txt")
    with open(into, "w") as f:
        r = subprocess.run([cascade, "run"] + LENET + ["--data", data, "--output", "/dev/stdout"], stdout=f,
                           stderr=subprocess.PIPE, text=True, timeout=300)
    text = open(into).read()
    check(r.returncode == 0 and len(text.splitlines()) == 11 and text.startswith("index,")
          and "images      10 of 10" in r.stderr,
          "--output /dev/stdout into a file: the CSV alone, the summary on stderr (rc %d, %d lines)" %
          (r.returncode, len(text.splitlines())))
    replaced = os.path.isfile("/dev/stdout") and not os.path.islink("/dev/stdout")
    check(not replaced, "/dev/stdout was replaced by a file")
    if replaced and os.geteuid() == 0:  # put the machine's link back (a binary with the old bug, run as root)
        os.unlink("/dev/stdout")
        os.symlink("/proc/self/fd/1", "/dev/stdout")


def check_pipes_and_closed(tmp, data):
    """A reader that goes away (`| head -1`) is a write error, exit 1, no output
    left; with standard output closed no file the run opens takes its place,
    and what a command prints there fails (exit 1) as on the closed descriptor:
    the run's report (its CSV stays whole), info's description, the version
    (they went to /dev/null, exit 0)."""
    report = os.path.join(tmp, "piped.json")
    p = subprocess.Popen([cascade, "run", "--quiet", "--device", "cpu", "--cheap", "lenet", "--full", "none",
                          "--limit", "10000", "--output", "-", "--json", report], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()  # as `head -1` does; the 10,000 rows (~200 KB) are more than a pipe holds

    err = p.stderr.read().decode()
    p.wait(timeout=300)
    left = [f for f in os.listdir(tmp) if f.startswith("piped.json")]
    check(p.returncode == 1 and "Broken pipe" in err and not left,
          "the reader of --output - gone: rc %d, %r, left %s" % (p.returncode, err.strip()[-120:], left))
    csv_out = os.path.join(tmp, "closed.csv")
    r = subprocess.run([cascade, "run"] + LENET + ["--data", data, "--output", csv_out], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=300, preexec_fn=lambda: os.close(1))
    text = open(csv_out).read() if os.path.exists(csv_out) else ""
    check(r.returncode == 1 and "cannot write standard output: Bad file descriptor" in r.stderr.decode()
          and text.startswith("index,") and len(csv_rows(text)) == 10,
          "standard output closed: the CSV in its file, the report failed (rc %d, %r, starts %r)" % (
              r.returncode, r.stderr.decode().strip()[-100:], text[:20]))
    for args in (["info", "lenet"], ["--version"]):
        r = subprocess.run([cascade] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           timeout=60, preexec_fn=lambda: os.close(1))
        check(r.returncode == 1 and "cannot write standard output: Bad file descriptor" in r.stderr,
              "standard output closed, %s: rc %d, %r" % (" ".join(args), r.returncode, r.stderr.strip()[-100:]))
    os.unlink(csv_out)
    for where in ("-", "/dev/stdout"):  # an output asked of the closed standard output: refused, not lost in /dev/null
        r = subprocess.run([cascade, "run"] + LENET + ["--data", data, "--output", csv_out, "--json", where],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300,
                           preexec_fn=lambda: os.close(1))
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 1 and len(lines) == 1 and "closed when cascade started" in lines[0] and
              not os.path.exists(csv_out), "standard output closed, --json %s: rc %d, %r, CSV %s" %
              (where, r.returncode, lines[:3], "written" if os.path.exists(csv_out) else "absent"))


def check_write_protected(tmp, data):
    """A write-protected output (mode 444, its folder writable) is not replaced;
    a writable file in a folder that is not says why it cannot be written.
    As root (who may write anything) the runs drop to uid 65534."""
    as_user = None
    if os.geteuid() == 0:
        def as_user():
            os.setgid(65534)
            os.setuid(65534)
    room = os.path.join(tmp, "room")
    os.mkdir(room)
    os.chmod(room, 0o777)
    for d in (tmp,):
        os.chmod(d, 0o755)
    mine = os.path.join(room, "data.bin")
    shutil.copy(data, mine)
    os.chmod(mine, 0o644)
    protected, sealed = os.path.join(room, "protected.csv"), os.path.join(room, "sealed")
    open(protected, "w").write("keep\n")
    os.chmod(protected, 0o444)
    os.mkdir(sealed)
    open(os.path.join(sealed, "open.csv"), "w").write("keep\n")
    os.chmod(os.path.join(sealed, "open.csv"), 0o666)
    os.chmod(sealed, 0o555)
    if as_user:
        os.chown(protected, 65534, 65534)
    for what, target, want in (("a write-protected file", protected, "Permission denied"),
                               ("a writable file in a sealed folder", os.path.join(sealed, "open.csv"), "folder is not writable")):
        r = subprocess.run([cascade, "run"] + LENET + ["--data", mine, "--output", target], capture_output=True, text=True,
                           timeout=300, preexec_fn=as_user)
        check(r.returncode == 1 and want in r.stderr and open(target).read() == "keep\n",
              "%s: rc %d, %r, kept: %s" % (what, r.returncode, r.stderr.strip()[-120:], open(target).read() == "keep\n"))
    os.chmod(sealed, 0o755)


def check_fifo_without_reader(tmp, data):
    """An output FIFO nobody reads holds the run before any work; SIGINT then
    stops it as a stop (130), not as an error, and nothing is written."""
    fifo, report = os.path.join(tmp, "nobody-reads"), os.path.join(tmp, "fifo-report.json")
    os.mkfifo(fifo)
    p = subprocess.Popen([cascade, "run"] + LENET + ["--data", data, "--output", fifo, "--json", report], cwd=tmp,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(600):  # until it waits for the FIFO's reader (the open retried every 10 ms), at most 60 s
        try:
            waiting = any(w in open("/proc/%d/wchan" % p.pid).read() for w in ("nanosleep", "partner"))
        except OSError:
            waiting = False
        if waiting or p.poll() is not None:
            break
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    out, err, killed = communicate_or_kill(p, 60)
    if killed:
        err += " (still waiting 60 s after SIGINT: killed)"
    left = [f for f in os.listdir(tmp) if f.startswith("fifo-report")]
    check(p.returncode == 130 and "waited for a reader" in err and not left,
          "a FIFO without a reader, then SIGINT: rc %d, %r, left %s" % (p.returncode, err.strip()[-120:], left))
    # said at once (it sat silent: a job waiting for its reader looked hung)
    check("notice: %s is a FIFO: waiting for its reader before starting" % fifo in err,
          "a FIFO without a reader: no notice that the job waits for it: %r" % err.strip()[-200:])
    os.unlink(fifo)


def check_live_file_kept(tmp, data):
    """A run that fails before its work starts (here: buffers for chunk 4194304
    and batch 1048576, more memory than the machine has) leaves an existing
    --progress-json file as it was, like every other output (it used to be
    truncated at the start and removed)."""
    mem_total = int(open("/proc/meminfo").read().split("MemTotal:")[1].split()[0]) * 1024
    limit = None
    if mem_total > 48 << 30:  # (they need 55 GB): where they fit, a ulimit -v of 16 GiB refuses them
        if SANITIZED:
            print("skipped: a run failing before its work keeps --progress-json (%.0f GB here, and ASan needs the "
                  "address space a ulimit -v would take)" % (mem_total / 2**30))
            return
        limit = 16 << 30
    log, report = os.path.join(tmp, "kept.jsonl"), os.path.join(tmp, "kept.json")
    for path in (log, report):
        open(path, "w").write("an earlier run's\n")
    r = run(["run", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--data", data,
             "--chunk", "4194304", "--batch", "1048576", "--progress-json", log, "--json", report],
            preexec_fn=(lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))) if limit else None)
    kept = [os.path.exists(path) and open(path).read() == "an earlier run's\n" for path in (log, report)]
    check(r.returncode == 1 and "memory" in r.stderr and all(kept),
          "a run failing before its work: rc %d %r, progress file kept %s, report kept %s"
          % (r.returncode, r.stderr.strip()[-120:], kept[0], kept[1]))


def check_live_file_restored(tmp, data):
    """A run that fails once its live --progress-json is written (here: --json
    /dev/full, at the end; SIGHUP mid-run) gives an existing file, or a link's
    target, its old content back (the live log was written over it, then
    removed: the file was lost); a run that succeeds leaves its own log there;
    no temporary file either way; the file is written in place, the same inode
    throughout (a reader following it, tail -f, goes on reading it)."""
    target, link, report = (os.path.join(tmp, n) for n in ("old.jsonl", "old-link.jsonl", "old.json"))
    big = ["run", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower", "--data", test_batch,
           "--limit", "3000", "--chunk", "64", "--progress-interval", "0.05"]
    for name, path, tail, hangup in (("--json /dev/full", target, ["--json", "/dev/full"], False),
                                     ("--json /dev/full, through a link", link, ["--json", "/dev/full"], False),
                                     ("SIGHUP mid-run", target, ["--json", report], True),
                                     ("success", target, ["--json", report], False)):
        open(target, "w").write("an earlier run's\n")
        inode = os.stat(target).st_ino
        if path == link and not os.path.islink(link):
            os.symlink(os.path.basename(target), link)
        p = subprocess.Popen([cascade] + big + ["--progress-json", path] + tail, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        if hangup:  # once the log is live: the target holds this run's lines
            deadline = time.time() + 60
            while time.time() < deadline and p.poll() is None and not open(target).read().startswith("{"):
                time.sleep(0.01)
            p.send_signal(signal.SIGHUP)
        err = p.communicate(timeout=300)[1]
        content = open(target).read() if os.path.exists(target) else None
        left = [f for f in os.listdir(tmp) if ".tmp." in f]
        want_rc = 0 if name == "success" else 129 if hangup else 1
        kept = content == "an earlier run's\n" if want_rc else content is not None and content.startswith("{")
        same = os.path.exists(target) and os.stat(target).st_ino == inode
        check(p.returncode == want_rc and kept and not left and same and (path != link or os.path.islink(link)),
              "an existing --progress-json, %s: rc %d %r, content %r, left %s, same inode %s" % (
                  name, p.returncode, err.strip()[-120:], (content or "")[:40], left, same))
    for f in (target, link, report):
        if os.path.lexists(f):
            os.unlink(f)


def check_process_name(tmp, data):
    """The running command is named as started (its re-execution through
    /proc/self/exe named it "exe": pgrep, pkill, ps -C and top missed it)."""
    p = subprocess.Popen([cascade, "run", "--device", "cpu", "--quiet", "--cheap", "lenet", "--full", "alexnet_shallower",
                          "--data", test_batch, "--limit", "3000", "--chunk", "64", "--output", os.devnull],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    name, deadline, seen_at = None, time.time() + 30, None
    while time.time() < deadline and p.poll() is None:
        try:  # re-executed (the environment says so): the name it runs under once its main has begun
            if seen_at is None and b"CASCADE_BLAS_TUNED=1" in open("/proc/%d/environ" % p.pid, "rb").read():
                seen_at = time.time()
            if seen_at is not None and time.time() > seen_at + 0.5:
                name = open("/proc/%d/comm" % p.pid).read().strip()
                break
        except OSError:
            break
        time.sleep(0.05)
    p.wait(timeout=300)
    check(name in (None, os.path.basename(cascade)[:15]), "the running process is named %r" % name)


def check_long_name(tmp, data):
    """An output named with 250 bytes (under NAME_MAX, 255) is written, though
    its temporary file's name would pass 255 bytes if it were the name plus
    '.tmp.XXXXXX'."""
    names = [os.path.join(tmp, ch * 250) for ch in "cjp"]
    r = run(["run"] + LENET + ["--data", data, "--output", names[0], "--json", names[1], "--progress-json", names[2]])
    made = [os.path.exists(n) for n in names]
    check(r.returncode == 0 and all(made), "250-byte output names: rc %d %r, written %s"
          % (r.returncode, r.stderr.strip()[-120:], made))
    check(not [f for f in os.listdir(tmp) if ".tmp." in f], "250-byte output names: a temporary file was left")
    for n in names:
        if os.path.exists(n):
            os.unlink(n)


def terminal_stderr(args, cwd, columns=0):
    """What a command writes to stderr when stderr is a terminal (a pty, of
    that many columns when given)."""
    import fcntl
    import pty
    import struct
    import termios
    master, slave = pty.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    p = subprocess.Popen([cascade] + args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process closed the terminal's last descriptor
            break
        if not chunk:
            break
        shown += chunk
    p.wait(timeout=300)
    os.close(master)
    return p.returncode, shown.decode(errors="replace")


def check_sweep_progress_on_terminal(tmp, data):
    """A sweep pass draws its progress on a terminal (it said nothing until the
    pass ended: minutes for resnet34 over 10,000 images on a CPU), erased
    before the pass's own line; --quiet draws none."""
    import re
    counts, seconds = [], 0.0
    for quiet in ([], ["--quiet"]):
        rc, shown = terminal_stderr(["sweep", "--device", "cpu", "--cheap", "lenet", "--full", "alexnet", "--chunk", "32",
                                     "--limit", "800", "--thresholds", "0.9"] + quiet, tmp)  # ~3 s on 2 cores
        counts.append((rc, shown.count("alexnet alone: "), shown.count("alexnet alone on 800")))
        took = re.search(r"alexnet alone on 800 images: [0-9.]+ images/s \(([0-9.]+) s", shown)
        seconds = float(took.group(1)) if took and not quiet else seconds
    drawn = counts[0][1] >= 1 or seconds < 0.5  # a draw comes 0.25 s into the pass: a fast machine's may end first
    check(counts[0][0] == 0 and drawn and counts[0][2] == 1 and counts[1] == (0, 0, 0),
          "sweep progress on a terminal (rc, progress draws, pass lines): %r in a pass of %.2f s, with --quiet %r"
          % (counts[0], seconds, counts[1]))


def check_bench_progress_on_terminal(tmp, data):
    """bench draws each figure's runs on a terminal as they end (it said
    nothing until the figure was done: minutes for resnet34 on a CPU),
    erased before the figure's own line; a log under 30 s gets none."""
    args = ["bench", "--device", "cpu", "--models", "lenet", "--cascades", "lenet:alexnet_shallower",
            "--thresholds", "0.9", "--images", "256", "--runs", "3"]
    rc, shown = terminal_stderr(args, tmp)
    want = ["lenet batch 256: warm-up 1 of 1,", "lenet batch 256: run 1 of 3,", "lenet batch 256: run 3 of 3,",
            "lenet -> alexnet_shallower @ 0.9: run 3 of 3,"]
    missing = [w for w in want if w not in shown]
    erased = shown.count("\r\033[K  lenet ") == 2  # the erase, then each figure's line
    check(rc == 0 and not missing and erased, "bench progress on a terminal: exit %d, missing %r, figure lines "
          "after an erase: %s, shown %r" % (rc, missing, erased, shown[-400:]))
    r = run(args)  # the plan first (it said nothing of the bench's size), then the two figures
    lines = r.stderr.splitlines()
    plan = "cascade bench: 1 model alone, 1 cascade at 1 threshold; 256 images a run, 1 warm-up and 3 timed runs of each"
    check(r.returncode == 0 and " of 3," not in r.stderr and len(lines) == 3 and lines[0] == plan,
          "bench progress in a log: exit %d, stderr %r" % (r.returncode, r.stderr))


def check_progress_interval_on_terminal(tmp, data):
    """--progress-interval holds on a terminal too (it was always 0.25 s
    there): with 30 s, a run of a few seconds draws its line at the start and
    the end only; without it, it redraws every 0.25 s."""
    counts = []
    for interval in (["--progress-interval", "30"], []):
        rc, shown = terminal_stderr(["run", "--device", "cpu", "--cheap", "alexnet_shallower", "--full", "none",
                                     "--limit", "3000", "--chunk", "64"] + interval, tmp)
        counts.append(shown.count("img/s"))
    check(counts[0] <= 2 and counts[1] > counts[0], "progress on a terminal: %d lines drawn with "
          "--progress-interval 30, %d without" % tuple(counts))


def check_progress_fits_terminal(tmp, data):
    """On a terminal the progress line fits its width (a 135-column line
    wrapped on an 80-column one, and every redraw left a line behind): on 60
    columns each redraw is at most 59, the intervals dropped first; a model
    alone shows no deferred fraction (it defers nothing), and the ETA of a
    --time-budget run is at most the budget's time left."""
    rc, shown = terminal_stderr(["run", "--device", "cpu", "--cheap", "lenet", "--full", "alexnet_shallower", "--limit",
                                 "3000", "--chunk", "64", "--watch-class", "cat"], tmp, columns=60)
    draws = [d.split("\033[K")[0] for d in shown.split("\r") if "img/s" in d]
    widest = max((len(d) for d in draws), default=0)
    check(rc == 0 and draws and widest <= 59, "progress on 60 columns: %d draws, the widest %d: %r" % (
        len(draws), widest, max(draws, key=len) if draws else ""))
    feed = os.path.join(tmp, "budget.jsonl")
    rc, shown = terminal_stderr(["run", "--device", "cpu", "--cheap", "alexnet_shallower", "--full", "none", "--limit",
                                 "3000", "--chunk", "64", "--time-budget", "1", "--progress-json", feed], tmp, columns=200)
    draws = [d.split("\033[K")[0] for d in shown.split("\r") if "img/s" in d]
    etas = [float(d.split("ETA ")[1].split("s")[0]) for d in draws if "ETA " in d]
    etas += [json.loads(l)["eta_s"] or 0 for l in open(feed)] if os.path.exists(feed) else [1e9]  # (the feed's too)
    check(rc == 0 and draws and not any("deferred" in d for d in draws) and etas and max(etas) <= 1,
          "a model alone under a 1 s budget: ETAs %s, lines %r" % (etas, draws[-1:]))
    if os.path.exists(feed):
        os.unlink(feed)


def check_progress_lines(tmp, data):
    """--progress-json ends with the final state, once; its deferred and
    accuracy objects are the final report's, key for key (the feed said
    "value" where the report says "fraction", and gave no counts)."""
    log, report = os.path.join(tmp, "progress.jsonl"), os.path.join(tmp, "progress-final.json")
    r = run(["run", "--quiet", "--device", "cpu", "--cheap", "lenet", "--full", "alexnet_shallower", "--limit", "300",
             "--progress-json", log, "--progress-interval", "0", "--json", report])
    lines = open(log).read().splitlines() if r.returncode == 0 else []
    check(lines and json.loads(lines[-1])["processed"] == 300 and all(a != b for a, b in zip(lines, lines[1:])),
          "progress-json: %d lines, the last twice: %s" % (len(lines), len(lines) > 1 and lines[-1] == lines[-2]))
    if lines:
        last, final = json.loads(lines[-1]), json.load(open(report))
        for key in ("deferred", "accuracy"):
            check(last.get(key) == final[key], "progress-json's last %s %r, the report's %r" % (key, last.get(key),
                                                                                           final[key]))


def check_progress_rate(tmp, data):
    """The live rate and ETA are of the images screened, so the first update of
    a cascade is not ~1 img/s (its final prefix waits a whole expensive batch
    for the first deferred image: 1.7 img/s and an ETA of 300 s for a 1 s run
    before); an update comes after every chunk, with "screened" >= "processed"."""
    log, rep = os.path.join(tmp, "rate.jsonl"), os.path.join(tmp, "rate.json")
    r = run(["run", "--quiet", "--device", "cpu", "--cheap", "alexnet_shallower", "--full", "alexnet", "--limit", "512",
             "--chunk", "64", "--batch", "64", "--progress-json", log, "--progress-interval", "0", "--json", rep])
    # (chunks and batch pinned: the default chunk grows with the cores, 512 on 16, one chunk for the whole run)
    lines = [json.loads(l) for l in open(log).read().splitlines()] if r.returncode == 0 else []
    final = json.load(open(rep))["images_per_s"] if r.returncode == 0 else 0
    first = lines[0] if lines else {}
    check(len(lines) >= 2 and first.get("processed", 512) < 512 and first.get("images_per_s", 0) >= final / 5
          and first.get("eta_s", 1e9) <= 5 * json.load(open(rep))["elapsed_s"]
          and all(l.get("screened", -1) >= l["processed"] for l in lines),
          "progress rate: %d updates, the first %r img/s and ETA %r s for a run of %.0f img/s; screened %r" % (
              len(lines), first.get("images_per_s"), first.get("eta_s"), final,
              [(l.get("screened"), l["processed"]) for l in lines]))
    for f in (log, rep):
        if os.path.exists(f):
            os.unlink(f)


def expect_usage_error(what, args, want, tmp, untouched):
    before = {p: open(p, "rb").read() for p in untouched}
    r = run(args)
    lines = [l for l in r.stderr.splitlines() if l.strip() and not l.startswith("notice:")]
    check(r.returncode == 2 and len(lines) == 1 and want in lines[0], "%s: rc %d, %r" % (what, r.returncode, lines))
    check(all(open(p, "rb").read() == b for p, b in before.items()), "%s: an input was changed" % what)
    check(not [f for f in os.listdir(tmp) if ".tmp." in f or f.startswith("new-")], "%s: a file was left" % what)


def check_collisions(tmp, data):
    weights = os.path.join(tmp, "lenet.safetensors")
    shutil.copy(os.path.join(assets, "weights", "lenet.safetensors"), weights)
    link = os.path.join(tmp, "data-link.bin")
    os.symlink(data, link)
    new = os.path.join(tmp, "new-out")
    expect_usage_error("run: --output is the data", ["run"] + LENET + ["--data", data, "--output", data],
                       "is also the --data file", tmp, [data])
    expect_usage_error("run: --output is a link to the data", ["run"] + LENET + ["--data", data, "--output", link],
                       "is also the --data file", tmp, [data])
    expect_usage_error("run: --json is the weights", ["run", "--cheap", weights, "--full", "none", "--data", data,
                                                      "--quiet", "--json", weights], "is also the --cheap file", tmp, [weights])
    expect_usage_error("run: --output and --json one new file", ["run"] + LENET + ["--data", data, "--output", new,
                                                                               "--json", new],
                       "is also the --output file", tmp, [])
    # a model's path with a comma is one path for run (it was split as a list: the weights overwritten)
    comma = os.path.join(tmp, "w,1.safetensors")
    shutil.copy(weights, comma)
    expect_usage_error("run: --output is the --cheap file, a comma in its path", [
        "run", "--cheap", comma, "--full", "none", "--quiet", "--device", "cpu", "--data", data, "--output", comma],
        "is also the --cheap file", tmp, [comma])
    os.unlink(comma)
    # one new file spelt two ways (no file yet to compare): its folder's real path and its name
    os.mkdir(os.path.join(tmp, "spelt"))
    expect_usage_error("run: one new file spelt two ways", ["run"] + LENET + [
        "--data", data, "--output", os.path.join(tmp, "spelt", "twice.csv"), "--json",
        os.path.join(tmp, "spelt", "..", "spelt", ".", "twice.csv")], "is also the --output file", tmp, [])
    shutil.rmtree(os.path.join(tmp, "spelt"))
    expect_usage_error("sweep: --csv is the data", ["sweep", "--cheap", "lenet", "--full", "alexnet_shallower",
                                                    "--data", data, "--csv", data], "is also the --data file", tmp, [data])
    expect_usage_error("sweep: --svg and --json one file", ["sweep", "--cheap", "lenet", "--full", "alexnet_shallower",
                                                            "--data", data, "--svg", new, "--json", new],
                       "is also the --svg file", tmp, [])
    expect_usage_error("calibrate: --json is the --test data", ["calibrate", "--cheap", "lenet", "--full",
                                                                "alexnet_shallower", "--target-accuracy", "0.5",
                                                                "--val", data, "--test", data, "--json", data],
                       "is also the --val file", tmp, [data])
    expect_usage_error("bench: --json is a cascade's weights", ["bench", "--device", "cpu", "--models", "none",
                                                                "--cascades", "lenet:" + weights, "--json", weights],
                       "is also the --cascades file", tmp, [weights])
    expect_usage_error("run: two outputs on standard output", ["run"] + LENET + ["--data", data, "--output", "-",
                                                                              "--json", "/dev/stdout"],
                       "is also the --output file", tmp, [])
    fifo = os.path.join(tmp, "twice.fifo")  # a FIFO's reader would get the CSV and the JSON mixed
    os.mkfifo(fifo)
    expect_usage_error("run: --output and --json one FIFO", ["run"] + LENET + ["--data", data, "--output", fifo,
                                                                            "--json", fifo],
                       "is also the --output file", tmp, [])
    expect_usage_error("sweep: --csv and --json one FIFO", ["sweep", "--cheap", "lenet", "--full", "alexnet_shallower",
                                                            "--data", data, "--csv", fifo, "--json", fifo],
                       "is also the --csv file", tmp, [])
    os.unlink(fifo)
    # standard output and standard error on one pipe (2>&1) are the user's merge, not one output named twice
    r = subprocess.run([cascade, "run"] + LENET + ["--data", data, "--output", "/dev/stdout", "--progress-json",
                                                   "/dev/stderr"], cwd=WORK, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    check(r.returncode == 0 and "index,prediction" in r.stdout and '"processed":10' in r.stdout,
          "--output /dev/stdout --progress-json /dev/stderr on one pipe: rc %d %r" % (r.returncode, r.stdout[-200:]))
    r = run(["run"] + LENET + ["--data", data, "--output", "/dev/null", "--json", "/dev/null"])
    check(r.returncode == 0, "/dev/null for two outputs: rc %d %s" % (r.returncode, r.stderr[-200:]))


def check_default_validation(tmp):
    default = os.path.join(assets, "data", "cifar10", "data_batch_5.bin")
    r = run(["calibrate", "--quiet", "--device", "cpu", "--cheap", "lenet", "--full", "alexnet_shallower",
             "--target-accuracy", "0.5", "--val", default, "--limit", "20"])
    check(r.returncode == 0 and "records 5000..5019" in r.stdout,
          "calibrate --val <the default file>: its validation split (rc %d): %s" %
          (r.returncode, [l for l in r.stdout.splitlines() if l.startswith("validation")]))


def check_stop_after_last_image(tmp):
    report = os.path.join(tmp, "stopped.json")
    # 300 images of a cascade: all taken in the first chunks, the budget expires while they are finished
    r = run(["run", "--quiet", "--device", "cpu", "--limit", "300", "--chunk", "300", "--time-budget", "0.05",
             "--json", report])
    j = json.load(open(report)) if r.returncode == 0 else {}
    # the timer's stop, seen by no progress update before the run ended, is still the budget's
    check(j.get("stopped_by") == "time budget" and 0.05 <= (j.get("stop_requested_s") or 0) <= j.get("elapsed_s", 0),
          "budget run: stopped_by %r, requested at %r s, elapsed %r" % (j.get("stopped_by"), j.get("stop_requested_s"),
                                                                     j.get("elapsed_s")))
    if j.get("complete") and j.get("stopped_by") not in (None, "none"):
        check("after the last image was taken" in r.stdout, "a stop after the last image: the summary says so: %r" %
              r.stdout)
    else:
        check(r.returncode == 0, "budget run: rc %d, %s" % (r.returncode, j.get("stopped_by")))
        print("  (the budget stopped this run before its last image: the summary case was not reached)")


def check_report_fields(tmp, data):
    """The run JSON says null where a field does not apply: no threshold for a
    model alone, no seed (and no intervals) for the file's own order, no
    watched class or target-ci without those options; values when they do."""
    report = os.path.join(tmp, "fields.json")
    for args, threshold, seed in ((LENET + ["--order", "file"], None, None),
                                  (["--cheap", "lenet", "--full", "alexnet_shallower", "--quiet", "--device", "cpu",
                                    "--threshold", "0.7", "--seed", "4"], 0.7, 4)):
        r = run(["run", "--data", data, "--json", report] + args)
        j = json.load(open(report)) if r.returncode == 0 else {}
        check(r.returncode == 0 and j.get("threshold", "absent") == threshold and j.get("seed", "absent") == seed,
              "run %s: JSON threshold %r, seed %r (rc %d)" % (" ".join(args[:4]), j.get("threshold", "absent"),
                                                             j.get("seed", "absent"), r.returncode))
        # intervals only for a random order's images (a sample): null for the file's own order
        bounds = [j.get(k, {}).get(b, "absent") for k in ("accuracy", "deferred") for b in ("low", "high")]
        check(all(v is None for v in bounds) if seed is None else all(isinstance(v, float) for v in bounds),
              "run %s: JSON intervals %r" % (" ".join(args[:4]), bounds))
        # a complete random-order run has seen its whole population: its intervals are the values themselves
        exact = [(j[k][v], j[k]["low"], j[k]["high"]) for k, v in (("accuracy", "value"), ("deferred", "fraction"))
                 if seed is not None and j]
        check(all(a == lo == hi for a, lo, hi in exact), "run %s: a complete run's intervals %r are not its values"
              % (" ".join(args[:4]), exact))
        check(j.get("watched", "absent") is None and j.get("target_ci", "absent") is None,
              "run %s: JSON watched %r, target_ci %r" % (" ".join(args[:4]), j.get("watched", "absent"),
                                                        j.get("target_ci", "absent")))
        # what reproduces it: the build, the file and its records, the chunk and the expensive batch
        version = run(["--version"]).stdout.split(",")[0][len("cascade "):]
        geometry = [j.get(k, "absent") for k in ("version", "data", "records", "chunk", "batch")]
        check(geometry[:3] == [version, data, 10] and isinstance(geometry[3], int) and geometry[3] > 0
              and (geometry[4] is None if threshold is None else isinstance(geometry[4], int) and geometry[4] > 0)
              and version.startswith("0.") and "(git " in version,
              "run %s: JSON version, data, records, chunk, batch %r (--version %r)" % (" ".join(args[:4]), geometry,
                                                                                      version))


def check_bench_order(tmp):
    """bench measures each cascade as soon as its models are measured alone
    (one --models does not name, at once), in the order given: a ready one
    waits behind an earlier one not ready. So a bench cut short by a deadline
    has the first cascades (it measured every model alone first); the JSON
    keeps the order given. Each figure lists its timed runs, and its median,
    min and max are theirs (their order, the order run, is not checked)."""
    out = os.path.join(tmp, "order.json")
    r = run(["bench", "--device", "cpu", "--models", "lenet,alexnet_shallower", "--cascades",
             "alexnet_shallow:alexnet_shallow,lenet:lenet,alexnet_shallower:lenet,lenet:alexnet_shallow",
             "--thresholds", "0.9", "--images", "32", "--runs", "4", "--warmup", "0", "--batches", "32", "--json", out])
    seen = [line.split()[0] if " -> " not in line else line.split(" @ ")[0].strip()
            for line in r.stderr.splitlines() if line.startswith("  ")]
    pairs = ["alexnet_shallow -> alexnet_shallow", "lenet -> lenet", "alexnet_shallower -> lenet",
             "lenet -> alexnet_shallow"]
    want = pairs[0:1] + ["lenet"] + pairs[1:2] + ["alexnet_shallower"] + pairs[2:]
    j = json.load(open(out)) if r.returncode == 0 else {}
    listed = [f["model"] for f in j.get("alone", [])] + ["%s -> %s" % (f["cheap"], f["full"]) for f in j.get("cascades", [])]
    check(r.returncode == 0 and seen == want and listed == ["lenet", "alexnet_shallower"] + pairs,
          "bench order: measured %r, JSON %r (rc %d %s)" % (seen, listed, r.returncode, r.stderr[-200:]))
    for f in j.get("alone", []) + j.get("cascades", []):
        ips, name = f["images_per_s"], f.get("model") or f["cheap"] + " -> " + f["full"]
        each = sorted(ips.get("runs", []))
        middle = (each[1] + each[2]) / 2 if len(each) == 4 else 0  # an even count: the two middle runs' mean
        check(len(each) == 4 and len(set(each)) > 1 and abs(ips["median"] - middle) <= 0.1 and
              ips["min"] == each[0] and ips["max"] == each[-1],
              "bench %s: median %s, min %s, max %s of the runs %s" % (name, ips["median"], ips["min"], ips["max"],
                                                                    ips.get("runs")))


def bench_report(tmp, what, args):
    """Runs `cascade bench --device cpu ARGS --json TMP/WHAT.json`: (the result, its JSON, None where it failed)."""
    out = os.path.join(tmp, what + ".json")
    r = run(["bench", "--device", "cpu"] + args + ["--json", out])
    ok = check(r.returncode == 0, "bench %s: rc %d %s" % (what, r.returncode, r.stderr[-200:]))
    return r, json.load(open(out)) if ok else None


def check_bench_figures(tmp):
    """bench's derived figures from its own measured ones: GFLOP/s = 2 x MACs (cascade info) x median; a
    cascade's ideal = 1/(1/T_cheap + p/T_full) with each model's best median over the --batches measured,
    its efficiency = median / ideal. (No test read them: a bench computing them wrong passed every one.)"""
    # (32 first: the best median is then not the last measured, and an ideal from the last batch's fails)
    r, j = bench_report(tmp, "figures", ["--models", "lenet,alexnet_shallower", "--batches", "32,8", "--cascades",
                                         "alexnet_shallower:lenet", "--thresholds", "0.9", "--images", "32", "--runs",
                                         "3", "--warmup", "0"])
    if not j:
        return
    out = os.path.join(tmp, "figures.json")
    macs = {}
    for name in ("lenet", "alexnet_shallower"):
        info = run(["info", name]).stdout
        macs[name] = int(next(l.split()[1] for l in info.splitlines() if l.startswith("MACs/image")))
    best = {}
    for f in j["alone"]:
        median = f["images_per_s"]["median"]
        best[f["model"]] = max(best.get(f["model"], 0), median)
        want = 2 * macs[f["model"]] * median / 1e9
        check(abs(f["gflops"] - want) <= 0.06 + 1e-3 * want,
              "bench %s @%d: GFLOP/s %s, 2 x MACs x median %.3f" % (f["model"], f["batch"], f["gflops"], want))
    check(sorted(f["batch"] for f in j["alone"]) == [8, 8, 32, 32], "bench figures: alone rows %r" % j["alone"])
    for f in j["cascades"]:
        ideal = 1 / (1 / best[f["cheap"]] + f["deferred"] / best[f["full"]])
        median = f["images_per_s"]["median"]
        check(0 < f["deferred"] < 1 and abs(f["ideal_images_per_s"] - ideal) <= 0.1 + 2e-4 * ideal and
              abs(f["efficiency"] - median / f["ideal_images_per_s"]) <= 1e-4 + 1e-3 * f["efficiency"],
              "bench %s -> %s: ideal %s (want %.1f from the best alone medians %s), efficiency %s (median %s)" % (
                  f["cheap"], f["full"], f["ideal_images_per_s"], ideal, best, f["efficiency"], median))
    # its accuracy over every image of a run: 10 images of a 10-record file are a permutation of it, so the
    # count is run's over the file (a count one image short passed)
    ten, pred = os.path.join(tmp, "ten.bin"), os.path.join(tmp, "ten.csv")
    with open(test_batch, "rb") as f:
        open(ten, "wb").write(f.read(10 * 3073))
    r = run(["bench", "--device", "cpu", "--models", "lenet", "--no-cascades", "--images", "10", "--runs", "1",
             "--warmup", "0", "--batches", "10", "--data", ten, "--json", out])
    q = run(["run", "--device", "cpu", "--cheap", "lenet", "--full", "none", "--data", ten, "--quiet", "--output", pred])
    correct = sum(row["prediction"] == row["label"] for row in csv.DictReader(open(pred))) if q.returncode == 0 else -1
    got = json.load(open(out))["alone"][0]["accuracy"] if r.returncode == 0 else None
    check(got is not None and abs(got * 10 - correct) < 1e-6,
          "bench accuracy over a 10-record file: %r, run's %d of 10 (rc %d, %d)" % (got, correct, r.returncode,
                                                                                  q.returncode))


def check_bench_deferred(tmp, ten):
    """bench's deferred fraction is of a timed run's --images images: 10 images of a 10-record file are a
    permutation of it, so its count is run's over the file (a bench giving the kept fraction passed: its
    ideal follows from whatever it reports); a smaller --warmup-images sizes the warm-up alone, so the timed
    figure's deferred and accuracy are those of a bench with no warm-up."""
    pred, out = os.path.join(tmp, "deferred.csv"), os.path.join(tmp, "deferred.json")
    q = run(["run", "--device", "cpu", "--cheap", "lenet", "--full", "alexnet_shallower", "--threshold", "0.9",
             "--data", ten, "--quiet", "--output", pred])
    deferred = sum(row["deferred"] == "1" for row in csv.DictReader(open(pred))) if q.returncode == 0 else -1
    r = run(["bench", "--device", "cpu", "--no-alone", "--cascades", "lenet:alexnet_shallower", "--thresholds", "0.9",
             "--images", "10", "--runs", "1", "--warmup", "0", "--data", ten, "--json", out])
    got = json.load(open(out))["cascades"][0]["deferred"] if r.returncode == 0 else None
    check(got is not None and 0 < deferred < 10 and abs(got * 10 - deferred) < 1e-6,
          "bench deferred over a 10-record file: %r, run's %d of 10 (rc %d, %d)" % (got, deferred, r.returncode,
                                                                                 q.returncode))
    figures = []
    for warm in (["--warmup", "0"], ["--warmup", "1", "--warmup-images", "1"]):
        r = run(["bench", "--device", "cpu", "--no-alone", "--cascades", "lenet:alexnet_shallower", "--thresholds",
                 "0.9", "--images", "64", "--runs", "1", "--json", out] + warm)
        f = json.load(open(out))["cascades"][0] if r.returncode == 0 else {}
        figures.append((r.returncode, f.get("deferred"), f.get("accuracy")))
    check(figures[0] == figures[1] and figures[0][0] == 0 and 0 < figures[0][1] < 1,
          "bench --warmup-images 1: the timed run's deferred and accuracy %r, without a warm-up %r" % (
              figures[1][1:], figures[0][1:]))


def check_bench_odd_median(tmp):
    """An odd number of runs: the median is the middle one (check_bench_order has 4 runs: the mean of the
    middle two). Left to its defaults bench times 5 runs after 1 warm-up, as bench --help says."""
    out = os.path.join(tmp, "odd.json")
    r = run(["bench", "--device", "cpu", "--models", "lenet", "--no-cascades", "--images", "32", "--batches", "32",
             "--runs", "3", "--warmup", "0", "--json", out])
    ips = json.load(open(out))["alone"][0]["images_per_s"] if r.returncode == 0 else {}
    each = sorted(ips.get("runs", []))
    check(len(each) == 3 and len(set(each)) > 1 and ips["median"] == each[1] and ips["min"] == each[0]
          and ips["max"] == each[2], "bench, 3 runs: median %s, min %s, max %s of %s (rc %d)" % (
              ips.get("median"), ips.get("min"), ips.get("max"), ips.get("runs"), r.returncode))
    r = run(["bench", "--device", "cpu", "--models", "lenet", "--no-cascades", "--images", "16", "--batches", "16",
             "--json", out])
    j = json.load(open(out)) if r.returncode == 0 else {}
    runs = [len(a["images_per_s"]["runs"]) for a in j.get("alone", [])]
    check(j.get("runs") == 5 and j.get("warmup") == 1 and runs == [5] and
          "median of 5 runs after 1 warm-up" in r.stdout,
          "bench defaults: runs %r, warmup %r, timed runs listed %r (rc %d)" % (j.get("runs"), j.get("warmup"), runs,
                                                                             r.returncode))


def check_bench_table_matches_json(tmp):
    """bench's table shows the JSON's figures under their headers: each row's median, min, max, GFLOP/s,
    accuracy and share of sgemm (alone), median, min, max, deferred, accuracy, ideal and eff (cascades), as
    rounded; a warm-up of every image names no image count of its own."""
    r, j = bench_report(tmp, "table", ["--models", "lenet,alexnet_shallower", "--batches", "32", "--cascades",
                                       "lenet:alexnet_shallower", "--thresholds", "0.9", "--images", "32", "--runs",
                                       "3", "--warmup", "1"])
    if not j:
        return
    check("after 1 warm-up;" in r.stdout, "bench table, a warm-up of all 32 images: %r" % r.stdout.splitlines()[2])
    rows = {l.split()[0]: l.split() for l in r.stdout.split("model alone", 1)[1].split("\n\n")[0].splitlines()[1:]}
    for f in j["alone"]:
        got, ips = rows.get(f["model"], []), f["images_per_s"]
        want = [f["batch"]] + [ips[k] for k in ("median", "min", "max")] + [f["gflops"], f["accuracy"]]
        share = 100 * f["gflops"] / j["sgemm_gflops"]
        near = len(got) == 9 and all(abs(float(g) - w) <= slack for g, w, slack in  # (the JSON is rounded too)
                                     zip(got[1:7], want, (0, 1, 1, 1, 0.06, 6e-5)))
        check(near and abs(float(got[8].rstrip("%")) - share) <= 1,
              "bench table, %s alone: %r, the JSON's %r and %.1f%% of sgemm" % (f["model"], got[1:], want, share))
    # sgemm bounds a model's GFLOP/s (alexnet_shallower reaches about 85% here): a rate 3x low passed
    shares = [100 * f["gflops"] / j["sgemm_gflops"] for f in j["alone"]]
    check(max(shares) <= 150, "bench: sgemm %s GFLOP/s, the models' shares of it %r%%" % (j["sgemm_gflops"], shares))
    line = [l for l in r.stdout.splitlines() if l.startswith("lenet -> alexnet_shallower")]
    f = j["cascades"][0]
    ips = f["images_per_s"]
    want = [ips[k] for k in ("median", "min", "max")] + [f["deferred"], f["accuracy"], f["ideal_images_per_s"],
                                                         f["efficiency"]]
    got = line[0].split()[4:11] if line else []
    check(len(got) == 7 and all(abs(float(g) - w) <= slack for g, w, slack in
                                zip(got, want, (1, 1, 1, 6e-5, 6e-5, 1, 6e-4))), "bench table, the cascade: %r, the JSON's %r" % (got, want))


def check_bench_runs_in_order(tmp, data):
    """The JSON lists each timed run's images/s in the order run (check_bench_order checks them as a set):
    they are the rates the terminal's progress drew, run 1 first (a run's draw rounds it to 1 img/s)."""
    import re
    out = os.path.join(tmp, "in-order.json")
    rc, shown = terminal_stderr(["bench", "--device", "cpu", "--models", "lenet", "--no-cascades", "--images", "64",
                                 "--batches", "64", "--runs", "6", "--warmup", "0", "--json", out], tmp)
    drawn = [float(v) for v in re.findall(r"lenet batch 64: run \d of 6, (\d+) img/s", shown)]
    listed = json.load(open(out))["alone"][0]["images_per_s"]["runs"] if rc == 0 else []
    check(len(drawn) == 6 and len(listed) == 6 and len(set(drawn)) > 2 and
          all(abs(a - b) <= 1 for a, b in zip(drawn, listed)),
          "bench JSON runs in the order run: %r, the progress drew %r (rc %d)" % (listed, drawn, rc))


def check_progress_while_deferred(tmp):
    """Every image deferred, the expensive batch larger than the run: no image is done until the end, and
    the feed still moves with each chunk screened (a heartbeat only when images were done: one line, at
    the end, after a silent run)."""
    feed = os.path.join(tmp, "heartbeat.jsonl")
    r = run(["run", "--device", "cpu", "--cheap", "lenet", "--full", "alexnet_shallower", "--threshold", "1",
             "--batch", "4096", "--chunk", "16", "--limit", "600", "--progress-json", feed, "--progress-interval",
             "0", "--quiet"])
    lines = [json.loads(l) for l in open(feed)] if r.returncode == 0 else []
    waiting = [l["screened"] for l in lines if l["processed"] == 0]
    check(len(waiting) >= 30 and waiting == sorted(set(waiting)) and lines[-1]["processed"] == 600,
          "progress while every image waits for the expensive batch: rc %d, %d lines, screened %s" % (
              r.returncode, len(lines), waiting[:8]))
    os.unlink(feed)


def check_seeded_order(tmp):
    """run's random order is the documented one (torch_peer.py rebuilds it to measure PyTorch on the same
    images): a shuffle that skipped its last swap, or drew from i instead of i + 1 (Sattolo's, no image in
    its own place), still gave a permutation and passed every other test."""
    out = os.path.join(tmp, "order.csv")
    for seed in (1, 3, 7):  # (seed 3's last swap moves its first two images: the shuffle's end is seen too)
        r = run(["run", "--device", "cpu", "--cheap", "lenet", "--full", "none", "--limit", "300", "--seed",
                 str(seed), "--quiet", "--output", out])
        got = [int(row["index"]) for row in csv.DictReader(open(out))] if r.returncode == 0 else []
        want = shuffled_order(10000, seed)[:300]
        check(got == want, "run --seed %d: order %s..., the documented one %s..." % (seed, got[:6], want[:6]))
    os.unlink(out)


def csv_file_rows(path):
    return [row for row in csv.DictReader(open(path))]


def check_range(tmp):
    """run --range FIRST:END: records FIRST..END-1 alone, in the file's order or the seeded one over the
    range, each row that of the whole run's with the file's record number as its index; the JSON names the
    range; shards in file order joined are the whole file's rows; a bad label in the range is named by its
    number in the file, one outside it is never read; a range not in the file is refused (exit 2)."""
    g = golden.Golden()
    whole, part = os.path.join(tmp, "whole.csv"), os.path.join(tmp, "part.csv")
    report = os.path.join(tmp, "part.json")
    r = run(["run"] + LENET + ["--order", "file", "--output", whole])
    rows = {int(row["index"]): row for row in csv_file_rows(whole)} if r.returncode == 0 else {}
    r = run(["run"] + LENET + ["--order", "file", "--range", "100:400", "--output", part, "--json", report])
    got = csv_file_rows(part) if r.returncode == 0 else []
    same = lambda a, b: all(a[k] == b[k] for k in ("prediction", "deferred", "label")) and \
        abs(float(a["confidence"]) - float(b["confidence"])) < 1e-5
    check([int(row["index"]) for row in got] == list(range(100, 400)) and
          all(same(row, rows.get(int(row["index"]), {})) and int(row["label"]) == g.labels[int(row["index"])]
              for row in got), "run --range 100:400 --order file: rows 100..399 as in the whole run: rc %d, %s" % (
                  r.returncode, [row["index"] for row in got[:3]]))
    j = json.load(open(report)) if r.returncode == 0 else {}
    check(j.get("records") == 10000 and j.get("range") == {"first": 100, "end": 400} and j.get("total") == 300 and
          j.get("processed") == 300, "run --range: JSON records %s, range %s, total %s" % (
              j.get("records"), j.get("range"), j.get("total")))
    check("range       records 100..399 of 10000" in r.stdout, "run --range: the summary names it: %r" % r.stdout)
    r = run(["run"] + LENET + ["--range", "100:400", "--seed", "3", "--limit", "50", "--output", part])
    got = [int(row["index"]) for row in csv_file_rows(part)] if r.returncode == 0 else []
    want = [100 + i for i in shuffled_order(300, 3)[:50]]
    check(got == want, "run --range 100:400 --seed 3 --limit 50: the seeded order of the range, %s..., is %s..." % (
        got[:5], want[:5]))
    r = run(["run"] + LENET + ["--range", "100:110", "--limit", "50", "--output", part, "--json", report])
    j = json.load(open(report)) if r.returncode == 0 else {}
    got = sorted(int(row["index"]) for row in csv_file_rows(part)) if r.returncode == 0 else []
    check(got == list(range(100, 110)) and j.get("total") == 10 and j.get("complete") is True and
          "images      10 of 10\n" in r.stdout, "run --range 100:110 --limit 50: all 10 records, complete: %s, total "
          "%s, complete %s" % (got, j.get("total"), j.get("complete")))
    data = os.path.join(tmp, "two-thousand.bin")
    with open(test_batch, "rb") as src, open(data, "wb") as dst:
        dst.write(src.read(2000 * 3073))
    cascade_args = ["--cheap", "lenet", "--full", "alexnet_shallower", "--quiet", "--device", "cpu", "--data", data,
                    "--order", "file"]
    r = run(["run"] + cascade_args + ["--output", whole])
    joined = []
    for shard in ("0:700", "700:1501", "1501:2000"):
        s = run(["run"] + cascade_args + ["--range", shard, "--output", part])
        joined += csv_file_rows(part) if s.returncode == 0 else []
    rows = csv_file_rows(whole) if r.returncode == 0 else []
    check(len(rows) == 2000 and len(joined) == 2000 and all(a["index"] == b["index"] and same(a, b)
                                                            for a, b in zip(rows, joined)),
          "run --range: three shards' rows joined are the whole run's (%d rows, %d joined, %d deferred)" % (
              len(rows), len(joined), sum(row["deferred"] == "1" for row in rows)))
    with open(data, "r+b") as f:
        f.seek(1600 * 3073)
        f.write(b"\x0c")
    r = run(["run"] + cascade_args + ["--range", "1500:1700", "--output", part])
    check(r.returncode == 1 and "record 1600 has label 12" in r.stderr,
          "run --range 1500:1700 over a bad label at 1600: rc %d %r" % (r.returncode, r.stderr.strip()[-200:]))
    r = run(["run"] + cascade_args + ["--range", "0:1600", "--output", part])
    check(r.returncode == 0, "run --range 0:1600 with a bad label at 1600, unread: rc %d %r" % (
        r.returncode, r.stderr.strip()[-200:]))
    for bad, says in (("10:10", "end 10 is not above first 10"), ("1990:2001", "records 1990..2000 are not all in"),
                      ("2000:2001", "not all in"), ("5", "is not FIRST:END"), ("-1:5", "outside"), ("a:b", "--range")):
        r = run(["run"] + cascade_args + ["--range", bad])
        check(r.returncode == 2 and says in r.stderr and len(r.stderr.strip().splitlines()) == 1,
              "run --range %s: exit 2 saying %r: rc %d %r" % (bad, says, r.returncode, r.stderr.strip()))
    for f in (whole, part, report, data):
        if os.path.exists(f):
            os.unlink(f)


def check_no_image_yet(tmp, data):
    """A run stopped before its first image (the start-up stop that blas_tune's re-exec carries in
    CASCADE_EARLY_STOP, here without the re-exec): exit 130, and its JSONs give null, not 0, for the
    fractions and their intervals, and for the progress line's eta_s (it wrote -1)."""
    report, log = os.path.join(tmp, "none-yet.json"), os.path.join(tmp, "none-yet.jsonl")
    env = dict(os.environ, CASCADE_BLAS_TUNE="0", CASCADE_EARLY_STOP="I")
    r = run(["run", "--cheap", "lenet", "--full", "alexnet_shallower", "--quiet", "--device", "cpu", "--data", data,
             "--watch-class", "cat", "--json", report, "--progress-json", log], env=env)
    if not check(r.returncode == 130, "run stopped before its first image: rc %d %s" % (r.returncode, r.stderr[-200:])):
        return
    j, lines = json.load(open(report)), [json.loads(l) for l in open(log)]
    fields = [j["deferred"][k] for k in ("fraction", "low", "high")] + [j["accuracy"][k] for k in ("value", "low", "high")]
    fields += [j["watched"][k] for k in ("share", "low", "high")]
    last = lines[-1] if lines else {}
    fields += [last.get("eta_s", "absent"), last.get("deferred", {}).get("fraction", "absent")]
    fields += [c.get("share", "absent") for c in last.get("classes", {}).values()]
    check(j["processed"] == 0 and lines and all(v is None for v in fields),
          "run stopped before its first image: processed %s, fields %s" % (j["processed"], fields))
    shown = [l for l in r.stdout.splitlines() if l.startswith(("deferred", "watched"))]
    check(shown == ["deferred    - (0 images, 0 expensive batches)", "watched     cat: - (no image processed)"],
          "run stopped before its first image: summary %s" % shown)


def check_confidence_digits(tmp):
    """The CSV's confidence is the float32 itself (9 digits): a reader can check that no row kept by the cheap
    model is below the threshold (with %.6f, 0.960972 showed a confidence of 0.96097207 kept at 0.9609721)."""
    csv_path, threshold = os.path.join(tmp, "digits.csv"), 0.9609721
    r = run(["run", "--cheap", "lenet", "--full", "alexnet_shallower", "--quiet", "--device", "cpu", "--limit", "300",
             "--threshold", str(threshold), "--output", csv_path])
    if not check(r.returncode == 0, "run for the confidence digits: rc %d %s" % (r.returncode, r.stderr[-200:])):
        return
    rows = [line.split(",") for line in csv_rows(open(csv_path).read())]  # index,prediction,confidence,deferred,label
    inexact = [row[2] for row in rows if "%.9g" % f32(float(row[2])) != row[2]]
    below = [row for row in rows if row[3] == "0" and float(row[2]) < threshold]
    check(len(rows) == 300 and not inexact and not below,
          "CSV confidences: %d rows, %d not float32's 9 digits (%s), %d kept below the threshold" %
          (len(rows), len(inexact), inexact[:3], len(below)))


def main():
    global WORK
    with tempfile.TemporaryDirectory() as tmp:
        WORK = tmp
        data = os.path.join(tmp, "ten.bin")
        with open(test_batch, "rb") as src, open(data, "wb") as dst:
            dst.write(src.read(10 * 3073))
        for part in (check_links, check_modes, check_stdout, check_pipes_and_closed, check_collisions,
                     check_write_protected, check_fifo_without_reader, check_live_file_kept, check_live_file_restored,
                     check_process_name, check_long_name, check_progress_interval_on_terminal,
                     check_progress_fits_terminal, check_sweep_progress_on_terminal, check_bench_progress_on_terminal,
                     check_progress_lines, check_progress_rate, check_report_fields, check_no_image_yet,
                     check_bench_deferred, check_bench_runs_in_order):
            part(tmp, data)
        check_confidence_digits(tmp)
        check_bench_order(tmp)
        check_bench_odd_median(tmp)
        check_bench_figures(tmp)
        check_bench_table_matches_json(tmp)
        check_seeded_order(tmp)
        check_range(tmp)
        check_progress_while_deferred(tmp)
        check_default_validation(tmp)
        check_stop_after_last_image(tmp)
    return finish("outputs")


if __name__ == "__main__":
    sys.exit(main())
