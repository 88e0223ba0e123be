#!/usr/bin/env python3
"""Compares the claims of two lmech results databases (e.g. `lmech run all --quick --seed 42` before and after a
refactoring): prints every claim whose predicted, measured, stderr, tolerance or verdict differs, and exits 1 if any
does (or if a claim is missing on either side). Usage: compare-results.py OLD/results.db NEW/results.db [--rtol X]"""
import sqlite3, sys

def claims(path):
    con = sqlite3.connect(path)
    rows = con.execute("""select r.experiment, c.claim_id, c.predicted, c.measured, c.stderr, c.tolerance, c.verdict
                          from claims c join runs r on r.run_id = c.run_id order by r.started_utc""").fetchall()
    return {(e, cid): vals for e, cid, *vals in rows}   # the latest run of each experiment wins

def differs(a, b, rtol):
    if a is None or b is None or isinstance(a, str): return a != b
    return abs(a - b) > rtol * max(abs(a), abs(b))

def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rtol = float(sys.argv[sys.argv.index("--rtol") + 1]) if "--rtol" in sys.argv else 0.0
    if len(args) != 2: sys.exit(__doc__)
    old, new = claims(args[0]), claims(args[1])
    names = ["predicted", "measured", "stderr", "tolerance", "verdict"]
    bad = 0
    for key in sorted(old.keys() | new.keys()):
        if key not in old or key not in new:
            print(f"{key[0]}/{key[1]}: only in {'new' if key not in old else 'old'}"); bad += 1; continue
        diffs = [f"{n} {a!r} -> {b!r}" for n, a, b in zip(names, old[key], new[key]) if differs(a, b, rtol)]
        if diffs: print(f"{key[0]}/{key[1]}: " + "; ".join(diffs)); bad += 1
    print(f"{len(old.keys() & new.keys())} claims compared, {bad} differ (relative tolerance {rtol})")
    sys.exit(1 if bad else 0)

main()
