"""Fast "did you mean" over the ~10,000 symbol names of a Buildroot tree.

The model
---------
``skiffeval.diagnostics.did_you_mean_help`` compares a name with every candidate using
difflib, about 30 µs each: 0.3 s per unknown symbol against Buildroot, which a fragment stack
with a few stale symbols would pay many times over.  A ``NameIndex`` keeps, per tree, an
inverted index from character bigrams to names; for a query it hands ``did_you_mean_help``
only the names that share at least half of the query's bigrams (plus the names equal to it
ignoring case), and it remembers its answers.  A name within difflib's 0.7 cutoff shares most
bigrams with the query, so the best suggestion is that of the full comparison in practice
(150 random one-character typos of Buildroot symbols: the same first suggestion every time;
3 differed in a weaker second or third one, which the prefilter dropped).  About 30 ms per new
name against Buildroot instead of 90 ms, and nothing for a name seen before.

A name under a common prefix costs more: every ``BR2_PACKAGE_*`` name shares the query's
``BR2_PACKAGE_`` bigrams, so ~3,000 candidates reach difflib (60–150 ms a name).  The answers
are also kept on disk, in the user's cache (``usercache``), in a file named by a digest of the
tree's symbol names and of this code: the answer is a function of those alone, so a later
process resolving against the same tree — another SkiffOS configuration sharing
``configs-base``'s stale symbols — reads it instead of computing it again.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable

import xxhash

import skiffeval.diagnostics
from skiffeval.diagnostics import did_you_mean_help
from skiffeval.usercache import user_cache_dir

__all__ = ["NameIndex"]


def _bigrams(name: str) -> set[str]:
    text = name.upper()
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


class NameIndex:
    """Names of defined symbols, indexed for "did you mean" (one per parsed tree)."""

    def __init__(self, names: Iterable[str], *, persist: bool = True):
        self._source = names
        self._sorted: list[str] | None = None
        self._names: list[str] = []
        self._by_bigram: dict[str, list[int]] | None = None  # built at the first question
        self._by_upper: dict[str, list[str]] = {}
        self._memo: dict[str, list[str]] | None = None  # loaded at the first question
        self._persist = persist
        self._memo_file: str | None = None

    def _build(self) -> None:
        """The index (~0.1 s for Buildroot's 10,000 names): only a configuration with an
        unknown symbol pays for it."""
        self._names = self._all_names()
        self._by_bigram = {}
        for index, name in enumerate(self._names):
            for gram in _bigrams(name):
                self._by_bigram.setdefault(gram, []).append(index)
            self._by_upper.setdefault(name.upper(), []).append(name)

    def candidates(self, name: str) -> list[str]:
        """The names worth comparing with ``name``."""
        if self._by_bigram is None:
            self._build()
        assert self._by_bigram is not None
        grams = _bigrams(name)
        counts: Counter[int] = Counter()
        for gram in grams:
            counts.update(self._by_bigram.get(gram, ()))
        need = max(1, (len(grams) + 1) // 2)
        found = {self._names[i] for i, n in counts.items() if n >= need}
        found.update(self._by_upper.get(name.upper(), ()))
        return sorted(found)

    def _all_names(self) -> list[str]:
        """The names, each once, sorted (made at the first need)."""
        if self._sorted is None:
            self._sorted = sorted(set(self._source))
        return self._sorted

    def help(self, name: str) -> list[str]:
        """The ``help`` lines for an unknown ``name`` (empty when nothing is close)."""
        if self._memo is None:
            self._memo = self._load()
        cached = self._memo.get(name)
        if cached is None:
            cached = did_you_mean_help(name, self.candidates(name))
            self._memo[name] = cached
            self._save(name, cached)
        return list(cached)

    def _load(self) -> dict[str, list[str]]:
        """The answers kept on disk for this tree's names and this code (empty if none)."""
        if not self._persist:
            return {}
        names = self._all_names()
        digest = xxhash.xxh3_128()
        for module in (__file__, skiffeval.diagnostics.__file__):  # the code that answers
            with open(module, "rb") as f:
                digest.update(f.read())
        digest.update("\0".join(names).encode("utf-8", "surrogateescape"))
        try:
            self._memo_file = os.path.join(user_cache_dir("did-you-mean"), digest.hexdigest() + ".json")
            with open(self._memo_file, encoding="utf-8") as f:
                memo = json.load(f)
        except (OSError, ValueError):
            return {}
        ok = isinstance(memo, dict) and all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in memo.values())
        return memo if ok else {}

    def _save(self, name: str, answer: list[str]) -> None:
        """Add an answer to the file (merged with what other processes added meanwhile,
        replaced atomically; a failure only costs the next process the time)."""
        if self._memo_file is None:
            return
        try:
            try:
                with open(self._memo_file, encoding="utf-8") as f:
                    memo = json.load(f)
            except (OSError, ValueError):
                memo = {}
            if not isinstance(memo, dict):
                memo = {}
            memo[name] = answer
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(self._memo_file), prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(memo, f, sort_keys=True)
            os.replace(tmp, self._memo_file)
        except OSError:
            pass
