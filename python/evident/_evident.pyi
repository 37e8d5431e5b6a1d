"""Type stubs of the native module ``evident._evident`` (conversions only; see ``evident``)."""

from typing import Any, Optional, Sequence, Tuple

__version__: str

class EvidentError(ValueError):
    """Every error evident raises."""

class InputError(EvidentError):
    """Bad input data or options; ``row`` (0-based) and ``column`` say where when known."""

    row: Optional[int]
    column: Optional[str]

class ConvergenceError(EvidentError):
    """An iterative estimator did not converge."""

Columns = Sequence[Tuple[str, Sequence[Any]]]
Rendered = Tuple[str, str]

class Fit:
    """A fitted model held by the library."""

    def rendered(self) -> Rendered: ...
    def warnings(self) -> list[str]: ...
    def leave1out(self) -> Rendered: ...
    def cumul(self, order: Optional[str] = None, decreasing: bool = False) -> Rendered: ...
    def influence(self) -> Rendered: ...
    def regtest(self, model: str = "rma", predictor: str = "sei") -> Rendered: ...
    def ranktest(self) -> Rendered: ...
    def trimfill(self, estimator: str = "L0", side: Optional[str] = None) -> Rendered: ...
    def forest(
        self,
        path: str,
        title: Optional[str] = None,
        xlim: Optional[Tuple[float, float]] = None,
        dpi: float = 300.0,
    ) -> None: ...
    def funnel(
        self,
        path: str,
        title: Optional[str] = None,
        xlim: Optional[Tuple[float, float]] = None,
        contours: bool = False,
        dpi: float = 300.0,
    ) -> None: ...

def escalc(
    columns: Columns, measure: Optional[str], escalc: dict[str, Any]
) -> Tuple[list[Optional[float]], list[Optional[float]], str, Optional[str]]: ...
def rma(
    columns: Columns,
    measure: Optional[str],
    escalc: dict[str, Any],
    rma: dict[str, Any],
    mods: Optional[str] = None,
) -> Fit: ...
def rma_tables(
    columns: Columns,
    measure: Optional[str],
    escalc: dict[str, Any],
    level: float,
    correct: bool,
    peto: bool,
) -> Fit: ...
def batch(
    columns: Columns,
    analysis: str,
    measure: Optional[str],
    escalc: dict[str, Any],
    rma: dict[str, Any],
) -> Tuple[
    list[str], list[str], list[Optional[int]], list[list[float]], list[Optional[str]]
]: ...
