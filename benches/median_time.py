"""The median wall time in seconds of N runs of a command (its output discarded): the
side-by-side scripts' measure of evident's whole command.

Usage: python3 benches/median_time.py N COMMAND [ARG ...]
"""
import subprocess
import sys
import time

n = int(sys.argv[1])
times = []
for _ in range(n):
    t0 = time.perf_counter()
    subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t0)
print(sorted(times)[n // 2])
