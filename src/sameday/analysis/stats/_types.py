"""Type aliases shared by the statistics modules."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: A float64 array of any shape: what the vectorised kernels take and return.
FloatArray = npt.NDArray[np.float64]
