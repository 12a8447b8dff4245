"""The mutation score of `make mutate`: per target file, and over the non-equivalent mutants.

    python tests/mutation/score.py RESULTS.jsonl --repo SCRATCH_CLONE --equivalent equivalent.txt

RESULTS is mutrun's output (../shared/tools/mutrun). A survivor listed in the equivalent file
(one line each: ``file || source line || change || why``) changes nothing a user could observe
and leaves the score; every other survivor is printed in that format, ready to be killed by a
test or, when it truly is equivalent, listed with its reason. Entries no mutant matches any more
are printed as stale. Exit 1 when a survivor is not listed, else 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

SEP = " || "


def read_results(path: Path) -> list[dict]:
    rows = {}
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["id"]] = row  # a rerun's line replaces an earlier one
    return list(rows.values())


def read_equivalents(path: Path) -> dict[tuple[str, str, str], str]:
    """(file, stripped source line, change) -> why."""
    found = {}
    if not path.exists():
        return found
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(SEP)
        if len(parts) != 4 or not parts[3].strip():
            sys.exit(f"{path}:{n}: expected `file || source line || change || why`")
        found[(parts[0].strip(), parts[1].strip(), parts[2].strip())] = parts[3].strip()
    return found


def key(row: dict, sources: dict[str, list[str]], repo: Path) -> tuple[str, str, str]:
    if row["file"] not in sources:
        sources[row["file"]] = (repo / row["file"]).read_text().splitlines()
    return row["file"], sources[row["file"]][row["line"] - 1].strip(), row["desc"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--repo", type=Path, required=True, help="the tree the mutants were made of")
    ap.add_argument("--equivalent", type=Path, required=True)
    a = ap.parse_args()

    rows = read_results(a.results)
    listed = read_equivalents(a.equivalent)
    sources: dict[str, list[str]] = {}
    by_file: dict[str, Counter] = defaultdict(Counter)
    unlisted, matched = [], set()
    for row in rows:
        status = row["status"]
        if status == "survived":
            k = key(row, sources, a.repo)
            if k in listed:
                status = "equivalent"
                matched.add(k)
            else:
                unlisted.append((k, row))
        elif status not in ("killed", "timeout"):
            status = "other"  # the same program (`return []` -> `[]`) or a splice error
        by_file[row["file"]][status] += 1

    head = f"{'file':32} {'run':>5} {'killed':>6} {'survived':>8} {'equiv':>5} {'other':>5} {'score':>6}"
    print(head)
    total: Counter = Counter()
    for name in sorted(by_file):
        c = by_file[name]
        total.update(c)
        print(_row(name, c))
    print(_row("total", total))
    print(
        "score = (killed + timed out) / (run - other - equivalent); other = the same program "
        "or a splice error; survived = not listed as equivalent"
    )
    for k, row in sorted(unlisted, key=lambda x: (x[0][0], x[1]["line"])):
        print(f"\nsurvivor {row['file']}:{row['line']} (covering tests: {row.get('covering_tests')})")
        print(f"  {k[0]}{SEP}{k[1]}{SEP}{k[2]}{SEP}<why it is equivalent>")
    stale = sorted(set(listed) - matched)
    for k in stale:
        print(f"\nlisted but no survivor matches it (killed, not run, or the line changed): {SEP.join(k)}")
    return 1 if unlisted else 0


def _row(name: str, c: Counter) -> str:
    run = sum(c.values())
    judged = c["killed"] + c["timeout"] + c["survived"]
    score = (c["killed"] + c["timeout"]) / judged if judged else 1.0
    return (
        f"{name:32} {run:5} {c['killed'] + c['timeout']:6} {c['survived']:8} "
        f"{c['equivalent']:5} {c['other']:5} {score:6.1%}"
    )


if __name__ == "__main__":
    sys.exit(main())
