"""Spec edits that only the benchmarks' screens use: no other s6 module imports this one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from s6.models.spec import Spec


def changed(spec: Spec, names: Iterable[str], **changes: object) -> Spec:
    """``spec`` with ``changes`` made to the named layers: how a benchmark writes a variant of a model."""
    names = set(names)
    return replace(spec, layers=tuple((name, replace(layer, **changes) if name in names else layer)
                                      for name, layer in spec.layers))
