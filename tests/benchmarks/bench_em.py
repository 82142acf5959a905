"""Time one EM iteration (E-step + M-step) of emviz and of scikit-learn, side by side.

Both run on the same data from the same starting mixture, in the same
process, with every BLAS and OpenMP thread pool (numpy's, SciPy's and
scikit-learn's) held to one thread, full covariances.  emviz is timed
through ``iterate_em`` itself (one E snapshot and one M snapshot per
iteration), so the figure is what a fit or the window pays.  For scikit-learn
two figures are given: its own E-step and M-step methods (``_e_step`` then
``_m_step``: exactly one E+M, the fair comparison), and one
``fit(max_iter=1, warm_start=True)`` call, the public way to take one step,
which also runs a final E-step for the labels.  The log-likelihoods after
the step are compared too.

Timing: the three take turns in blocks of ``--block`` consecutive calls,
``--repeat`` rounds, so that load on a shared machine falls on all of them
alike.  The first call of each block is a warm-up and is not counted; each
time is the median of the others, and each ratio the median over the rounds
of the ratio of the two blocks' medians in that round.  (On the 2-core VM
this was measured on, the speed of a steady loop of emviz steps drifts by up
to 50 % from one second to the next; the blocks compared within a round are
less than a second apart.)  An iteration is timed as it runs in a
fit, right after the previous one, not right after another library has run:
a scikit-learn call frees tens of megabytes, which leaves the next caller
cold caches and fresh pages to fault in, and with calls taken one by one in
turn that cost fell on emviz's step every time (up to +40 % at N = 1e5,
K = 10) and on scikit-learn's internal step never.

Run:  python tests/benchmarks/bench_em.py [--sizes 1e4 1e5 1e6] [--ks 3 10] [--repeat 5] [--block 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from emviz.core import initialize, iterate_em
from emviz.core._kernels import e_step_prepared
from emviz.core.data import prepare


def make_data(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, size=(12, 2))
    labels = rng.integers(0, 12, size=n)
    return centres[labels] + rng.normal(size=(n, 2)) * rng.uniform(0.3, 2.0, size=(12, 2))[labels]


def timed(fns, repeat: int, block: int) -> list[list[list[float]]]:
    """Times of the calls of each function, by round: ``times[f][round][call]``.

    The functions take turns, ``block`` consecutive calls each, ``repeat``
    rounds; the first call of each block is a warm-up and is not counted.
    """
    times: list[list[list[float]]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, rounds in zip(fns, times):
            fn()
            calls = []
            for _ in range(block - 1):
                t0 = time.perf_counter()
                fn()
                calls.append(time.perf_counter() - t0)
            rounds.append(calls)
    return times


def median_time(rounds: list[list[float]]) -> float:
    """Median of all the calls of all the rounds."""
    return statistics.median(t for calls in rounds for t in calls)


def paired_ratio(slow: list[list[float]], fast: list[list[float]]) -> float:
    """Median over the rounds of median(slow's block) / median(fast's block)."""
    return statistics.median(
        statistics.median(a) / statistics.median(b) for a, b in zip(slow, fast)
    )


def bench(n: int, k: int, repeat: int, block: int) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    X = make_data(n)
    start = initialize(X, k, method="random_from_data", seed=1)
    data = prepare(X)
    floor = data.floor(0.0)

    # emviz's own loop: after the "init" snapshot, each (E, M) pair of
    # snapshots costs one M-step plus one E-step pass (the pass that gives
    # the new mixture's log-likelihood and the next E snapshot).
    loop = iterate_em(None, start, data=data, reg_covar=0.0, tol=0.0, max_iter=10**6)
    next(loop)

    def emviz_step():
        next(loop)
        return next(loop).mixture

    def make_gm():
        return GaussianMixture(
            k,
            covariance_type="full",
            reg_covar=0.0,
            tol=0.0,
            max_iter=1,
            warm_start=True,
            weights_init=start.weights,
            means_init=start.means,
            precisions_init=np.linalg.inv(start.covariances),
        )

    gm = make_gm()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(X)  # sets up the fitted attributes; one step from the start
    sk_ll_after = gm.score(X) * n
    # Put scikit-learn back at the start for the timed internal step.
    gm.weights_ = start.weights.copy()
    gm.means_ = start.means.copy()
    gm.covariances_ = start.covariances.copy()
    gm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(start.covariances))

    def sklearn_internal():
        _, log_resp = gm._e_step(X)
        gm._m_step(X, log_resp)
        # restore the start for the next repeat
        gm.weights_, gm.means_ = start.weights.copy(), start.means.copy()
        gm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(start.covariances))

    def sklearn_fit():
        g = make_gm()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            g.fit(X)

    after = emviz_step()
    emviz_ll_after = e_step_prepared(data, after)[1]
    assert floor > 0
    emviz, internal, fit = timed([emviz_step, sklearn_internal, sklearn_fit], repeat, block)
    return {
        "n": n,
        "k": k,
        "emviz_ms": 1e3 * median_time(emviz),
        "sklearn_ms": 1e3 * median_time(internal),
        "sklearn_fit_ms": 1e3 * median_time(fit),
        "ratio": paired_ratio(internal, emviz),
        "ratio_fit": paired_ratio(fit, emviz),
        "ll_rel_diff": abs(emviz_ll_after - sk_ll_after) / abs(sk_ll_after),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e5, 1e6])
    parser.add_argument("--ks", type=int, nargs="+", default=[3, 10])
    parser.add_argument("--repeat", type=int, default=5, help="rounds of blocks")
    parser.add_argument(
        "--block", type=int, default=3, help="consecutive calls per block, the first not counted"
    )
    args = parser.parse_args()
    # Load scikit-learn's native libraries (SciPy's own OpenBLAS, OpenMP)
    # before limiting threads: threadpool_limits only reaches libraries that
    # are already loaded.  Left unlimited, their idle worker threads spin for
    # a while after each scikit-learn call and, on a small shared machine,
    # slow down whatever runs next (here emviz's step, by up to 2x).
    import sklearn.mixture  # noqa: F401

    with threadpool_limits(1):
        pools = [
            (lib["filepath"].rsplit("/", 1)[-1], lib["num_threads"]) for lib in threadpool_info()
        ]
        print(f"Thread pools (library, threads): {pools}")
        header = (
            f"{'N':>9} {'K':>3} {'emviz ms':>9} {'sklearn ms':>11} {'ratio':>6} "
            f"{'sk fit() ms':>12} {'ratio':>6} {'|dLL|/LL':>9}"
        )
        print(header)
        for n in args.sizes:
            for k in args.ks:
                r = bench(int(n), k, args.repeat, max(args.block, 2))
                print(
                    f"{r['n']:>9} {r['k']:>3} {r['emviz_ms']:>9.1f} {r['sklearn_ms']:>11.1f} "
                    f"{r['ratio']:>5.1f}x {r['sklearn_fit_ms']:>12.1f} {r['ratio_fit']:>5.1f}x "
                    f"{r['ll_rel_diff']:>9.1e}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
