"""Run the whole Pulumi program in-process under the SDK's mocks and record what it registers."""

from __future__ import annotations

import json
import runpy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc
from pulumi.runtime.sync_await import _sync_await

from lanes.config.stackfile import read_stack_file_values
from tests.support.stacks import read_stack_values

__all__ = ["ROOT", "Registered", "Run", "run_declarations", "run_program", "stack_values"]

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Registered:
    """One RegisterResource call as the engine would see it."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    parent: str
    dependencies: list[str]
    custom: bool
    provider: str
    outputs: dict[str, Any] = field(default_factory=dict)


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: mocks.MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


class _Monitor(mocks.MockMonitor):
    """Records parent, dependencies and component outputs, which MockResourceArgs lacks."""

    def __init__(self, m: pulumi.runtime.Mocks):
        super().__init__(m)
        self.registered: dict[str, Registered] = {}

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
            self.registered[response.urn] = Registered(
                urn=response.urn,
                type=request.type,
                name=request.name,
                inputs=inputs,
                parent=request.parent,
                dependencies=sorted(request.dependencies),
                custom=bool(request.custom),
                provider=request.provider,
            )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
        if request.urn in self.registered:
            self.registered[request.urn].outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


@dataclass
class Run:
    """What one program run registered, and its stack outputs."""

    resources: list[Registered]
    outputs: dict[str, Any]

    def of_type(self, type_: str) -> list[Registered]:
        return sorted((r for r in self.resources if r.type == type_), key=lambda r: r.name)

    def by_name(self, name: str) -> Registered:
        (found,) = [r for r in self.resources if r.name == name]
        return found

    def tree(self) -> set[tuple[str, str, str]]:
        """(type, name, parent type$name) of every resource: order-free, as registration is."""
        urns = {r.urn: r for r in self.resources}
        return {
            (
                r.type,
                r.name,
                f"{urns[r.parent].type}${urns[r.parent].name}" if r.parent in urns else "",
            )
            for r in self.resources
        }


def stack_values(stack: str) -> dict[str, Any]:
    """The ``lanes:`` values of a committed stack, its region file merged in (one-file form)."""
    return read_stack_values(ROOT, stack)


def stack_file_values(stack: str) -> dict[str, Any]:
    """The ``lanes:`` values the stack file itself holds: what the engine passes the program."""
    return read_stack_file_values(ROOT, stack)


def run_declarations(
    declare: Callable[[], object],
    stack: str,
    config: dict[str, str] | None = None,
    secrets: tuple[str, ...] = (),
    preview: bool = False,
) -> Run:
    """Run ``declare`` as a Pulumi program under the SDK's mocks, with ``config`` (``secrets``
    naming its secret keys), and record what it registers."""
    monitor = _Monitor(_Mocks())
    pulumi.runtime.set_mocks(
        monitor.mocks, project="lanes", stack=stack, preview=preview, monitor=monitor
    )
    pulumi.runtime.set_all_config(config or {}, list(secrets))
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test
    def program():
        declare()
        stack_outputs = pulumi.runtime.get_root_resource().outputs  # type: ignore[union-attr]
        return pulumi.Output.all(**stack_outputs).apply(outputs.update) if stack_outputs else None

    try:
        program()
    finally:
        pulumi.runtime.set_all_config({})
    return Run(list(monitor.registered.values()), outputs)


def run_program(
    stack: str,
    values: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    preview: bool = False,
) -> Run:
    """Run ``__main__.py`` with ``values`` (default: the stack file as the engine passes it, so
    the program reads the region file itself) and ``secrets`` as config."""
    values = stack_file_values(stack) if values is None else values
    secrets = {} if secrets is None else secrets
    config = {f"lanes:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    config |= {f"lanes:{k}": v for k, v in secrets.items()}
    return run_declarations(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
        stack,
        config,
        tuple(f"lanes:{k}" for k in secrets),
        preview,
    )


def resolve(value: Any) -> Any:
    """Await an Output (or plain value) outside a program run."""
    return _sync_await(pulumi.Output.from_input(value).future())
