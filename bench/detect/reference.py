"""What an analyst would run instead of greenwatch's detector, over the same series: a
seasonal rolling-median baseline with MAD intervals in pandas, and statsmodels' robust STL
(period 24) with a MAD threshold on its residuals. Prints seconds per method as JSON.

    python reference.py SERIES.csv   (one series per line, comma-separated hourly counts)
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from statsmodels.tsa.seasonal import STL


def rolling_median_baseline(values):
    s = pd.Series(values)
    hour = np.arange(len(s)) % 24
    # Same hour over the previous 7 days, median, and the MAD of the residuals over a week.
    expected = s.groupby(hour).transform(lambda x: x.shift(1).rolling(7, min_periods=3).median())
    resid = s - expected
    mad = resid.rolling(168, min_periods=24).apply(lambda r: np.median(np.abs(r - np.median(r))), raw=True)
    return (resid > 4.5 * 1.4826 * mad.clip(lower=1)).sum()


def stl(values):
    res = STL(np.asarray(values, dtype=float), period=24, robust=True).fit()
    r = res.resid
    mad = np.median(np.abs(r - np.median(r)))
    return int((r > 4.5 * 1.4826 * max(mad, 1)).sum())


def main():
    series = [[float(v) for v in line.split(",")] for line in open(sys.argv[1]) if line.strip()]
    out = {"series": len(series), "points": len(series[0])}
    for name, method in [("pandas_rolling_median", rolling_median_baseline), ("statsmodels_stl", stl)]:
        start = time.perf_counter()
        flagged = sum(int(method(v)) for v in series)
        out[name] = {"seconds": time.perf_counter() - start, "flagged": flagged}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
