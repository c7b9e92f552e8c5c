"""`agentforge brains list|add|remove|models|default`."""

from __future__ import annotations

import argparse
import asyncio

from ..brains.registry import BrainRegistry, BrainSpec
from ._io import print_json, text_table


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("brains", help="configure the LLM brains that write the code")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = sub.add_parser("list", help="list brains (built-in offline ones included)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=list_brains)

    add = sub.add_parser(
        "add", help="add an OpenAI-compatible endpoint, or a RunPod Serverless vLLM endpoint"
    )
    add.add_argument("name")
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--base-url", help="e.g. http://localhost:8000/v1 (vLLM, Ollama, OpenAI)")
    where.add_argument("--runpod-endpoint", metavar="ID", help="RunPod Serverless endpoint id")
    add.add_argument("--model", required=True, help="model name, or a LoRA adapter served by vLLM")
    add.add_argument(
        "--api-key-env", help="NAME of the environment variable holding the key (never the key)"
    )
    add.add_argument("--timeout", type=float, default=60.0)
    add.add_argument("--retries", type=int, default=2)
    add.add_argument("--temperature", type=float, default=0.2)
    add.add_argument(
        "--json-schema",
        action="store_true",
        help="the endpoint accepts response_format json_schema",
    )
    add.add_argument("--replace", action="store_true", help="overwrite a brain of the same name")
    add.set_defaults(func=add_brain)

    remove = sub.add_parser("remove", help="remove a configured brain")
    remove.add_argument("name")
    remove.set_defaults(func=remove_brain)

    models = sub.add_parser("models", help="what the brain's endpoint serves (/v1/models)")
    models.add_argument("name")
    models.add_argument("--json", action="store_true")
    models.set_defaults(func=list_models)

    default = sub.add_parser("default", help="show or set the default brain")
    default.add_argument("name", nargs="?")
    default.set_defaults(func=default_brain)


def list_brains(args: argparse.Namespace) -> int:
    registry = BrainRegistry()
    specs = registry.list()
    default = registry.default_name()
    if args.json:
        print_json([{**s.to_dict(), "default": s.name == default} for s in specs])
        return 0
    rows = [
        ["*" if s.name == default else "", s.name, s.kind, s.model or "", s.describe()]
        for s in specs
    ]
    print(text_table(["", "name", "kind", "model", "where"], rows))
    return 0


def add_brain(args: argparse.Namespace) -> int:
    spec = BrainSpec(
        name=args.name,
        kind="runpod" if args.runpod_endpoint else "openai",
        base_url=args.base_url,
        endpoint_id=args.runpod_endpoint,
        model=args.model,
        api_key_env=args.api_key_env,
        timeout=args.timeout,
        retries=args.retries,
        temperature=args.temperature,
        supports_json_schema=args.json_schema,
    )
    added = BrainRegistry().add(spec, replace=args.replace)
    print(f"added brain {added.name}: {added.describe()}")
    return 0


def remove_brain(args: argparse.Namespace) -> int:
    removed = BrainRegistry().remove(args.name)
    print(f"removed brain {removed.name}")
    return 0


def list_models(args: argparse.Namespace) -> int:
    models = asyncio.run(BrainRegistry().list_models(args.name))
    if args.json:
        print_json(models)
    else:
        print("\n".join(models) if models else "(the endpoint lists no models)")
    return 0


def default_brain(args: argparse.Namespace) -> int:
    registry = BrainRegistry()
    if args.name:
        registry.set_default(args.name)
    print(registry.default_name())
    return 0
