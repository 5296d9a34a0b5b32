"""Synthetic four-week hourly Poisson series with diurnal and weekly cycles and a few surges,
one per line, for timing detectors on identical input."""
import math
import sys

import numpy as np

rng = np.random.default_rng(7)
for i in range(int(sys.argv[1])):
    level = 10 ** rng.uniform(1, 3)
    hours = np.arange(28 * 24)
    mean = level * (1 + 0.23 * np.sin(2 * math.pi * ((hours % 24) - 9) / 24))
    mean *= np.where((hours // 24) % 7 >= 5, 0.8, 1.0)
    for _ in range(2):
        start = rng.integers(7 * 24, 27 * 24)
        mean[start:start + 2] *= rng.choice([3, 5, 10])
    print(",".join(str(v) for v in rng.poisson(mean)))
