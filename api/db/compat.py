"""Reading stored domain records written by an older version of `planner.domain`.

Stored policy versions are immutable JSON. The domain types reject unknown fields, so a field that
was renamed or removed since a row was written would make that row unreadable; here such fields
are dropped (with a warning) and the rest decoded, defaults filling what is new."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

import msgspec
from msgspec import inspect as mi

log = logging.getLogger("api.db")
T = TypeVar("T")


def _strip(value: Any, kind: mi.Type, dropped: list[str], where: str) -> Any:
    if isinstance(kind, mi.StructType) and isinstance(value, dict):
        fields = {f.encode_name: f.type for f in kind.fields}
        out = {}
        for key, item in value.items():
            if key in fields:
                out[key] = _strip(item, fields[key], dropped, f"{where}.{key}")
            else:
                dropped.append(f"{where}.{key}")
        return out
    if isinstance(kind, mi.DictType) and isinstance(value, dict):
        return {k: _strip(v, kind.value_type, dropped, f"{where}.{k}") for k, v in value.items()}
    if isinstance(kind, (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)) and isinstance(
        value, list
    ):
        return [_strip(v, kind.item_type, dropped, f"{where}[]") for v in value]
    if isinstance(kind, mi.UnionType):
        structs = [t for t in kind.types if isinstance(t, mi.StructType)]
        if len(structs) == 1 and isinstance(value, dict):
            return _strip(value, structs[0], dropped, where)
    return value


def decode_lenient(data: bytes | str, type_: type[T]) -> T:
    """Decode JSON as `type_`; if that fails, drop fields `type_` no longer has and try again."""
    try:
        return msgspec.json.decode(data, type=type_)
    except msgspec.ValidationError:
        raw = msgspec.json.decode(data)
        dropped: list[str] = []
        stripped = _strip(raw, mi.type_info(type_), dropped, "$")
        result = msgspec.convert(stripped, type_)
        log.warning("read a stored %s written by an older version; ignored %s", type_.__name__, dropped)
        return result
