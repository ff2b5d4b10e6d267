"""lmul's number formats and GEMM kernels from Python, bit-identical to the lmul CLI.

    import numpy as np, lmul
    lmul.formats()                                   # the format table (`lmul numerics --list`)
    lmul.quantize(x, "fp8:e4m3")                     # the values the format multiplies
    lmul.matmul(x, w, "lmul:m=4", trans_b=True)      # a Linear layer's forward GEMM, x·wᵀ
    lmul.numerics.error("lmul:m=4", n=100000)        # `lmul numerics error --mul lmul:m=4`
    site = lmul.Site("fp8:e4m3,scale=delayed")      # a site's state (amax history) across calls
    import lmul.torch                                # lmul.torch.Linear, lmul.torch.matmul (needs torch)

Arrays are NumPy float32 (another dtype is a ValueError, never converted silently). An array
whose rows are contiguous (C order, or a 2-D slice of columns) is read in place; any other layout
is copied once into C order; results are new C-order arrays. Bad input raises ValueError with
lmul's one-line message ("lmul: error: ..."). Kernels release the GIL; calls on one Site are
serialised. lmul runs one OpenMP pool shared with OpenBLAS (set_num_threads sets both); the pool
waits passively (OMP_WAIT_POLICY=passive, set here unless given) so that it does not spin
against another library's threads (PyTorch's) between calls.
"""
import os as _os

_os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # read when the OpenMP runtime loads, just below

from ._lmul import (  # noqa: E402
    Site,
    canonical_spec,
    formats,
    get_num_threads,
    matmul,
    numerics,
    quantize,
    set_num_threads,
)

__all__ = ["Site", "canonical_spec", "formats", "get_num_threads", "matmul", "numerics", "quantize",
           "set_num_threads"]
