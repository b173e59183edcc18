"""pytest configuration shared by the tests and the notebooks (nbval runs each notebook in a kernel that inherits
this process's environment).

One OpenMP thread per process unless the caller chose otherwise. The course's test networks are small, so a second
thread buys little (2-17 % per training step on 2 idle cores, ``benchmarks/speed.py``), while on a loaded machine
OpenMP's threads wait for each other: measured on 2 cores with one other busy process, notebook 07 under nbval took
376 s with torch's default of 2 threads and 16 s with 1.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
