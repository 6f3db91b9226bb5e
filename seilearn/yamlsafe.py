"""YAML loaded with limits: size, nesting depth and alias expansion.

PyYAML's ``safe_load`` shares aliased nodes, so a "billion laughs" document loads quickly and then
explodes in whatever walks it (validation, JSON, MongoDB). Here the composed node graph is measured
before anything is constructed: the size it would have with every alias expanded, its depth, and
whether an alias refers to itself. A document over a limit is refused with one line naming it.
"""

from __future__ import annotations

from typing import Any

import yaml

from seilearn.errors import InputError

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000  # nodes after alias expansion; a campaign spec has a few hundred
MAX_ALIASES = 1_000


def load_yaml(text: str, origin: str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
              max_nodes: int = MAX_NODES, max_aliases: int = MAX_ALIASES) -> Any:
    """Parse one YAML document safely; raise InputError naming ``origin`` and the limit it exceeds."""
    if len(text) > max_bytes:
        raise InputError(f"{origin}: {len(text)} bytes of YAML is over the limit of {max_bytes}; "
                         "is this the right file?")
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = _compose(loader, origin, max_aliases)
        except RecursionError as exc:
            raise InputError(f"{origin}: YAML nested deeper than {max_depth} levels; flatten it") from exc
        if node is None:
            return None
        _measure(node, origin, max_depth, max_nodes)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise InputError(f"{origin}: not valid YAML: {exc}") from exc
    finally:
        loader.dispose()


def _compose(loader: yaml.SafeLoader, origin: str, max_aliases: int) -> yaml.Node | None:
    count = 0
    compose_node = loader.compose_node

    def counting(parent, index):
        nonlocal count
        if loader.check_event(yaml.AliasEvent):
            count += 1
            if count > max_aliases:
                raise InputError(f"{origin}: more than {max_aliases} YAML aliases (*name); write the values out")
        return compose_node(parent, index)

    loader.compose_node = counting  # type: ignore[method-assign]
    return loader.get_single_node()


def _measure(root: yaml.Node, origin: str, max_depth: int, max_nodes: int) -> None:
    """Expanded node count (memoised per shared node), depth, and cycles, without recursion."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        kids = _children(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            if size[key] > max_nodes:
                raise InputError(f"{origin}: YAML expands to more than {max_nodes} values (aliases of aliases: "
                                 "a 'billion laughs' document?); refusing it")
            if depth[key] > max_depth:
                raise InputError(f"{origin}: YAML nested deeper than {max_depth} levels; flatten it")
            continue
        if key in size:
            continue
        if key in on_path:
            raise InputError(f"{origin}: a YAML alias refers to the value that contains it; remove the cycle")
        on_path.add(key)
        if len(on_path) > max_depth:
            raise InputError(f"{origin}: YAML nested deeper than {max_depth} levels; flatten it")
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []
