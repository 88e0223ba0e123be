"""Reference for the kernel benchmark: the NNGP + NTK recursion of a ReLU MLP in vectorised numpy
(the NNGP recursion of Lee et al. 2018 and the NTK recursion of Jacot et al. 2018, with the arc-cosine
closed forms of Cho & Saul 2009), timed on the same inputs as lmech.

usage: python3 nngp_ntk_numpy.py X.npy DEPTH SW2 SB2 [OUT.npy]
"""
import sys, time
import numpy as np

x = np.load(sys.argv[1]); depth = int(sys.argv[2]); sw2 = float(sys.argv[3]); sb2 = float(sys.argv[4])
t0 = time.perf_counter()
k = sb2 + sw2 * (x @ x.T) / x.shape[1]
t = k.copy()
for _ in range(depth):
    d = np.sqrt(np.diag(k))
    norm = np.outer(d, d)
    c = np.clip(k / norm, -1.0, 1.0)
    np.fill_diagonal(c, 1.0)
    theta = np.arccos(c)
    e = norm * (np.sin(theta) + (np.pi - theta) * c) / (2 * np.pi)
    ed = (np.pi - theta) / (2 * np.pi)
    k = sb2 + sw2 * e
    t = k + sw2 * ed * t
elapsed = time.perf_counter() - t0
if len(sys.argv) > 5:
    np.save(sys.argv[5], t)
print(f"{elapsed:.3f}")
