#!/usr/bin/env python3
"""Writes a Criteo-format TSV labelled by a hidden teacher that has nothing to do with ttrec's own
synthetic generator (org.ttrec.dlrm.data.SyntheticCriteo), for the model-quality comparisons of
bench/quality/README.md.

Each row is `label TAB I1..I13 TAB C1..C26`, like Kaggle's train.txt: integers with some negative
values and empty cells, categorical values as 8-digit hex hashes (empty when missing). The teacher's
logit sums
  - a nonlinear function of the 13 dense features (weights, a threshold and a product term),
  - one scalar effect per category value of every feature (Gaussian, per-feature scale),
  - low-rank pairwise interactions between chosen categorical features (<u[a], v[b]>, rank k),
  - a dense x categorical term (a dense feature scaled by a per-category slope),
and a bias calibrated so that the mean click rate is --ctr. Category values are drawn from a Zipf
law per feature (exponent around --zipf), with a random hash per value, so the popular values are
spread over the hash space as in the real data. Everything is seeded: same arguments, same bytes.

Presets (--preset) name the data sets of the quality study; any field can be overridden.
Prints the teacher's own AUC on the dlrm test half (the first half of the last seventh of the
rows), the ceiling a model can reach, on stderr.
"""
import argparse
import sys

import numpy as np

KAGGLE = [1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194, 27,
          14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572]

PRESETS = {
    # Close to the description: Zipf 1.1, about 3% empty cells, eight rank-4 pairs, 25% CTR,
    # tables at 1/50 of Kaggle's (the large ones 40k-200k values).
    "zipf11": dict(zipf=1.1, zipf_spread=0.0, empty=0.03, pairs=8, pair_rank=4, ctr=0.25,
                   scale=1 / 50, cat_sigma=0.3, seed=11),
    # Flatter and sparser: exponents 0.8-1.2 per feature, 10% empty cells, sixteen rank-2 pairs, 10%
    # CTR, tables at 1/20 of Kaggle's (the large ones 100k-500k values: many values seen once).
    "flat": dict(zipf=1.0, zipf_spread=0.2, empty=0.10, pairs=16, pair_rank=2, ctr=0.10,
                 scale=1 / 20, cat_sigma=0.25, seed=22),
    # Steep skew, small tables, strong interactions: exponents 1.2-1.6, 1% empty, four rank-8
    # pairs, 35% CTR, tables at 1/200 of Kaggle's.
    "steep": dict(zipf=1.4, zipf_spread=0.2, empty=0.01, pairs=4, pair_rank=8, ctr=0.35,
                  scale=1 / 200, cat_sigma=0.4, seed=33),
}


