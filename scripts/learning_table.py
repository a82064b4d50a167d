"""Run every recipe's learning check and write the results into the README's recipe table.

    python scripts/learning_table.py [--jobs 2] [--only dcgan,wgan-gp]
    python scripts/learning_table.py --only a,b --results /tmp/mine.json --no-readme
    python scripts/learning_table.py --merge /tmp/mine.json   # into docs/, then the README
    python scripts/learning_table.py --run table-2026-12    # one run, resumable (make table)

Writes docs/learning_checks.json (all figures) and replaces the block between the
`<!-- recipes:begin -->` and `<!-- recipes:end -->` markers in README.md. Each result records
the CPU it ran on, its date and, with ``--run NAME``, the run it belongs to: a second call with
the same NAME skips the checks that run already measured at today's settings, so a run of all
53 checks (hours on 2 cores) resumes where it stopped. The block opens with a line saying which
run, CPU and dates its rows come from.

Each check runs as ``scripts/check_robustness.py`` runs it (seed 0, one thread, this CPU's
default kernels), so each measurement is also saved there as that check's seed-0 ``default``
run: the table's run and the robustness record's first seed are one measurement, not two.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JSON_PATH = ROOT / "docs" / "learning_checks.json"
README = ROOT / "README.md"
BEGIN, END = "<!-- recipes:begin -->", "<!-- recipes:end -->"


def _run(name: str, run: str) -> dict:
    import datetime
    import sys

    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(ROOT / "scripts"))
    from check_robustness import cpu_model

    from ganarium.checks import CHECK_KINDS, bar_margins, run_check

    result = run_check(name, seed=0).to_dict()
    result.update(cpu=cpu_model(), date=datetime.date.today().isoformat(), run=run)
    judge = CHECK_KINDS.get(result["kind"]).judge
    result["margins"] = bar_margins(judge, result["before"], result["after"], result["bars"])
    return result


def _record_robustness(name: str, result: dict) -> None:
    """Save a table measurement as the check's seed-0 default-kernel run in
    docs/robustness.json, as check_robustness.py saves its own."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import check_robustness as robustness

    run = {k: result[k] for k in ("before", "after", "bars", "failures", "steps", "seconds")}
    run.update(margins=result["margins"], check=robustness.check_signature(name))
    robustness.record_run(name, 0, "default", run)


def _same_settings(stored: dict, name: str) -> bool:
    """Whether a stored result is of today's check for ``name`` (kind, steps, bars)."""
    from ganarium.checks import learning_check

    check = learning_check(name)
    return (stored.get("kind"), stored.get("steps"), stored.get("bars")) == (
        check.kind,
        check.steps,
        dict(check.bars),
    )


def provenance(results: dict[str, dict]) -> str:
    """One line: the runs, CPUs and dates the table's rows come from."""
    groups: dict[tuple[str, str], list[str]] = {}
    for res in results.values():
        key = (res.get("run") or "earlier runs", res.get("cpu") or "CPU not recorded")
        groups.setdefault(key, []).append(res.get("date") or "")
    parts = []
    for (run, cpu), dates in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        known = sorted(d for d in dates if d)
        when = (
            f", {known[0]}" + (f" to {known[-1]}" if known[-1] != known[0] else "") if known else ""
        )
        parts.append(f"{len(dates)} from {run} ({cpu}{when})")
    return f"Rows measured: {'; '.join(parts)} (scripts/learning_table.py, make table)."


def _fmt(d: dict) -> str:
    def one(k, v):
        if k in ("modes_covered", "classes_covered"):
            return f"{k.replace('_', ' ')} {v:.0f}"
        return f"{k.replace('_', ' ')} {v:.3g}"

    return ", ".join(one(k, v) for k, v in d.items())


