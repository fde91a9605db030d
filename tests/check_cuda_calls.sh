#!/usr/bin/env bash
# check_cuda_calls.sh: every CUDA, cuDNN and cuBLAS status in runtime/ and kernels/ is checked.
#   tests/check_cuda_calls.sh [SOURCE_DIR]      (default: the checkout holding this script)
# A call of cuda*/cudnn*/cublas* (camelCase: cudaMalloc, cudnnCreate, cublasLtMatmul...), of the
# driver API (cu[A-Z]*: cuMemFree...) or of one of our kernel launchers (*_launch, which return the
# launch's cudaError_t) counts as checked when it is
#   - inside one of the checking macros of runtime/gpu/gpu_check.h (CUDA_CHECK, CUDNN_CHECK,
#     CUBLAS_CHECK, GPU_CHECK_GEN, the *_TEARDOWN_CHECKs),
#   - the condition of an if/while/switch, or its own value compared to a status in place, outside
#     its own arguments (`if ((e = cudaFoo()) != cudaSuccess)`, `cudnnFoo() == CUDNN_STATUS_SUCCESS`;
#     not another call's comparison in the same statement: `if (e == cudaSuccess) cudaFoo();`),
#   - the whole of a return (`return cudaGetLastError();`, not `return cudaFoo(), 0;`), or
#   - assigned (`e = cudaFoo();`, `cudaError_t e = cudaFoo();`, also after an if's condition or as
#     a branch of `e = e ? e : cudaFoo();`) and that very variable tested in the next two lines
#     (`if (e`, `e != ...`, `!e`, `return e`, `CHECK(e`, `e ?`, `e &&`), and not assigned again
#     before that test (the first status would be lost).
# cudaGetLastError / cudaPeekAtLastError taken inside cudaGetErrorString for the message that
# reports a failure is its use (any other call's status printed only is not checked).
# Lines of #define are checked too (a call hidden in a macro is still a call).
# `(void)cudaFoo()`, or `(void)e;` right after `e = cudaFoo()`, marks a status ignored on purpose
# (teardown, clearing a non-sticky error): listed, not failed.
# Functions that return no status (cudaGetErrorString, cudnnGetVersion...) are exempt.
# Kernel launches (`<<<...>>>`) must be followed within three lines by a cudaGetLastError or
# cudaPeekAtLastError that is not cast to (void). Exits 1 listing every unchecked call as
# file:line. The compiler checks the rest: CASCADE_MUST_CHECK / KERNEL_MUST_CHECK functions
# whose status is dropped fail the build (-Werror=unused-result).
# tests/cuda_calls_allowlist.txt holds calls known to be unchecked ("path: code", comments
# stripped, whitespace squeezed): they are listed as known on every run but do not fail, so
# that a new unchecked call fails at once while the known ones are fixed; remove an entry
# once its call is checked (stale entries are reported).
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
exec python3 - "$root" <<'PY'
import os, re, sys

root = sys.argv[1]
NO_STATUS = {
    "cudaGetErrorString", "cudaGetErrorName", "cudnnGetErrorString", "cudnnGetVersion", "cudnnGetCudartVersion",
    "cudnnGetMaxDeviceVersion", "cudnnGetLastErrorString", "cublasGetStatusString", "cublasGetStatusName", "cublasLtGetVersion",
    "cublasLtGetCudartVersion", "cudaGetLastError_noop",
}
CALL = re.compile(r"\b((?:cuda|cudnn|cublas)(?:Lt)?[A-Z]\w*|cu[A-Z]\w*|\w+_launch)\s*\(")
CHECK_MACROS = {"CUDA_CHECK", "CUDNN_CHECK", "CUBLAS_CHECK", "GPU_CHECK_GEN", "CUDA_TEARDOWN_CHECK",
                "CUDNN_TEARDOWN_CHECK", "CUBLAS_TEARDOWN_CHECK"}
