"""Shapes of the v1 answers shared by several routers. Descriptions are bilingual because
the schema is read by integrators on both sides (中文 / English)."""

from typing import Any

from ninja import Field, Schema
from ninja.schema import DjangoGetter
from pydantic import ConfigDict, ModelWrapValidatorHandler, ValidationInfo, model_validator


class BodyIn(Schema):
    """A JSON body the caller sends. A field we do not know is refused (422
    `extra_forbidden`) rather than dropped: a misspelt `expected_verison` would otherwise
    act without the version check the caller meant to ask for."""

    model_config = ConfigDict(extra="forbid")


class Answer(Schema):
    """An answer the views build as plain dicts (`cases._summary` and the like), validated
    as a dict. ninja's `Schema` wraps every object it validates in a `DjangoGetter` (so that
    model instances and `resolve_*` methods work), and a list page of 25 cases is about a
    hundred nested objects: a tenth of the request's time at a city's scale. A dict needs
    none of it; anything else still goes ninja's way, as does a schema with resolvers."""

    # The same name as ninja's validator, so that this one replaces it.
    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if isinstance(values, dict) and not cls._ninja_resolvers:  # type: ignore[attr-defined]
            return handler(values)
        if cls.model_config.get("extra") == "forbid" or cls.model_config.get(
            "validate_assignment", False
        ):
            handler(values)
        return handler(DjangoGetter(values, cls, info.context))


class PlaceRef(Answer):
    """地点摘要 / A place, briefly."""

    code: str = Field(description="地点编码（物化路径）/ place code, a materialised path")
    name: str = Field(description="名称 / name")
    kind: str = Field(description="类型 / kind: district, subdistrict, community, estate, …")


class GridRef(Schema):
    """网格摘要 / A grid, briefly."""

    code: str = Field(description="网格编码 / grid code")
    name: str = Field(description="名称 / name")


class Page(Answer):
    """分页信息 / Pagination: `count` is the total across all pages."""

    count: int = Field(description="总数 / total number of items")
    limit: int = Field(description="每页条数 / page size")
    offset: int = Field(description="起始位置 / offset of the first item")


def label_of(choices: Any, value: str) -> str:
    """The display label of a choice value in the active language ('' when unknown)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return ""