def render_table(results: dict[str, dict]) -> str:
    from ganarium.checks import CHECK_KINDS
    from ganarium.models import RECIPES

    lines = [
        "| recipe | paper (year) | family | learning check (CPU) | untrained | trained | real data | pass |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in sorted(
        RECIPES.names(), key=lambda n: (RECIPES.meta(n)["family"], RECIPES.meta(n)["year"], n)
    ):
        meta = RECIPES.meta(name)
        r = results.get(name)
        check = meta["check"]
        bars = CHECK_KINDS.get(check.kind).describe(dict(check.bars)) if check else "none"
        if check and check.reason:
            bars += f" — note: {check.reason}"
        where = f"{check.data} {check.data_options.get('size', '')}".strip() if check else ""
        slow = ", slow: make test-all" if check and check.slow else ""
        if r is None:
            lines.append(
                f"| `{name}` | {meta['paper']} ({meta['year']}) | {meta['family']} | {bars} ({where}) | not run | | | |"
            )
            continue
        ok = "yes" if r["passed"] else "**no**"
        floor = _fmt(r.get("floor") or {}) or "—"
        lines.append(
            f"| `{name}` | {meta['paper']} ({meta['year']}) | {meta['family']} | {bars} "
            f"({where}, {r['steps']} steps{slow}) | {_fmt(r['before'])} | {_fmt(r['after'])} | {floor} "
            f"| {ok} |"
        )
    return "\n".join(lines)


def write_readme(results: dict[str, dict]) -> None:
    text = README.read_text()
    block = f"{BEGIN}\n{provenance(results)}\n\n{render_table(results)}\n{END}"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no {BEGIN} ... {END} block")
    README.write_text(pattern.sub(lambda _: block, text))


def _add_floors(results: dict[str, dict], path: Path) -> None:
    from ganarium.checks import CHECK_KINDS, learning_check, real_data_floor

    for name, res in results.items():
        if "floor" in res:
            continue
        check = learning_check(name)
        floor = real_data_floor(CHECK_KINDS.get(check.kind), check)
        res["floor"] = {k: v for k, v in floor.items() if k in res["after"]}
        print(f"{name:16s} floor {_fmt(res['floor']) or '(none for this measure)'}", flush=True)
    path.write_text(json.dumps(results, indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated recipes to re-run (others kept)")
    ap.add_argument("--render-only", action="store_true", help="rewrite the README from the JSON")
    ap.add_argument(
        "--floors",
        action="store_true",
        help="add the real-data floor to recorded results that lack it (no training: the floor "
        "is the check's measure on real data, independent of the recipe's run)",
    )
    ap.add_argument("--results", type=Path, default=JSON_PATH, help="the results JSON to update")
    ap.add_argument("--no-readme", action="store_true", help="only write the results JSON")
    ap.add_argument("--merge", type=Path, nargs="*", default=[], help="results JSONs to merge in")
    ap.add_argument(
        "--run",
        default="",
        help="name this run: results carry it, and a later call with the same name skips the "
        "checks it already measured at today's settings (resume)",
    )
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"  # as check_robustness.py runs a check (numpy's BLAS too)
    from ganarium.models import RECIPES

    path = args.results
    results = json.loads(path.read_text()) if path.exists() else {}
    for extra in args.merge:
        results.update(json.loads(extra.read_text()))
    if args.merge:
        args.render_only = True
        path.write_text(json.dumps(dict(sorted(results.items())), indent=1) + "\n")
    if args.floors:
        _add_floors(results, path)
    elif not args.render_only:
        names = [n for n in args.only.split(",") if n] or RECIPES.names()
        if args.run:  # resume: what this run measured at today's settings stays
            done = [
                n
                for n in names
                if results.get(n, {}).get("run") == args.run and _same_settings(results[n], n)
            ]
            names = [n for n in names if n not in done]
            print(f"run {args.run}: {len(done)} checks already measured, {len(names)} to go")
        path.parent.mkdir(exist_ok=True)
        with ProcessPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(_run, name, args.run): name for name in names}
            for future in as_completed(futures):
                name = futures[future]
                try:
                    res = future.result()
                except Exception as exc:  # one broken check must not lose the others' figures
                    print(f"{name:16s} ERROR {type(exc).__name__}: {exc}", flush=True)
                    continue
                _record_robustness(name, res)
                res.pop("margins")
                results[name] = res
                print(
                    f"{name:16s} {'PASS' if res['passed'] else 'FAIL'}  {res['seconds']:.0f}s  "
                    f"{_fmt(res['before'])} -> {_fmt(res['after'])}",
                    flush=True,
                )
                results = {k: results[k] for k in sorted(results) if k in RECIPES.names()}
                path.write_text(json.dumps(results, indent=1) + "\n")  # after every check
    if args.no_readme:
        print(f"updated {path}")
        return
    write_readme(results)
    print(f"updated {README.relative_to(ROOT)} and {path}")


if __name__ == "__main__":
    main()