def zipf_sampler(n, s, rng):
    """Draws ranks 0..n-1 with P(k) ~ (k+1)^-s; returns a function of a count."""
    w = np.arange(1, n + 1, dtype=np.float64) ** -s
    cdf = np.cumsum(w)
    cdf /= cdf[-1]
    return lambda m: np.minimum(np.searchsorted(cdf, rng.random(m)), n - 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("-o", "--out", required=True)
    for k in ("zipf", "zipf_spread", "empty", "ctr", "scale", "cat_sigma"):
        ap.add_argument("--" + k.replace("_", "-"), type=float)
    for k in ("pairs", "pair_rank", "seed"):
        ap.add_argument("--" + k.replace("_", "-"), type=int)
    a = ap.parse_args()
    p = dict(PRESETS[a.preset])
    for k in p:
        if getattr(a, k, None) is not None:
            p[k] = getattr(a, k)
    rng = np.random.default_rng(p["seed"])
    cards = [max(1000, int(round(c * p["scale"]))) if c > 1000 else c for c in KAGGLE]
    nt = len(cards)

    # Per feature: Zipf exponent, hash of each value, scalar effects and dense slopes.
    expo = p["zipf"] + p["zipf_spread"] * rng.uniform(-1, 1, nt)
    samplers = [zipf_sampler(c, e, rng) for c, e in zip(cards, expo)]
    hashes = [rng.choice(2**32, size=c, replace=False).astype(np.uint32) for c in cards]
    feat_scale = p["cat_sigma"] * rng.uniform(0.2, 1.0, nt)
    effects = [rng.normal(0, s, c) for c, s in zip(cards, feat_scale)]
    slopes = [rng.normal(0, 0.15, c) for c in cards]
    slope_feat = rng.integers(0, 13, nt)
    pair_list = []
    for _ in range(p["pairs"]):
        x, y = rng.choice(nt, 2, replace=False)
        k = p["pair_rank"]
        pair_list.append((x, y, rng.normal(0, 1 / np.sqrt(k), (cards[x], k)),
                          rng.normal(0, 1 / np.sqrt(k), (cards[y], k)), rng.uniform(0.3, 0.8)))
    dense_mu = rng.uniform(0.0, 4.0, 13)
    dense_sigma = rng.uniform(0.5, 1.8, 13)
    dense_w = rng.normal(0, 0.35, 13)
    neg_rate = rng.uniform(0.0, 0.02, 13)

    n = a.rows
    ints = np.empty((n, 13), dtype=np.int64)
    cats = np.empty((n, nt), dtype=np.int64)
    for j in range(13):
        v = np.floor(np.exp(rng.normal(dense_mu[j], dense_sigma[j], n))).astype(np.int64) - 1
        neg = rng.random(n) < neg_rate[j]
        v[neg] = -rng.integers(1, 4, neg.sum())
        ints[:, j] = v
    for t in range(nt):
        cats[:, t] = samplers[t](n)
    empty_int = rng.random((n, 13)) < p["empty"]
    empty_cat = rng.random((n, nt)) < p["empty"] * rng.uniform(0.0, 2.0, nt)
    ints[empty_int] = 0  # the teacher sees a missing value as 0, as the readers do
    feats = np.log1p(np.maximum(ints, 0))
    feats_c = (feats - feats.mean(0)) / (feats.std(0) + 1e-9)

    logit = feats_c @ dense_w
    logit += 0.4 * np.maximum(feats_c[:, 0] - 0.5, 0) - 0.3 * feats_c[:, 1] * feats_c[:, 2]
    for t in range(nt):
        c = cats[:, t]
        miss = empty_cat[:, t]
        eff = effects[t][c] + slopes[t][c] * feats_c[:, slope_feat[t]]
        logit += np.where(miss, 0.0, eff)
    for x, y, u, v, g in pair_list:
        term = g * np.einsum("ij,ij->i", u[cats[:, x]], v[cats[:, y]])
        logit += np.where(empty_cat[:, x] | empty_cat[:, y], 0.0, term)
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if (1 / (1 + np.exp(-(logit + mid)))).mean() < p["ctr"]:
            lo = mid
        else:
            hi = mid
    prob = 1 / (1 + np.exp(-(logit + lo)))
    label = (rng.random(n) < prob).astype(np.int64)

    # dlrm's test half: days of n // 7 rows (the first n % 7 one longer), day 6's first half.
    day = [n // 7 + (1 if d < n % 7 else 0) for d in range(7)]
    t0 = sum(day[:6])
    t1 = t0 + (day[6] + 1) // 2
    try:
        from sklearn.metrics import roc_auc_score
        auc = roc_auc_score(label[t0:t1], prob[t0:t1])
        print(f"{a.preset}: {n} rows, CTR {label.mean():.4f}, teacher AUC on the test half {auc:.4f}, "
              f"cards {cards}", file=sys.stderr)
    except ImportError:
        print(f"{a.preset}: {n} rows, CTR {label.mean():.4f} (sklearn missing: no teacher AUC)", file=sys.stderr)

    with open(a.out, "w") as f:
        chunk = 100_000
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            lines = []
            for i in range(s, e):
                di = ["" if empty_int[i, j] else str(ints[i, j]) for j in range(13)]
                ci = ["" if empty_cat[i, t] else format(hashes[t][cats[i, t]], "08x") for t in range(nt)]
                lines.append("\t".join([str(label[i])] + di + ci))
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
