"""A terminal progress bar fed by the solver's Progress reports."""

from __future__ import annotations

from typing import Any

from tqdm import tqdm

from planner.plan import Progress
from planner.stages import Stage


class ProgressBar:
    """One bar per solve stage; shows the running objective, bound and gap where known."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._stage = ""

    def __call__(self, update: Progress) -> None:
        if update.stage != self._stage:
            self.close()
            self._stage = update.stage
            self._bar = tqdm(total=update.total, desc=update.stage, unit="step", leave=True)
        bar = self._bar
        bar.total = update.total
        bar.n = update.done
        if update.gap is not None:
            bar.set_postfix(objective=f"{update.objective:,.0f}", gap=f"{update.gap:.3%}", refresh=False)
        bar.refresh()
        if update.stage == Stage.DONE:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
