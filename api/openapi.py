"""The OpenAPI document as the server behaves: what Litestar generates, made exact.

- Struct schemas: Litestar 2.25's built-in struct plugin tests `field.default not in {NODEFAULT,
  UNSET}`, which hashes the default and fails for `{}`/`[]` defaults (planner.domain.Policy has
  `borough_floors: ... = {}`); `SafeStructSchemaPlugin` is the same generation with an identity test,
  and says `additionalProperties: false` for Structs that refuse unknown fields.
- `ContractOpenAPIPlugin` finishes each operation from facts the handlers do not declare one by one:
  every error is Problem Details (`application/problem+json`) for each status the middleware, the
  guards and the parameter checks can answer with; public routes carry `security: []`; the page-size
  maximum is the configured one."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar._openapi.plugin import OpenAPIPlugin
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Reference, Schema
from litestar.plugins.core._msgspec import kwarg_definition_from_field
from litestar.types.empty import Empty
from litestar.typing import FieldDefinition

from api.auth import is_public
from api.features.common import LIMIT_DESCRIPTION
from api.problems import PROBLEM_JSON, TITLES, Problem


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
        schema = schema_creator.create_component_schema(
            field_definition, required=required, property_fields=properties
        )
        if info.forbid_unknown_fields:
            schema.additional_properties = False
        for field in info.fields:  # Litestar 2.25 leaves a bound of 0 out of the document
            bounds = _zero_bounds(field.type)
            prop = (schema.properties or {}).get(field.encode_name)
            if bounds and isinstance(prop, Schema):
                for name in bounds:
                    setattr(prop, name, 0)
        return schema


def _zero_bounds(kind: Any) -> list[str]:
    """The JSON Schema bounds of an int/float field (or an optional one) that are 0."""
    if isinstance(kind, msgspec.inspect.UnionType):
        arms = [t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType)]
        kind = arms[0] if len(arms) == 1 else None
    if isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    if not isinstance(kind, (msgspec.inspect.IntType, msgspec.inspect.FloatType)):
        return []
    names = {"ge": "minimum", "gt": "exclusive_minimum", "le": "maximum", "lt": "exclusive_maximum"}
    return [schema_name for attr, schema_name in names.items() if getattr(kind, attr) == 0]


def raw_body_operation(media_type: str, description: str) -> type[Any]:
    """An Operation class that documents a raw (non-JSON-decoded) request body of `media_type`.

    Import routes read the upload as bytes (Litestar's reserved `body` parameter) so that every row
    can be checked and reported; this puts the body back into the OpenAPI document: a JSON upload
    as an array of objects (each checked row by row), any other as text."""
    from dataclasses import dataclass

    from litestar.openapi.spec import OpenAPIType, Operation, RequestBody

    if media_type == "application/json":
        body = Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.OBJECT))
    else:
        body = Schema(type=OpenAPIType.STRING)

    @dataclass
    class RawBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                content={media_type: OpenAPIMediaType(schema=body)}, description=description, required=True
            )

    RawBodyOperation.__name__ = f"RawBodyOperation_{media_type.replace('/', '_')}"
    return RawBodyOperation


# ----------------------------------------------------------------------------- operations


def _problem_response(status: int) -> Any:
    return OpenAPIResponse(
        description=f"{TITLES.get(status, 'Error')} (Problem Details)",
        content={PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))},
    )


def _operations(openapi: Any) -> list[tuple[str, Any]]:
    methods = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
    return [
        (path, op)
        for path, item in (openapi.paths or {}).items()
        for op in (getattr(item, m) for m in methods)
        if op is not None
    ]


def finish_contract(openapi: Any, *, max_page_size: int) -> None:
    """Make every operation's documented answers the ones the server gives (see the module doc)."""
    components = openapi.components
    if "Problem" not in (components.schemas or {}):
        properties: dict[str, Schema | Reference] = {f: Schema() for f in Problem.__struct_fields__}
        components.schemas = {**(components.schemas or {}), "Problem": Schema(properties=properties)}
    for path, op in _operations(openapi):
        public = is_public(path)
        params = op.parameters or []
        codes: set[int] = set()
        if not public:
            op.security = [{"ApiKey": []}]
            codes |= {401, 403}  # the key middleware, then the route's guard
        else:
            op.security = []
        if params or op.request_body is not None:
            codes.add(400)  # a parameter or body that does not decode or breaks a bound
        if any(p.param_in == "path" for p in params):
            codes.add(404)
        if op.request_body is not None:
            codes.add(413)  # PLANNER_MAX_BODY_BYTES
        responses = op.responses = op.responses or {}
        for code, response in list(responses.items()):
            if int(code) >= 400 and (response.content is None or PROBLEM_JSON not in response.content):
                responses[code] = _problem_response(int(code))
        for code in sorted(codes):
            responses.setdefault(str(code), _problem_response(code))
        for p in params:
            if p.name == "limit" and p.param_in == "query" and p.description == LIMIT_DESCRIPTION:
                p.schema.maximum = max_page_size  # what page_bounds accepts


class ContractOpenAPIPlugin(OpenAPIPlugin):
    """Litestar's OpenAPI plugin, with `finish_contract` applied to the document it builds."""

    __slots__ = ()

    def _build_openapi(self) -> Any:
        openapi = super()._build_openapi()
        settings = self.app.state.settings
        finish_contract(openapi, max_page_size=settings.server.max_page_size)
        return openapi


def contract_plugin_hook(config: Any) -> Any:
    """An `on_app_init` hook: the app's OpenAPI plugin becomes `ContractOpenAPIPlugin` (before it
    builds the /schema routes, which serve the plugin they were built by)."""
    for i, plugin in enumerate(config.plugins):
        if type(plugin) is OpenAPIPlugin:
            config.plugins[i] = ContractOpenAPIPlugin(plugin.app)
    return config


def register_contract_plugin(app: Any) -> None:
    """`app.openapi_schema` looks the plugin up by its exact type: let it find the contract one."""
    app.plugins._plugins_by_type[OpenAPIPlugin] = app.plugins.get(ContractOpenAPIPlugin)