STATUS_WORDS = re.compile(r"cudaSuccess|CUDNN_STATUS_SUCCESS|CUBLAS_STATUS_SUCCESS|cudaError|CUDNN_STATUS_|CUBLAS_STATUS_")


def strip_comments_and_strings(text):
    """Blanks comments and string/char literals, keeping offsets and newlines."""
    out, i, n = list(text), 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out[i:j] = [ch if ch == "\n" else " " for ch in text[i:j]]
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out[i + 1:j] = [ch if ch == "\n" else " " for ch in text[i + 1:j]]
            i = j + 1
        else:
            i += 1
    return "".join(out)


def enclosing_openers(code, pos):
    """Identifiers in front of each unclosed '(' that encloses pos, innermost first."""
    names, depth, i = [], 0, pos - 1
    while i >= 0 and code[i] not in ";{}":
        ch = code[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                m = re.search(r"(\w+)\s*$", code[:i])
                names.append(m.group(1) if m else "")
            else:
                depth -= 1
        i -= 1
    return names, i + 1


def without_control_header(before):
    """The statement's text before the call, less a leading `if (...)`, `while (...)` or `else`: the status
    another call's comparison tests there is not this call's."""
    m = re.match(r"\s*(else\b\s*)?((if|while)\s*\()?", before)
    if not m.group(2):
        return before[m.end():] if m.group(1) else before
    depth, i = 1, m.end()
    while i < len(before) and depth:
        depth += {"(": 1, ")": -1}.get(before[i], 0)
        i += 1
    return before[i:] if depth == 0 else before


def statement_end(code, pos):
    depth, i = 0, pos
    while i < len(code):
        ch = code[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch in ";{" and depth <= 0:
            return i
        i += 1
    return len(code)


def key(rel, code_line):
    return "%s: %s" % (rel, " ".join(code_line.split()))


def line_of(code, pos):
    return code.count("\n", 0, pos) + 1


def call_end(code, open_paren):
    """Index just past the ')' closing the '(' at open_paren."""
    depth, i = 0, open_paren
    while i < len(code):
        if code[i] == "(":
            depth += 1
        elif code[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(code)


def tested(var, text):
    v = re.escape(var)
    return re.search(r"\b(if|while|switch)\s*\(\s*!?\s*\(?\s*%s\b|\b%s\s*[!=]=|[!=]=\s*%s\b|!\s*%s\b|\breturn\s+%s\s*;"
                     r"|CHECK\w*\s*\(\s*%s\b|\b%s\s*(\?|&&|\|\|)" % ((v,) * 7), text)


def check_file(path, rel, problems, ignored):
    text = open(path, encoding="utf-8", errors="replace").read()
    code = strip_comments_and_strings(text)
    lines = text.split("\n")
    code_lines = code.split("\n")
    for m in CALL.finditer(code):
        name, pos = m.group(1), m.start()
        line = line_of(code, pos)
        src = lines[line - 1].strip()
        if name in NO_STATUS or re.match(r"\s*#\s*(include|pragma|if|ifdef|ifndef|elif|endif|undef)\b", code_lines[line - 1]):
            continue
        openers, start = enclosing_openers(code, pos)
        before = without_control_header(code[start:pos])
        if re.search(r"\b(cudaError_t|KERNEL_MUST_CHECK|void|static|__global__)\s+$", before) or \
                re.search(r"#\s*define\s+$", before):
            continue  # a declaration or definition of the function itself, or the macro's own name
        if any(o in CHECK_MACROS for o in openers) or name in ("cudaGetLastError", "cudaPeekAtLastError") and \
                openers[:1] in (["cudaGetErrorString"], ["cudaGetErrorName"]):
            continue  # (the sticky error taken for the message that reports it; another call's status is not)
        end = statement_end(code, pos)
        stmt = code[start:end]
        after_call = code[call_end(code, m.end() - 1):end]
        if re.match(r"\s*return\b[^,]*?[\s(?:]$", before) and re.fullmatch(r"[\s)]*(:[^,]*)?", after_call) and \
                (re.match(r"\s*return[\s(]*$", before) or re.search(r"[?:]\s*\(*\s*$", before)):
            continue  # the whole return value, also in parentheses or as a branch of ?:
        if re.search(r"\(\s*void\s*\)\s*$", before):
            ignored.append("%s:%d: %s" % (rel, line, src))
            continue
        outside = before + after_call
        # compared itself: in a condition, or its own value (not another's in the same statement) against a status
        compared = re.match(r"[\s)]*[!=]=", after_call) or re.search(r"[!=]=[\s(]*$", before)
        if any(o in ("if", "while", "switch") for o in openers) or compared and STATUS_WORDS.search(outside):
            continue
        a = re.match(r"\s*(?:[\w\s\*]+\s)?(\w+)\s*=\s*$", before)
        if not a and re.fullmatch(r"[\s)]*(:[^,;]*)?", after_call):  # one branch of a ?: assigned to VAR
            a = re.match(r"\s*(?:[\w\s\*]+\s)?(\w+)\s*=(?!=)[^;]*[?:][\s(]*$", before)
            after_call = "" if a else after_call
        if a and not after_call.strip():
            var = a.group(1)
            following = "\n".join(code[end + 1:].split("\n", 3)[:3])  # the rest of its line and the next two
            if re.search(r"\(\s*void\s*\)\s*%s\s*;" % re.escape(var), following):
                ignored.append("%s:%d: %s" % (rel, line, src))
                continue
            test = tested(var, following)
            again = re.search(r"\b%s\s*=(?!=)" % re.escape(var), following)  # overwritten first: lost
            if test and not (again and again.start() < test.start()):
                continue
        problems.append((rel, line, src, "%s status not checked" % name, key(rel, code_lines[line - 1])))
    for m in re.finditer(r">>>\s*\(", code):
        line = line_of(code, m.start())
        end_line = line_of(code, statement_end(code, m.start()))
        window = " ".join(code_lines[end_line - 1:end_line + 3])
        checked = [c for c in re.finditer(r"cuda(GetLastError|PeekAtLastError)\s*\(", window)
                   if not re.search(r"\(\s*void\s*\)\s*$", window[:c.start()])]
        if not checked:
            problems.append((rel, line, lines[line - 1].strip(), "kernel launch not followed by a checked cudaGetLastError",
                             key(rel, code_lines[line - 1])))


problems, ignored, files = [], [], 0
for top in ("runtime", "kernels"):
    for dirpath, _, names in os.walk(os.path.join(root, top)):
        for f in sorted(names):
            if f.endswith((".c", ".cu", ".h", ".cuh", ".cpp")):
                files += 1
                path = os.path.join(dirpath, f)
                check_file(path, os.path.relpath(path, root), problems, ignored)
allow_path = os.path.join(root, "tests", "cuda_calls_allowlist.txt")
allowed = set()
if os.path.exists(allow_path):
    for entry in open(allow_path):
        entry = entry.strip()
        if entry and not entry.startswith("#"):
            allowed.add(" ".join(entry.split()))
for p in ignored:
    print("ignored on purpose (void): " + p)
known = [p for p in problems if p[4] in allowed]
new = [p for p in problems if p[4] not in allowed]
for rel, line, src, why, _ in known:
    print("known (allowlisted) %s:%d: %s  [%s]" % (rel, line, src, why))
for rel, line, src, why, _ in new:
    print("UNCHECKED %s:%d: %s  [%s]" % (rel, line, src, why))
for entry in sorted(allowed - {p[4] for p in problems}):
    print("stale allowlist entry (now checked or gone: remove it): " + entry)
print("check_cuda_calls: %d files in runtime/ and kernels/: %d unchecked (%d new, %d known in the allowlist), "
      "%d ignored on purpose" % (files, len(problems), len(new), len(known), len(ignored)))
sys.exit(1 if new else 0)
PY
