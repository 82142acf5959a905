"""Time one EM iteration of a restart experiment: single runs, batched runs, scikit-learn.

A restart experiment (Old Faithful, K = 3, full covariances, 100 runs from
``random_from_data``, the settings of :func:`emviz.core.restarts.run_restarts`)
is timed three ways in one process, every BLAS and OpenMP pool held to one
thread:

(a) ``run_restarts`` as it is: one :func:`emviz.core.em.iterate_em` loop per
    run, one after the other (the whole call, starts and grouping included,
    and the bare loops over the same starts);
(b) :func:`emviz.core.batched.batched_em` from the same starts: every run
    advanced in one vectorised pass per iteration, runs leaving the batch as
    they converge;
(c) scikit-learn's ``GaussianMixture`` on the same points: its own E-step and
    M-step methods (``_e_step`` then ``_m_step``, exactly one E+M from one of
    the starts), and ``fit(max_iter=100, tol=0)`` per iteration.

Each figure is a time per EM iteration (E+M) of one run: for (a) and (b) the
total time over the total number of iterations all runs performed.  The three
take turns, ``--repeat`` rounds; each time is the median over the rounds and
each ratio the median over the rounds of that round's ratio.  The batched
traces are checked against the single runs' (largest relative difference).

Run:  python tests/benchmarks/bench_restarts.py [--runs 100] [--k 3] [--repeat 3]
"""

from __future__ import annotations

import os

# One thread everywhere, before numpy (and its BLAS) is loaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from emviz.core import initialize, iterate_em, load_dataset, run_restarts  # noqa: E402
from emviz.core.batched import batched_em  # noqa: E402
from emviz.core.data import prepare  # noqa: E402
from emviz.core.restarts import run_seed  # noqa: E402

METHOD = "random_from_data"
SEED = 0


def single_loops(data, starts, cov_type: str) -> list[np.ndarray]:
    """The traces of iterate_em from every start, consumed as run_restarts does."""
    traces = []
    for start in starts:
        trace = []
        for snap in iterate_em(None, start, cov_type=cov_type, tol=1e-8, max_iter=500, data=data):
            if snap.phase != "E":
                trace.append(snap.log_likelihood)
        traces.append(np.array(trace))
    return traces


def sklearn_step_timer(X: np.ndarray, start, cov_type: str, calls: int):
    """A function timing ``calls`` internal E+M steps of scikit-learn from ``start``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    k = start.n_components
    gm = GaussianMixture(
        k,
        covariance_type="full",
        tol=0.0,
        max_iter=1,
        warm_start=True,
        weights_init=start.weights,
        means_init=start.means,
        precisions_init=np.linalg.inv(start.covariances),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(X)

    def reset():
        gm.weights_, gm.means_ = start.weights.copy(), start.means.copy()
        gm.covariances_ = start.covariances.copy()
        gm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(start.covariances))

    def run() -> float:
        times = []
        for _ in range(calls):
            reset()
            t0 = time.perf_counter()
            _, log_resp = gm._e_step(X)
            gm._m_step(X, log_resp)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    return run


def sklearn_fit_per_iteration(X: np.ndarray, k: int, fits: int) -> float:
    """Median over ``fits`` fits of fit time / iterations (100 iterations, tol = 0)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    per = []
    for seed in range(fits):
        gm = GaussianMixture(
            k,
            covariance_type="full",
            tol=0.0,
            max_iter=100,
            n_init=1,
            init_params=METHOD,
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = time.perf_counter()
            gm.fit(X)
            per.append((time.perf_counter() - t0) / gm.n_iter_)
    return statistics.median(per)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="rounds")
    args = parser.parse_args()
    import sklearn.mixture  # noqa: F401  (load its libraries before limiting threads)

    cov_type = "full"
    X = load_dataset("old_faithful").X
    data = prepare(X)
    starts = [
        initialize(data, args.k, method=METHOD, cov_type=cov_type, seed=run_seed(SEED, r))
        for r in range(args.runs)
    ]
    with threadpool_limits(1):
        pools = [
            (lib["filepath"].rsplit("/", 1)[-1], lib["num_threads"]) for lib in threadpool_info()
        ]
        print(f"Thread pools (library, threads): {pools}")
        print(
            f"Old Faithful (N = {data.n_samples}), K = {args.k}, {cov_type}, "
            f"{args.runs} runs from {METHOD}, tol = 1e-8, max_iter = 500"
        )
        sk_step = sklearn_step_timer(X, starts[0], cov_type, calls=200)
        rows: dict[str, list[float]] = {
            k: [] for k in ("restarts", "loops", "batched", "sk_step", "sk_fit")
        }
        iterations = worst = 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = run_restarts(
                data, args.k, args.runs, cov_type=cov_type, methods=(METHOD,), seed=SEED
            )
            t_restarts = time.perf_counter() - t0
            iterations = sum(r.n_iter for r in result.runs)
            rows["restarts"].append(t_restarts / iterations)

            t0 = time.perf_counter()
            traces = single_loops(data, starts, cov_type)
            rows["loops"].append((time.perf_counter() - t0) / iterations)

            t0 = time.perf_counter()
            batched = batched_em(data, starts, cov_type=cov_type, tol=1e-8, max_iter=500)
            rows["batched"].append((time.perf_counter() - t0) / iterations)

            rows["sk_step"].append(sk_step())
            rows["sk_fit"].append(sklearn_fit_per_iteration(X, args.k, fits=5))

            assert sum(b.n_iter for b in batched) == iterations
            for b, t, r in zip(batched, traces, result.runs):
                np.testing.assert_array_equal(t, r.log_likelihoods)
                worst = max(worst, float(np.max(np.abs(b.log_likelihoods - t) / np.abs(t))))

        def med(key: str) -> float:
            return statistics.median(rows[key])

        def ratio(slow: str, fast: str) -> float:
            return statistics.median(a / b for a, b in zip(rows[slow], rows[fast]))

        print(f"EM iterations in all runs: {iterations}; rounds: {args.repeat}")
        print(f"{'':34} {'us/iter':>9} {'sk step/x':>10} {'sk fit/x':>9}")
        labels = {
            "restarts": "(a) run_restarts (whole call)",
            "loops": "(a) iterate_em loops only",
            "batched": "(b) batched_em",
            "sk_step": "(c) sklearn _e_step + _m_step",
            "sk_fit": "(c) sklearn fit(), per iteration",
        }
        for key, label in labels.items():
            print(
                f"{label:34} {1e6 * med(key):>9.1f} {ratio('sk_step', key):>9.1f}x "
                f"{ratio('sk_fit', key):>8.1f}x"
            )
        print(f"batched vs run_restarts: {ratio('restarts', 'batched'):.1f}x faster")
        print(f"largest relative trace difference, batched vs single: {worst:.1e}")


if __name__ == "__main__":
    main()
