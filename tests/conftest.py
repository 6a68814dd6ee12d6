"""Suite-wide test configuration: hypothesis profiles.

``ci`` (the default, and what ``.ci/run`` uses) is derandomized with no deadline and no example
database, so a run is repeatable; ``dev`` explores randomly with more examples
(``pytest --hypothesis-profile=dev``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    database=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("SKIFFEVAL_HYPOTHESIS_PROFILE", "ci"))
