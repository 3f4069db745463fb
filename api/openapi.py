"""OpenAPI schema for msgspec Structs whose defaults are empty dicts or lists.

Litestar 2.25's built-in struct plugin tests `field.default not in {NODEFAULT, UNSET}`, which hashes the
default and fails for `{}`/`[]` defaults (planner.domain.Policy has `borough_floors: ... = {}`). This
plugin is the same schema generation with an identity test; it runs before the built-in one."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.plugins.core._msgspec import kwarg_definition_from_field
from litestar.types.empty import Empty
from litestar.typing import FieldDefinition


class SafeStructSchemaPlugin(StructSchemaPlugin):
    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Any:
        type_hints = field_definition.get_type_hints(include_extras=True, resolve_generics=True)
        info: msgspec.inspect.StructType = msgspec.inspect.type_info(field_definition.type_)  # type: ignore[assignment]
        properties = {}
        for field in info.fields:
            kwargs = {}
            if kwarg_definition := kwarg_definition_from_field(field)[0]:
                kwargs["kwarg_definition"] = kwarg_definition
            default = field.default
            if default is msgspec.NODEFAULT or default is msgspec.UNSET:
                default = Empty
            properties[field.encode_name] = FieldDefinition.from_annotation(
                annotation=type_hints[field.name], name=field.encode_name, default=default, **kwargs
            )
        required = sorted(f.encode_name for f in info.fields if f.required)
        return schema_creator.create_component_schema(
            field_definition, required=required, property_fields=properties
        )


def raw_body_operation(media_type: str, description: str) -> type[Any]:
    """An Operation class that documents a raw (non-JSON-decoded) request body of `media_type`.

    Import routes read the upload as bytes (Litestar's reserved `body` parameter) so that every row
    can be checked and reported; this puts the body back into the OpenAPI document."""
    from dataclasses import dataclass

    from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

    @dataclass
    class RawBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                content={media_type: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
                description=description,
                required=True,
            )

    RawBodyOperation.__name__ = f"RawBodyOperation_{media_type.replace('/', '_')}"
    return RawBodyOperation
