#!/usr/bin/python3
"""Independent reference values for tests/metrics/test_metrics_reference.cpp.

Builds fixed feature sets and logits from deterministic formulas (the C++ test evaluates the same
formulas) and computes, with numpy and scipy only:
  - mean and covariance (numpy.cov, rowvar=False),
  - the Frechet distance the pytorch-fid way (scipy.linalg.sqrtm of S1 S2, real part),
  - KID: the unbiased MMD^2 with the cubic polynomial kernel on the index subsets written out,
  - the Inception score over 10 splits (Salimans et al. 2016 reference code),
  - improved precision and recall (k = 3) from scipy.spatial.distance.cdist.
Writes reference_metrics.json next to this script. Run with Debian's python:
  apt-get install -y python3-numpy python3-scipy && /usr/bin/python3 tests/metrics/make_reference.py
"""
import json
import os

import numpy as np
import scipy.linalg
from scipy.spatial.distance import cdist

N_REAL, N_FAKE, DIM = 300, 250, 16
N_LOGITS, CLASSES, SPLITS = 500, 10, 10
KID_SUBSETS, KID_SIZE = 5, 60
PR_K = 3


def features(n, d, c):
    """f[i][j] = sin(0.7 i + 1.3 j + c) + 0.5 sin(0.37 i (j + 1) + c) + 0.25 cos(0.013 i^2 + 0.9 j) + 0.05 c j"""
    i = np.arange(n, dtype=np.float64)[:, None]
    j = np.arange(d, dtype=np.float64)[None, :]
    return (np.sin(0.7 * i + 1.3 * j + c) + 0.5 * np.sin(0.37 * i * (j + 1) + c)
            + 0.25 * np.cos(0.013 * i * i + 0.9 * j) + 0.05 * c * j)


def logits(n, k):
    """l[i][k] = 4 sin(0.3 i + 0.9 k) + 2 cos(0.05 i k)"""
    i = np.arange(n, dtype=np.float64)[:, None]
    kk = np.arange(k, dtype=np.float64)[None, :]
    return 4.0 * np.sin(0.3 * i + 0.9 * kk) + 2.0 * np.cos(0.05 * i * kk)


def subsets(n, size, s, offset):
    """rows (a * 7 + s * 13 + offset) mod n for a in [0, size): distinct when gcd(7, n) = 1"""
    return [int((a * 7 + s * 13 + offset) % n) for a in range(size)]


def fid(m1, s1, m2, s2):
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    diff = m1 - m2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def mmd2(x, y):
    d = x.shape[1]
    m = x.shape[0]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    return ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (m * (m - 1)) \
        - 2 * kxy.sum() / (m * m)


def inception_score(l, splits):
    p = np.exp(l - l.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    part = l.shape[0] // splits
    scores = []
    for s in range(splits):
        q = p[s * part:(s + 1) * part]
        py = q.mean(axis=0, keepdims=True)
        kl = (q * (np.log(q) - np.log(py))).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def radii(x, k):
    d = cdist(x, x)
    np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, k - 1]


def inside(points, centres, r):
    d = cdist(points, centres)
    return float((d <= r[None, :]).any(axis=1).mean())


def main():
    real = features(N_REAL, DIM, 0.2)
    fake = features(N_FAKE, DIM, 0.9)
    m1, s1 = real.mean(axis=0), np.cov(real, rowvar=False)
    m2, s2 = fake.mean(axis=0), np.cov(fake, rowvar=False)
    rs = [subsets(N_REAL, KID_SIZE, s, 0) for s in range(KID_SUBSETS)]
    fs = [subsets(N_FAKE, KID_SIZE, s, 5) for s in range(KID_SUBSETS)]
    kids = [mmd2(real[r], fake[f]) for r, f in zip(rs, fs)]
    is_mean, is_std = inception_score(logits(N_LOGITS, CLASSES), SPLITS)
    rr, fr = radii(real, PR_K), radii(fake, PR_K)
    out = {
        "generator": "tests/metrics/make_reference.py (numpy %s, scipy %s)" % (np.__version__, scipy.__version__),
        "n_real": N_REAL, "n_fake": N_FAKE, "dim": DIM, "c_real": 0.2, "c_fake": 0.9,
        "mean_real": m1.tolist(), "cov_real": s1.ravel().tolist(),
        "fid": fid(m1, s1, m2, s2),
        "kid": {"real_subsets": rs, "fake_subsets": fs,
                "mean": float(np.mean(kids)), "std": float(np.std(kids))},
        "is": {"n": N_LOGITS, "classes": CLASSES, "splits": SPLITS, "mean": is_mean, "std": is_std},
        "pr": {"k": PR_K, "precision": inside(fake, real, rr), "recall": inside(real, fake, fr)},
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_metrics.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path, "fid", out["fid"], "kid", out["kid"]["mean"], "is", is_mean,
          "pr", out["pr"]["precision"], out["pr"]["recall"])


if __name__ == "__main__":
    main()
