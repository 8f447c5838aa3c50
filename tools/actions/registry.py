"""The action registry: each action declared once, its tool schema generated from it (T1)."""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from tools.actions.base import ActionResult
from tools.actions.context import ActionContext
from tools.actions.policy import Policy

#: Names the OpenAI tool-calling API accepts for a function.
ACTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

P = TypeVar("P", bound=BaseModel)

#: A handler gets the validated parameters, the run's context and the policy (for paths and
#: limits) and returns the result; it raises :class:`~tools.actions.context.ActionError` for a
#: failure the model should read.
Handler = Callable[[Any, ActionContext, Policy], ActionResult]


@dataclass(frozen=True)
class ActionSpec:
    """One registered action.

    Attributes:
        name: the tool name the model calls.
        params_model: the pydantic model its parameters are validated with; its docstring is
            the tool description.
        handler: the function that runs it (see :data:`Handler`).
        needs_approval: True when a person must approve each call.

    """

    name: str
    params_model: type[BaseModel]
    handler: Handler
    needs_approval: bool = False

    @property
    def description(self) -> str:
        """The tool description: the parameter model's docstring, dedented."""
        return inspect.cleandoc(self.params_model.__doc__ or "")

    def tool_schema(self) -> dict[str, Any]:
        """The OpenAI function-tool schema of this action.

        Returns:
            ``{"type": "function", "function": {"name", "description", "parameters"}}``
            where ``parameters`` is the JSON schema of :attr:`params_model` (required
            parameters listed under ``"required"``).

        """
        schema = copy.deepcopy(convert_to_openai_tool(self.params_model))
        schema["function"]["name"] = self.name
        schema["function"]["description"] = self.description
        return schema


class ActionRegistry:
    """The actions a run offers, by name, in registration order."""

    def __init__(self) -> None:
        self._specs: dict[str, ActionSpec] = {}

    def register(
        self,
        name: str,
        params_model: type[P],
        handler: Callable[[P, ActionContext, Policy], ActionResult],
        needs_approval: bool = False,
    ) -> ActionSpec:
        """Add an action.

        Args:
            name: tool name, ``[A-Za-z0-9_-]{1,64}``.
            params_model: pydantic model of its parameters (docstring and field
                descriptions become the tool schema).
            handler: called with validated ``params_model`` instances.
            needs_approval: a person must approve each call.

        Returns:
            The stored :class:`ActionSpec`.

        Raises:
            ValueError: the name is malformed or already registered.

        """
        if not ACTION_NAME.match(name):
            raise ValueError(f"action name '{name}' must match {ACTION_NAME.pattern}")
        if name in self._specs:
            raise ValueError(f"action '{name}' is already registered")
        spec = ActionSpec(name, params_model, handler, needs_approval)
        self._specs[name] = spec
        return spec

    def get(self, name: str) -> ActionSpec:
        """The action called ``name``.

        Raises:
            KeyError: no such action.

        """
        try:
            return self._specs[name]
        except KeyError:
            raise KeyError(f"unknown action '{name}'") from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def names(self) -> list[str]:
        """Registered action names, in registration order."""
        return list(self._specs)

    def tool_schemas(self) -> list[dict[str, Any]]:
        """OpenAI function-tool schemas of all actions (see :meth:`ActionSpec.tool_schema`)."""
        return [spec.tool_schema() for spec in self._specs.values()]
