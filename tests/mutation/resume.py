"""What `make mutate` keeps of an earlier run before it resumes into the same results.

    python tests/mutation/resume.py TREE RESULTS.jsonl SELECTION...

TREE is the scratch copy the run is about to mutate; SELECTION is what `make mutate` was told to
mutate and run (targets, tests, deselected tests), one word each. Two keys are kept beside
RESULTS: one of the code (every file of TREE outside tests/, the docs and the Makefile aside,
and the selection), one of the tests. Then:

- nothing changed: every result is kept (an interrupted run goes on where it stopped);
- only tests changed: the killed mutants are kept, since a test added never brings one back,
  and every other mutant runs again; a test that was weakened or removed can: then run afresh
  (MUTATE_FRESH=1);
- the code or the selection changed: the results are moved aside (RESULTS.old) and the run
  starts afresh, since a mutant is named by its place in its file.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

KEPT_WHEN_TESTS_CHANGE = {"killed", "timeout", "identical"}


def tree_keys(tree: Path, selection: list[str]) -> dict[str, str]:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=tree,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    code, tests = hashlib.sha256(), hashlib.sha256()
    code.update("\0".join(selection).encode())
    for name in sorted(n.decode() for n in listed if n):
        if name.endswith(".md") or name == "Makefile":  # the selection stands for the Makefile
            continue
        digest = tests if name.startswith("tests/") else code
        digest.update(name.encode() + b"\0" + (tree / name).read_bytes() + b"\0")
    return {"code": code.hexdigest()[:16], "tests": tests.hexdigest()[:16]}


def main() -> int:
    tree, results, selection = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    state = results.with_suffix(".keys.json")
    new = tree_keys(tree, selection)
    old = json.loads(state.read_text()) if state.exists() else None
    if results.exists() and results.stat().st_size:
        if old is None or old["code"] != new["code"]:
            results.replace(results.with_suffix(".jsonl.old"))
            print(f"make mutate: the code or the selection changed: starting afresh "
                  f"(the earlier results are in {results}.old)")
        elif old["tests"] != new["tests"]:
            rows = [json.loads(x) for x in results.read_text().splitlines() if x.strip()]
            kept = [r for r in rows if r["status"] in KEPT_WHEN_TESTS_CHANGE]
            results.write_text("".join(json.dumps(r) + "\n" for r in kept))
            print(f"make mutate: only tests changed: keeping {len(kept)} killed mutants, running "
                  f"the other {len(rows) - len(kept)} again")
        else:
            print(f"make mutate: resuming {results}")
    state.write_text(json.dumps(new))
    return 0


if __name__ == "__main__":
    sys.exit(main())
