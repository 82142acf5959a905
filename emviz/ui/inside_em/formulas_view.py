"""The M-step's formulas for one component, and the E-step's r_nk for the point clicked,
filled with the live numbers of the snapshot shown.

The numbers are computed here, directly from the responsibilities in numpy
(not read back from the mixture), so that the panel shows the arithmetic
the M-step does: for an "M" snapshot, from the responsibilities it used
(``session.current.resp``, the posterior under the previous mixture), and
they equal the snapshot's mixture; for an "E" snapshot (and the start),
from the posterior under the mixture shown, i.e. what the next M-step will
compute.

The mathematics is HTML rendered by a QTextBrowser: fractions are
two-row tables with a rule between, vectors and matrices tables with
bracket borders.  Every result carries an anchor (``<a name="key">``) so
:meth:`FormulasView.values` can read back the numbers as displayed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from PySide6 import QtGui, QtWidgets

from emviz.runs.pacing import RedrawThrottle
from emviz.session import Session
from emviz.ui.views.palette import PALETTE_HEX, qcolor
from emviz.ui.views.style import BASE_POINT_SIZE

__all__ = ["FormulasView", "MStepNumbers", "fmt", "mstep_numbers", "parse_number"]

#: Significant digits of the numbers shown.
DIGITS = 6
_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_UNSUP = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹−", "-0123456789-")
_LOG_2PI = math.log(2.0 * math.pi)


# ---------------------------------------------------------------- numbers


@dataclass(frozen=True)
class MStepNumbers:
    """The M-step's intermediate sums, computed from the responsibilities.

    Attributes
    ----------
    nk : array of shape (K,)
        N_k = sum_n r_nk.
    sums : array of shape (K, 2)
        sum_n r_nk x_n.
    means : array of shape (K, 2)
    scatter : array of shape (K, 2, 2)
        S_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T.
    covariances : array of shape (K, 2, 2)
        The covariances the formulas give for ``cov_type``, before the
        eigenvalue floor.
    n_samples : int
    """

    nk: np.ndarray
    sums: np.ndarray
    means: np.ndarray
    scatter: np.ndarray
    covariances: np.ndarray
    n_samples: int

    @property
    def weights(self) -> np.ndarray:
        return self.nk / self.n_samples


def mstep_numbers(
    X: np.ndarray,
    resp: np.ndarray,
    cov_type: str,
    variances: np.ndarray | None = None,
) -> MStepNumbers:
    """N_k, sum_n r_nk x_n, mu_k, S_k and Sigma_k straight from the M-step's formulas.

    Parameters
    ----------
    X : array of shape (n_samples, 2) or (n_samples, n_components, 2)
        The points; with missing coordinates, the expected point of each
        row under each component (``data.m_step_inputs(mixture)``).
    resp : array of shape (n_samples, n_components)
    cov_type : {"full", "tied", "diag", "spherical"}
    variances : array of shape (n_samples, n_components, 2), optional
        Conditional variance of each coordinate of each row under each
        component (0 where observed); added to the scatter's diagonal.
    """
    X = np.asarray(X, dtype=float)
    r = np.asarray(resp, dtype=float)
    n = X.shape[0]
    nk = r.sum(axis=0)
    safe = np.where(nk > 0, nk, 1.0)
    per_component = X.ndim == 3
    # Centred on the data mean, as the core does, so far-off data lose no digits.
    ref = (X[:, 0, :] if per_component else X).mean(axis=0)
    if per_component:
        sums_c = np.einsum("nk,nkd->kd", r, X - ref)
    else:
        sums_c = r.T @ (X - ref)
    means = sums_c / safe[:, None] + ref
    sums = sums_c + nk[:, None] * ref
    scatter = np.empty((r.shape[1], 2, 2))
    for k in range(r.shape[1]):
        d = (X[:, k] if per_component else X) - means[k]
        scatter[k] = (r[:, k, None] * d).T @ d
        if variances is not None:
            scatter[k] += np.diag(r[:, k] @ variances[:, k])
    if cov_type == "full":
        cov = scatter / safe[:, None, None]
    elif cov_type == "tied":
        cov = np.broadcast_to(scatter.sum(axis=0) / n, scatter.shape).copy()
    elif cov_type == "diag":
        cov = np.zeros_like(scatter)
        cov[:, 0, 0] = scatter[:, 0, 0] / safe
        cov[:, 1, 1] = scatter[:, 1, 1] / safe
    else:  # spherical
        var = 0.5 * (scatter[:, 0, 0] + scatter[:, 1, 1]) / safe
        cov = var[:, None, None] * np.eye(2)
    return MStepNumbers(nk, sums, means, scatter, cov, n)


def weighted_densities(x: np.ndarray, mixture) -> np.ndarray:
    """pi_j N(x | mu_j, Sigma_j) for every component j, array of shape (K,).

    A missing (NaN) coordinate is integrated out: the density is then the
    marginal of the observed one, pi_j N(x_o | mu_j,o, Sigma_j,oo).
    """
    x = np.asarray(x, float)
    missing = np.isnan(x)
    if missing.any():
        if missing.all():
            return np.asarray(mixture.weights, float).copy()
        o = int(np.flatnonzero(~missing)[0])
        var = mixture.covariances[:, o, o]
        z2 = (x[o] - mixture.means[:, o]) ** 2 / var
        with np.errstate(divide="ignore"):
            log = np.log(mixture.weights) - 0.5 * (_LOG_2PI + np.log(var)) - 0.5 * z2
        return np.exp(log)
    cov = mixture.covariances
    a, b, c = cov[:, 0, 0], cov[:, 0, 1], cov[:, 1, 1]
    det = a * c - b * b
    d = np.asarray(x, float) - mixture.means
    dx, dy = d[:, 0], d[:, 1]
    maha = (c * dx * dx - 2 * b * dx * dy + a * dy * dy) / det
    with np.errstate(divide="ignore"):
        log = np.log(mixture.weights) - _LOG_2PI - 0.5 * np.log(det) - 0.5 * maha
    return np.exp(log)


def _coordinate(v: float) -> str:
    """A point's coordinate, or "missing" (its density is then the other's marginal)."""
    return "<i>missing</i>" if math.isnan(v) else fmt(v)


def fmt(v: float, digits: int = DIGITS) -> str:
    """A number for reading: 6 significant digits, ×10 powers outside 1e-3..1e6, true minus."""
    v = float(v)
    if v == 0 or not math.isfinite(v):
        text = "0" if v == 0 else str(v)
    elif 1e-3 <= abs(v) < 1e6:
        text = f"{v:.{digits}g}"
    else:
        mant, exp = f"{v:.{digits - 1}e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        text = f"{mant}×10<sup>{int(exp)}</sup>"
    return text.replace("-", "−")


def parse_number(text: str) -> float:
    """Inverse of :func:`fmt` on its plain text ("1.5×10⁻⁵" or "1.5×10−5")."""
    t = text.strip().translate(_UNSUP)
    if "×10" in t:
        mant, exp = t.split("×10", 1)
        return float(mant) * 10.0 ** int(exp)
    return float(t)


# ---------------------------------------------------------------- HTML pieces


def _num(key: str, v: float) -> str:
    return f'<a name="{key}">{fmt(v)}</a>'


def _sub(s: str, i: str) -> str:
    return f"{s}<sub>{i}</sub>"


def _nowrap(html: str) -> str:
    """Keep a formula on one line (plain inline HTML only; tables are left as they are)."""
    if "<table" in html:
        return html
    return f'<p style="white-space: pre; margin: 0;">{html}</p>'


def _frac(top: str, bottom: str) -> str:
    return (
        '<table cellspacing="0" cellpadding="2">'
        f'<tr><td align="center" valign="bottom" nowrap>{_nowrap(top)}</td></tr>'
        '<tr><td align="center" valign="top" nowrap style="border-top: 2px solid black;">'
        f"{bottom}</td></tr></table>"
    )


def _bracketed(rows: list[list[str]]) -> str:
    """A vector or matrix between square brackets (cell borders drawn as brackets)."""
    n = len(rows)
    ends = "border-top: 2px solid black; border-bottom: 2px solid black;"
    left = f'style="border-left: 2px solid black; {ends}"'
    right = f'style="border-right: 2px solid black; {ends}"'
    html = '<table cellspacing="0" cellpadding="1">'
    for i, row in enumerate(rows):
        html += "<tr>"
        if i == 0:
            html += f'<td rowspan="{n}" width="5" {left}>&nbsp;</td>'
        html += "".join(f'<td align="right">{_nowrap(f"&nbsp;{c}&nbsp;")}</td>' for c in row)
        if i == 0:
            html += f'<td rowspan="{n}" width="5" {right}>&nbsp;</td>'
        html += "</tr>"
    return html + "</table>"


def _row(*cells: str) -> str:
    if len(cells) == 7:
        # lhs = symbolic / = numbers / = result: three lines, so the panel fits
        # beside the plots on a 1280 px projector.
        lhs, eq, sym, eq2, numbers, eq3, result = cells
        return _row(lhs, eq, sym) + _row("", eq2, numbers) + _row("", eq3, result)
    return "<tr>" + "".join(f'<td valign="middle">{_nowrap(c)}</td>' for c in cells) + "</tr>"


_EQ = "&nbsp;=&nbsp;"
_K = "<i>k</i>"
_N = "<i>n</i>"
_R_NK = "<i>r</i><sub><i>nk</i></sub>"
_SUM_N = f"Σ<sub>{_N}</sub>"
_X_N = f"<b><i>x</i></b><sub>{_N}</sub>"
_MU_K = f"<b>μ</b><sub>{_K}</sub>"
_NK = f"<i>N</i><sub>{_K}</sub>"
_SIGMA_K = f"<b>Σ</b><sub>{_K}</sub>"
_PDF_J = (
    "𝒩(<b><i>x</i></b><sub><i>n</i></sub> | <b>μ</b><sub><i>j</i></sub>, "
    "<b>Σ</b><sub><i>j</i></sub>)"
)
_TD = "<td align='right' style='padding-left: 14px;'>"
_TH = "<th align='right' style='padding-left: 14px;'>"
_DIFF = f"(<b><i>x</i></b><sub>{_N}</sub>&nbsp;−&nbsp;{_MU_K})"


def _swatch(k: int) -> str:
    return f'<span style="color:{PALETTE_HEX[k % len(PALETTE_HEX)]};">■</span>'


# ---------------------------------------------------------------- the widget


class FormulasView(QtWidgets.QWidget):
    """The M-step's formulas (component chosen in ``combo``) and the E-step's (point clicked)."""

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("formulasView")
        self.session = session
        self.combo = QtWidgets.QComboBox(objectName="formulasComponentCombo")
        self.combo.setToolTip("The component whose M-step is written out")
        self.browser = QtWidgets.QTextBrowser(objectName="formulasBrowser")
        self.browser.setOpenLinks(False)
        font = self.browser.font()
        font.setPointSize(BASE_POINT_SIZE + 1)
        self.browser.setFont(font)
        self.browser.document().setDefaultFont(font)
        self.browser.document().setDefaultStyleSheet(
            "td { padding: 1px; } h3 { margin-top: 6px; margin-bottom: 2px; }"
        )
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Component"))
        top.addWidget(self.combo)
        top.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.browser, 1)
        #: The numbers of the last render (what the M-step formulas gave), or None.
        self.numbers: MStepNumbers | None = None
        self.html = ""
        self._dirty = True
        self.combo.currentIndexChanged.connect(lambda _i: self.redraw())
        self._throttle = RedrawThrottle(self.redraw, parent=self, busy=lambda: session.running)
        session.snapshot_changed.connect(self._throttle.request)
        session.history_changed.connect(self._throttle.request)
        session.selection_changed.connect(self._throttle.request)
        session.run_state_changed.connect(self._throttle.flush)
        self.redraw()

    # ------------------------------------------------------------ state

    def flush(self) -> None:
        self._throttle.flush()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self.redraw()

    @property
    def component(self) -> int:
        return max(self.combo.currentIndex(), 0)

    def set_component(self, k: int) -> None:
        self.combo.setCurrentIndex(k)

    def values(self) -> dict[str, float]:
        """The numbers displayed, by anchor name, parsed back from the document."""
        out: dict[str, float] = {}
        doc = self.browser.document()
        block = doc.begin()
        pattern = re.compile(r"[−\-0-9.×⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+")
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                fmt_ = frag.charFormat()
                if fmt_.isAnchor() and fmt_.anchorNames():
                    rest = block.text()[frag.position() - block.position() :]
                    m = pattern.match(rest)
                    if m:
                        for name in fmt_.anchorNames():
                            out[name] = parse_number(m.group(0))
                it += 1
            block = block.next()
        return out

    def _sync_combo(self, k_now: int) -> None:
        if self.combo.count() == k_now:
            return
        keep = self.combo.currentIndex()
        self.combo.blockSignals(True)
        self.combo.clear()
        for k in range(k_now):
            pix = QtGui.QPixmap(14, 14)
            pix.fill(qcolor(k))
            self.combo.addItem(QtGui.QIcon(pix), f"k = {k + 1}")
        self.combo.setCurrentIndex(min(max(keep, 0), k_now - 1))
        self.combo.blockSignals(False)

    # ------------------------------------------------------------ drawing

    def redraw(self) -> None:
        if not self.isVisible():
            self._dirty = True
            return
        self._dirty = False
        s = self.session
        snap = s.current
        if snap is None or s.data is None:
            self.numbers = None
            self._set_html("<p>No data.</p>")
            return
        k_now = snap.mixture.n_components
        self._sync_combo(k_now)
        k = min(self.component, k_now - 1)
        if snap.phase == "M":
            resp = snap.resp
            e_mixture = s.history[s.index - 1].mixture if s.index > 0 else snap.mixture
            intro = (
                "The M-step shown computed these numbers from the responsibilities "
                f"{_R_NK} of the E-step before it:"
            )
        else:
            resp = snap.resp if snap.resp is not None else s.data.e_step(snap.mixture)[0]
            e_mixture = snap.mixture
            what = "this E-step's" if snap.phase == "E" else "the first E-step's"
            intro = f"The next M-step will compute, from {what} responsibilities {_R_NK}:"
        cov_type = snap.mixture.cov_type
        # With missing coordinates the M-step averages each row's expected
        # point under each component and adds the conditional variances.
        points, variances = s.data.m_step_inputs(e_mixture)
        nums = mstep_numbers(s.X if variances is None else points, resp, cov_type, variances)
        self.numbers = nums
        if snap.phase == "M":
            used = snap.mixture
        else:
            floor = s.data.floor(s.settings.reg_covar)
            used = s.data.m_step(resp, cov_type, floor, mixture=e_mixture)[0]
        if variances is not None:
            intro += (
                " (with missing values, a point missing a coordinate enters every sum at"
                f" its expected position under component {_K}, and the conditional variance"
                " of its missing coordinate is added to S<sub><i>k</i></sub>)"
            )
        html = [
            f"<h3>M-step, component {_K} = {k + 1} {_swatch(k)}</h3>",
            f"<p>{intro}</p>",
            self._mstep_table(nums, k, cov_type, used),
            self._estep_html(e_mixture, resp, k),
        ]
        self._set_html("".join(html))

    def _set_html(self, html: str) -> None:
        if html == self.html:
            return
        self.html = html
        bar = self.browser.verticalScrollBar()
        pos = bar.value()
        self.browser.setHtml(html)
        bar.setValue(pos)
        self._fit_width()

    def _fit_width(self) -> None:
        """The browser never narrower than its widest formula: the text wraps, a table cannot.

        The document laid out at a width of 1 px takes the width of the
        widest thing that cannot wrap; the panel (and so its dock) is then at
        least that wide, and nothing scrolls sideways.
        """
        doc = self.browser.document().clone(self.browser)
        doc.setTextWidth(1)
        needed = doc.size().width()
        doc.deleteLater()
        frame = 2 * self.browser.frameWidth() + self.browser.verticalScrollBar().sizeHint().width()
        self.browser.setMinimumWidth(int(needed) + frame + 2)

    def _mstep_table(self, nums: MStepNumbers, k: int, cov_type: str, used) -> str:
        n = nums.n_samples
        nk = nums.nk[k]
        sx, sy = nums.sums[k]
        mx, my = nums.means[k]
        S = nums.scatter[k]
        C = nums.covariances[k]
        rows = [
            _row(_NK, _EQ, f"{_SUM_N} {_R_NK}", _EQ, f"<b>{_num('N_k', nk)}</b>"),
            _row(
                f"π<sub>{_K}</sub>",
                _EQ,
                _frac(_NK, "<i>N</i>"),
                _EQ,
                _frac(fmt(nk), str(n)),
                _EQ,
                f"<b>{_num('pi_k', nums.weights[k])}</b>",
            ),
            _row(
                _MU_K,
                _EQ,
                _frac(f"{_SUM_N} {_R_NK} {_X_N}", _NK),
                _EQ,
                _frac(_bracketed([[fmt(sx)], [fmt(sy)]]), fmt(nk)),
                _EQ,
                _bracketed([[f"<b>{_num('mu_x', mx)}</b>"], [f"<b>{_num('mu_y', my)}</b>"]]),
            ),
        ]

        def matrix(M, prefix: str = "") -> str:
            if not prefix:
                return _bracketed([[fmt(M[0, 0]), fmt(M[0, 1])], [fmt(M[1, 0]), fmt(M[1, 1])]])
            return _bracketed(
                [
                    [
                        f"<b>{_num(prefix + 'xx', M[0, 0])}</b>",
                        f"<b>{_num(prefix + 'xy', M[0, 1])}</b>",
                    ],
                    [f"<b>{fmt(M[1, 0])}</b>", f"<b>{_num(prefix + 'yy', M[1, 1])}</b>"],
                ]
            )

        outer = f"{_DIFF}{_DIFF}<sup>T</sup>"
        if cov_type == "full":
            rows.append(
                _row(
                    _SIGMA_K,
                    _EQ,
                    _frac(f"{_SUM_N}&nbsp;{_R_NK}&nbsp;{outer}", _NK),
                    _EQ,
                    _frac(matrix(S), fmt(nk)),
                    _EQ,
                    matrix(C, "sigma_"),
                )
            )
        elif cov_type == "tied":
            total = nums.scatter.sum(axis=0)
            j_outer = outer.replace("<sub><i>k</i></sub>", "<sub><i>j</i></sub>")
            rows.append(
                _row(
                    "<b>Σ</b> (shared)",
                    _EQ,
                    _frac(
                        f"Σ<sub><i>j</i></sub>&nbsp;{_SUM_N}&nbsp;<i>r</i><sub><i>nj</i></sub>&nbsp;{j_outer}",
                        "<i>N</i>",
                    ),
                    _EQ,
                    _frac(matrix(total), str(n)),
                    _EQ,
                    matrix(C, "sigma_"),
                )
            )
        elif cov_type == "diag":
            rows.append(
                _row(
                    f"σ<sup>2</sup><sub>{_K}<i>d</i></sub>",
                    _EQ,
                    _frac(
                        f"{_SUM_N} {_R_NK} (<i>x</i><sub><i>nd</i></sub> − μ<sub><i>kd</i></sub>)"
                        "<sup>2</sup>",
                        _NK,
                    ),
                    _EQ,
                    _frac(_bracketed([[fmt(S[0, 0])], [fmt(S[1, 1])]]), fmt(nk)),
                    _EQ,
                    matrix(C, "sigma_"),
                )
            )
        else:  # spherical
            rows.append(
                _row(
                    f"σ<sup>2</sup><sub>{_K}</sub>",
                    _EQ,
                    _frac(
                        f"{_SUM_N} {_R_NK} ‖<b><i>x</i></b><sub>{_N}</sub> − {_MU_K}‖<sup>2</sup>",
                        f"2 {_NK}",
                    ),
                    _EQ,
                    _frac(fmt(S[0, 0] + S[1, 1]), f"2 × {fmt(nk)}"),
                    _EQ,
                    matrix(C, "sigma_"),
                )
            )
        html = '<table cellspacing="4">' + "".join(rows) + "</table>"
        if cov_type == "diag":
            html += (
                f"<p>{_SIGMA_K} = diag(σ<sup>2</sup><sub>{_K}1</sub>, "
                f"σ<sup>2</sup><sub>{_K}2</sub>):"
                " the off-diagonal is held at 0.</p>"
            )
        elif cov_type == "spherical":
            html += (
                f"<p>{_SIGMA_K} = σ<sup>2</sup><sub>{_K}</sub> <b>I</b>:"
                " the same variance in every direction.</p>"
            )
        elif cov_type == "tied":
            html += (
                "<p>One covariance shared by all components:"
                " the scatter of every component, pooled.</p>"
            )
        U = used.covariances[k]
        if not np.allclose(U, C, rtol=1e-9, atol=0):
            html += (
                "<p>The smallest eigenvalue is below the floor (reg_covar × the data's variance) "
                f"and is raised to it; the covariance used is {matrix(U, 'used_')}</p>"
            )
        return html

    def _estep_html(self, mixture, resp: np.ndarray, k: int) -> str:
        s = self.session
        i = s.selected
        head = "<h3>E-step: responsibility of a point</h3>"
        if i is None or s.X is None or i >= len(s.X):
            return (
                head + "<p><i>Click a point on the plot to see its r<sub>nk</sub> computed.</i></p>"
            )
        x = s.X[i]
        dens = weighted_densities(x, mixture)
        total = float(dens.sum())
        r = dens / total if total > 0 else np.asarray(resp[i], float)
        num = f"π<sub>{_K}</sub> 𝒩({_X_N} | {_MU_K}, {_SIGMA_K})"
        den = f"Σ<sub><i>j</i></sub> π<sub><i>j</i></sub> {_PDF_J}"
        html = (
            f"<h3>E-step: point {_N} = {i + 1} at ({_coordinate(x[0])}, {_coordinate(x[1])}),"
            f" component {_K} = {k + 1} {_swatch(k)}</h3>"
            '<table cellspacing="4">'
            + _row(
                _R_NK,
                _EQ,
                _frac(num, den),
                _EQ,
                _frac(fmt(dens[k]), fmt(total)),
                _EQ,
                f"<b>{_num('r_nk', r[k])}</b>",
            )
            + "</table>"
        )
        cells = (
            '<table cellspacing="0" cellpadding="3">'
            f"<tr><th align='left'><i>j</i></th>{_TH}π<sub><i>j</i></sub></th>"
            f"{_TH}{_PDF_J}</th>"
            f"{_TH}π<sub><i>j</i></sub> 𝒩(…)</th>"
            f"{_TH}<i>r</i><sub><i>nj</i></sub></th></tr>"
        )
        for j in range(len(dens)):
            w = mixture.weights[j]
            pdf = dens[j] / w if w > 0 else 0.0
            bold = ("<b>", "</b>") if j == k else ("", "")
            cells += (
                f"<tr><td>{_swatch(j)} {j + 1}</td>{_TD}{fmt(w)}</td>"
                f"{_TD}{fmt(pdf)}</td>"
                f"{_TD}{_num(f'dens_{j}', dens[j])}</td>"
                f"{_TD}{bold[0]}{_num(f'r_{j}', r[j])}{bold[1]}</td></tr>"
            )
        rule = "style='border-top: 1px solid black;'"
        cells += (
            f"<tr><td colspan='3' align='right' {rule}>sum</td>"
            f"<td align='right' {rule}>{_num('dens_sum', total)}</td>"
            f"<td align='right' {rule}>{fmt(r.sum())}</td></tr></table>"
        )
        return html + cells
