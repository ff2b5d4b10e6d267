"""Runs the lmul CLI (LMUL_BINARY) for the tests that compare the module with it."""
import os
import subprocess

import numpy as np

LMUL = os.environ.get("LMUL_BINARY", "lmul")


def run(args, stdin=""):
    """(exit code, stdout, stderr) of `lmul ARGS` with stdin."""
    p = subprocess.run([LMUL, *args], input=stdin, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "OMP_WAIT_POLICY": "passive"})
    return p.returncode, p.stdout, p.stderr


def numbers(lines):
    """stdin text of float32 values, one line each, printed exactly (%.9g round-trips float32)."""
    return "".join(f"{float(v):.9g}\n" for v in lines)


def floats(stdout):
    return np.array([np.float32(s) for s in stdout.split()], dtype=np.float32)
