#!/usr/bin/env python3
"""The README's seed table: how often each gallery claim gets each verdict over several seeds.
Usage: seed-table.py RESULTS_DIR... (each holding the results.db of one `lmech run all --quick --seed S --out DIR`).
Prints a Markdown table, one row per claim, and a last row with the totals."""
import collections, sqlite3, sys

KINDS = ["pass", "fail", "refuted", "not discriminating", "inconclusive"]

def verdicts(db):
    con = sqlite3.connect(db)
    rows = con.execute("""select r.experiment, c.claim_id, c.verdict from claims c join runs r on r.run_id = c.run_id
                          order by r.started_utc""").fetchall()
    return {(e, cid): v for e, cid, v in rows}   # the latest run of each experiment

def main():
    dirs = sys.argv[1:]
    if not dirs: sys.exit(__doc__)
    counts = collections.defaultdict(collections.Counter)
    for d in dirs:
        for key, v in verdicts(f"{d}/results.db").items(): counts[key][v] += 1
    print(f"| claim | {' | '.join(KINDS)} |")
    print("|---|" + "---|" * len(KINDS))
    total = collections.Counter()
    for (e, cid), c in sorted(counts.items()):
        total.update(c)
        print(f"| `{e}/{cid}` | " + " | ".join(str(c[k]) if c[k] else "" for k in KINDS) + " |")
    print("| **all** | " + " | ".join(str(total[k]) for k in KINDS) + " |")
    print(f"\n{len(dirs)} seeds, {len(counts)} claims.")

main()
