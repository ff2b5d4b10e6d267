"""ctest's `python` test: the NumPy tests always; the PyTorch tests only where `import torch` works
(skipped otherwise, with the reason printed). Needs PYTHONPATH=<build>/python and LMUL_BINARY (the
lmul CLI the results are compared with); python/CMakeLists.txt sets both."""
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
names = ["test_numpy"]
try:
    import torch  # noqa: F401
    names.append("test_torch")
except Exception as e:  # noqa: BLE001 - any failure to import means: no PyTorch tests here
    print(f"PyTorch tests skipped: `import torch` failed ({type(e).__name__}: {e}); "
          "scripts/install-deps.sh --with-torch installs python3-torch", flush=True)
suite = unittest.defaultTestLoader.loadTestsFromNames(names)
result = unittest.TextTestRunner(verbosity=2).run(suite)
sys.exit(0 if result.wasSuccessful() else 1)
