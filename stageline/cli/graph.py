"""`stageline graph`: the stage graph as text, Mermaid or DOT."""

from __future__ import annotations

import click

from components.errors import ConfigError
from stageline.cli.context import CliContext
from stageline.graph import StageGraph, StageNode, load_stage_graph


def _label(node: StageNode) -> str:
    dr = ", DR" if node.is_dr else ""
    return f"{node.name} ({node.target} {node.region}{dr})"


def as_text(graph: StageGraph) -> str:
    lines: list[str] = []

    def walk(name: str, depth: int) -> None:
        lines.append(f"{'  ' * depth}{'└─ ' if depth else ''}{_label(graph.nodes[name])}")
        for child in sorted(n.name for n in graph.downstream(name)):
            walk(child, depth + 1)

    for root in sorted(n.name for n in graph.nodes.values() if not n.promotes_from):
        walk(root, 0)
    routes = sorted(
        {tuple(sorted((n.name, o))) for n in graph.nodes.values() for o in n.routable_with}
    )
    lines += [f"routable: {a} <-> {b}" for a, b in routes]
    return "\n".join(lines)


def _id(name: str) -> str:
    return name.replace("-", "_")


def as_mermaid(graph: StageGraph) -> str:
    lines = ["graph LR"]
    for node in sorted(graph.nodes.values(), key=lambda n: n.name):
        lines.append(f'  {_id(node.name)}["{_label(node)}"]')
    for upstream, downstream in graph.edges():
        arrow = "-.->|DR|" if graph.nodes[downstream].is_dr else "-->"
        lines.append(f"  {_id(upstream)} {arrow} {_id(downstream)}")
    return "\n".join(lines)


def as_dot(graph: StageGraph) -> str:
    lines = ["digraph stageline {", "  rankdir=LR;"]
    for node in sorted(graph.nodes.values(), key=lambda n: n.name):
        lines.append(f'  "{node.name}" [label="{_label(node)}"];')
    for upstream, downstream in graph.edges():
        style = ' [style=dashed, label="DR"]' if graph.nodes[downstream].is_dr else ""
        lines.append(f'  "{upstream}" -> "{downstream}"{style};')
    lines.append("}")
    return "\n".join(lines)


FORMATS = {"text": as_text, "mermaid": as_mermaid, "dot": as_dot}


@click.command()
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="text")
@click.pass_obj
def graph(obj: CliContext, fmt: str) -> None:
    """Print the stage graph drawn from stacks/."""
    try:
        stage_graph = load_stage_graph(obj.project.stacks_dir)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(FORMATS[fmt](stage_graph))
