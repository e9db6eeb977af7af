"""Worst-case cost of checking one typed answer: the work the review does on the UI thread.

Builds the largest inputs the checker still accepts (formulas at the node, depth and length bounds,
1000-character numbers, shapes and choices), uses each formula both as a card's answer and as the
typed answer, and prints the slowest checks (best wall time of `--repeat` runs, and the worst CPU
time of one run), each run cold: the parse cache cleared, so both formulas are parsed. The
budget (issue 11) is 50 ms; the bounds in `quizzer.core.checking` keep it there by construction.

    python benchmarks/bench_checking.py
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from quizzer.cards.deck import ChoiceAnswer, ExpressionAnswer, NumericAnswer, ShapeAnswer
from quizzer.core import checking

VARIABLES = ["p1", "p2"]


def largest(make: Callable[[int], str]) -> str:
    """`make(n)` for the largest n whose formula the checker still accepts."""
    accepted = ""
    for n in range(1, checking.MAX_INPUT_CHARS):
        text = make(n)
        if len(text) > checking.MAX_INPUT_CHARS:
            break
        try:
            checking.parse_expression(text, VARIABLES)
        except checking.Unparsable:
            continue
        accepted = text
    return accepted


FORMULAS = {
    "nested exp": largest(lambda n: "exp(" * n + "p1" + ")" * n),
    "nested sin": largest(lambda n: "sin(" * n + "p1" + ")" * n),
    "sum of products": largest(lambda n: "+".join(["p1*p2"] * n)),
    "sum of sqrt*log": largest(lambda n: "+".join(["sqrt(p1)*log(p2)"] * n)),
    "max of many": largest(lambda n: "max(" + ",".join(["p1"] * n) + ")"),
    "power tower": largest(lambda n: "^".join(["p1"] * n)),
}


def timed(check: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall time and worst CPU time of `repeat` runs, each with nothing cached.

    CPU time (this thread's) is the checker's own work; the slowest wall time on a shared machine
    mostly measures who else was running.
    """
    walls, cpus = [], []
    for _ in range(repeat):
        checking._parse_expression.cache_clear()
        wall, cpu = time.perf_counter(), time.thread_time()
        check()
        cpus.append(time.thread_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return min(walls), max(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    results = []
    for answer_name, formula in FORMULAS.items():
        answer = ExpressionAnswer(kind="expression", value=formula, variables=VARIABLES)
        for typed_name, typed in FORMULAS.items():
            best, slowest = timed(lambda a=answer, t=typed: a.check(t), repeat)
            results.append((best, slowest, f"expression: card {answer_name}, typed {typed_name}"))
    others = [
        (NumericAnswer(kind="numeric", value=1), "9" * 100 + "/" + "1" * 100 + "e400" + " " * 690, "numeric"),
        (ShapeAnswer(kind="shape", value=[1]), "(" + ",".join(["9" * 18] * 52) + ")", "shape"),
        (
            ChoiceAnswer(kind="choice", options=[f"{i:03}" + "a" * 197 for i in range(50)], value="000" + "a" * 197),
            "a" * 999,
            "choice",
        ),
    ]
    for answer, typed, name in others:
        best, slowest = timed(lambda a=answer, t=typed: a.check(t), repeat)
        results.append((best, slowest, f"{name}: {len(typed)} characters"))
    for best, slowest, label in sorted(results, reverse=True)[:5]:
        print(f"{best * 1000:7.2f} ms best wall, {slowest * 1000:7.2f} ms worst CPU  {label}")
    print(f"worst check: {max(r[1] for r in results) * 1000:.2f} ms of CPU (budget 50 ms)")


if __name__ == "__main__":
    main()
