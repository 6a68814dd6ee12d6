"""Suite-wide test configuration: hypothesis profiles, and a private user cache.

``ci`` (the default, and what ``.ci/run`` uses) is derandomized with no deadline and no example
database, so a run is repeatable; ``dev`` explores randomly with more examples
(``pytest --hypothesis-profile=dev``).

The suite runs with ``XDG_CACHE_HOME`` set to a fresh temporary folder (removed at the end), so
nothing kept in the user's cache (``skiffeval.usercache``) by an earlier run or by the person
running the tests answers for the code under test.
"""

from __future__ import annotations

import os
import shutil
import tempfile

_USER_CACHE = tempfile.mkdtemp(prefix="skiffeval-test-cache-")
os.environ["XDG_CACHE_HOME"] = _USER_CACHE


def pytest_unconfigure(config) -> None:
    shutil.rmtree(_USER_CACHE, ignore_errors=True)

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
