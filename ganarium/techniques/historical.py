"""Historical averaging of several players by name (Salimans et al. 2016, "Improved Techniques
for Training GANs", Sec. 3.3): each player's weighted penalty ||theta - mean of past theta||^2
for its loss, and the average's update for its phase's ``after`` hook. At weight 0 nothing is
kept and both are no-ops."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from torch import Tensor, nn

from ganarium.techniques.improved import HistoricalAverage


class PlayerHistories(Mapping[str, HistoricalAverage]):
    """One ``HistoricalAverage`` per player of ``players`` (name -> its parameters) when
    ``weight`` > 0, by name (empty when off); its ``state_dict`` is training state (a recipe's
    ``extra_state``)."""

    def __init__(self, weight: float, players: dict[str, Iterable[nn.Parameter]]) -> None:
        self.weight = weight
        self.averages: dict[str, HistoricalAverage] = {}
        if weight > 0:
            self.averages = {name: HistoricalAverage(p) for name, p in players.items()}

    def __getitem__(self, name: str) -> HistoricalAverage:
        return self.averages[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.averages)

    def __len__(self) -> int:
        return len(self.averages)

    def added(self, name: str, loss: Tensor) -> Tensor:
        """``loss`` plus ``weight`` x player ``name``'s penalty (``loss`` itself when off)."""
        if name not in self.averages:
            return loss
        return loss + self.weight * self.averages[name].penalty()

    def updater(self, name: str) -> Callable[[Any], None] | None:
        """The ``after`` hook of player ``name``'s phase: update its average (None when off)."""
        if name not in self.averages:
            return None
        average = self.averages[name]
        return lambda ctx: average.update()

    def state_dict(self) -> dict[str, Any]:
        return {name: h.state_dict() for name, h in self.averages.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, h in self.averages.items():
            h.load_state_dict(state[name])
