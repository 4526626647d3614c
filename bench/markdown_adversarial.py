#!/usr/bin/env python
"""Benchmark: rendering hostile Markdown of the longest allowed length (issue 13, finding 1).

    .venv/bin/python bench/markdown_adversarial.py            # full lengths, 5 runs each
    .venv/bin/python bench/markdown_adversarial.py --quick    # a tenth of the lengths (CI)

Each input is rendered with `core.markdown.render_markdown` (cmark-gfm, then the nh3
allow-list, then the depth guard) at the longest length the app accepts for it: 50,000
characters for proposal texts and comments, 20,000 for descriptions. Reported: median,
min and max of the runs; beside it the bare limit (cmark-gfm alone, no sanitising) and,
where Python-Markdown (the renderer before) is installed, that baseline on the first
4,000 characters only (it needs seconds at full length: 3.3 s for 4,000 `[`, ~80 s for
20,000). Budget: each input under 100 ms (median); the script exits 1 when one is over.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

BUDGET_MS = 100.0
TEXT, DESCRIPTION = 50_000, 20_000


def inputs(scale: float) -> dict[str, str]:
    n, d = int(TEXT * scale), int(DESCRIPTION * scale)
    return {
        "open brackets `[`": "[" * n,
        "bracket pairs `[[]]`": "[" * (n // 2) + "]" * (n // 2),
        "link starts `[](`": "[](" * (n // 3),
        "image starts `![`": "![" * (n // 2),
        "emphasis runs `*a`": "*a" * (n // 2),
        "underscore runs `_a`": "_a" * (n // 2),
        "nested emphasis `*a **b`": "*a **b " * (n // 7),
        "backticks": "`" * n,
        "backtick runs": "`a``" * (n // 4),
        "list nesting": "".join("  " * i + "- x\n" for i in range(n // 200)),
        "quote nesting `>>>`": ">" * n,
        "quote lines": "".join(">" * i + " x\n" for i in range(int(300 * scale**0.5))),
        "link-reference flood": "[a]: /u\n" * (n // 16) + "[a]" * (n // 6),
        "angle brackets `<`": "<" * n,
        "raw HTML `<div>`": "<div>" * (n // 5),
        "entities": "&#1;" * (n // 4),
        "table rows": "|a|b|\n|-|-|\n" + "|x|y|\n" * (n // 6),
        "autolinks": "<http://a>" * (n // 10),
        "strikethrough": "~~a" * (n // 3),
        "mixed `*[`<_`": "*[`<_" * (n // 5),
        "description: brackets": "[" * d,
    }


def timed(render, text: str, runs: int) -> list[float]:
    samples = []
    for _run in range(runs):
        started = time.perf_counter()
        render(text)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the lengths (CI)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "multitude.settings")
    import django

    django.setup()
    import cmarkgfm

    from core.markdown import render_markdown

    try:
        import markdown as baseline
    except ImportError:
        baseline = None
    scale = 0.1 if args.quick else 1.0
    over = []
    print(
        f"{'input':28} {'chars':>7} {'median ms':>10} {'min':>7} {'max':>7} "
        f"{'bare cmark':>10} {'before, 4k chars':>17}"
    )
    for name, text in inputs(scale).items():
        samples = timed(render_markdown, text, args.runs)
        median = statistics.median(samples)
        bare = statistics.median(timed(cmarkgfm.github_flavored_markdown_to_html, text, 3))
        before = "-"
        if baseline is not None:
            before = f"{timed(baseline.markdown, text[:4000], 1)[0]:.1f}"
        print(
            f"{name:28} {len(text):7d} {median:10.1f} {min(samples):7.1f} {max(samples):7.1f} "
            f"{bare:10.1f} {before:>17}"
        )
        if median > BUDGET_MS:
            over.append(name)
    print(f"cpu: {time.process_time():.1f} s for the whole run (one process, no server)")
    if over:
        print(f"FAIL: over {BUDGET_MS:.0f} ms: {', '.join(over)}")
        return 1
    print(f"PASS: every input under {BUDGET_MS:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
