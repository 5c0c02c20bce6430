"""The `moosegen` command line. Heavy clients (Kafka, ClickHouse) are imported lazily."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from moosegen.diagnostics import Diagnostic, ErrorFormat, format_diagnostics, has_errors

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
# Errors in these categories are findings about a valid project (exit 1); any other
# error means the specs themselves are wrong (exit 2).
FINDING_CATEGORIES = {
    *("FIELD", "TYPE", "NAME", "ENUM", "UNION", "OUTPUT", "REGISTRY"),
    # JSON Schema compatibility findings
    *("PROPERTY", "CONTENT_MODEL", "REQUIRED", "BOUNDS", "COMBINED", "REFERENCE"),
}

specs_argument = click.argument(
    "specs_dir", default="specs", type=click.Path(file_okay=False, path_type=Path)
)
output_option = click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: `output` of moosegen.yaml, else generated/).",
)
templates_option = click.option(
    "--templates",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A folder of templates that take precedence over the built-in ones.",
)
format_option = click.option(
    "--error-format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="How diagnostics are printed.",
)


def report(diagnostics: list[Diagnostic], fmt: ErrorFormat) -> None:
    if diagnostics or fmt == "json":
        text = format_diagnostics(diagnostics, fmt)
        if text:
            click.echo(text, err=fmt != "json")


# A registry folder that cannot be read is broken input, whatever stage noticed it.
USAGE_CODES = {"REGISTRY_INVALID"}


def exit_for(diagnostics: list[Diagnostic]) -> int:
    errors = [d for d in diagnostics if d.severity == "error"]
    if not errors:
        return EXIT_OK
    findings = all(d.category in FINDING_CATEGORIES and d.code not in USAGE_CODES for d in errors)
    return EXIT_FINDINGS if findings else EXIT_USAGE


def fail(message: str) -> NoReturn:
    click.echo(f"moosegen: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="moosegen")
def main() -> None:
    """Generate typed streaming pipelines from stream specs, and keep them honest in CI.

    Exit codes: 0 ok, 1 findings (breaking schema change, stale output),
    2 usage or spec error.
    """


def _output_dir(specs_dir: Path, output: Path | None, configured: str) -> Path:
    # The configured folder is relative to the project root: the specs folder's parent.
    return output if output is not None else specs_dir.parent / configured


@main.command()
@specs_argument
@output_option
@templates_option
@format_option
def build(
    specs_dir: Path, output: Path | None, templates: Path | None, error_format: ErrorFormat
) -> None:
    """Check schema changes, then render every stream of SPECS_DIR into the output folder."""
    from moosegen import buildcache

    if not specs_dir.is_dir():
        fail(f"specs folder {specs_dir} does not exist")
    hit = buildcache.lookup(
        specs_dir, output, templates, buildcache.input_key(specs_dir, templates)
    )
    if hit is not None:
        report(hit.warnings, error_format)
        if error_format == "text":
            click.echo(f"moosegen: {hit.file_count} files in {hit.output} (up to date)", err=True)
        return

    from moosegen.compat.history import LocalRegistry, RegistryError
    from moosegen.output import OutputError, write_tree

    result = _generate(specs_dir, templates)
    report(result.diagnostics, error_format)
    if has_errors(result.diagnostics):
        sys.exit(exit_for(result.diagnostics))
    assert result.project is not None
    out = _output_dir(specs_dir, output, result.project.config.output)
    registry = LocalRegistry(specs_dir)
    try:
        for planned in result.planned:
            registry.write(planned)
            if error_format == "text":
                click.echo(
                    f"moosegen: registered {planned.subject} v{planned.version} (id {planned.id})",
                    err=True,
                )
        written, removed = write_tree(out, result.files)
    except (OutputError, RegistryError) as exc:
        fail(str(exc))
    # Keyed after the registry was written: registering a version changes the specs folder.
    key = buildcache.input_key(specs_dir, templates)
    buildcache.store(specs_dir, output, templates, key, out, result.diagnostics)
    if error_format == "text":
        click.echo(
            f"moosegen: {len(result.files)} files in {out} "
            f"({len(written)} written, {len(removed)} removed)",
            err=True,
        )


@main.command()
@specs_argument
@output_option
@templates_option
@format_option
@click.option(
    "--against",
    "against_ref",
    metavar="GIT_REF",
    default=None,
    help="Check compatibility with the registry committed at a git ref (a branch or "
    "commit; in a shallow clone, fetch it first).",
)
@click.option(
    "--registry",
    "registry_url",
    metavar="URL",
    envvar="SCHEMA_REGISTRY_URL",
    default=None,
    help="Check compatibility with the versions in a Confluent-compatible "
    "Schema Registry, under `<topic>-value` (credentials: "
    "SCHEMA_REGISTRY_USERNAME/PASSWORD).",
)
def check(
    specs_dir: Path,
    output: Path | None,
    templates: Path | None,
    error_format: ErrorFormat,
    against_ref: str | None,
    registry_url: str | None,
) -> None:
    """Fail (exit 1) on a breaking schema change or a stale output folder. Never writes."""
    from moosegen import buildcache

    if not specs_dir.is_dir():
        fail(f"specs folder {specs_dir} does not exist")
    if against_ref and registry_url:
        fail("give --against or --registry, not both")
    # Another baseline than the local registry can change the verdict: never answered
    # from the cache.
    key = None if against_ref or registry_url else buildcache.input_key(specs_dir, templates)
    hit = None if key is None else buildcache.lookup(specs_dir, output, templates, key)
    if hit is not None:
        report(hit.warnings, error_format)
        sys.exit(EXIT_OK)

    from moosegen.output import check_tree, drift_diagnostics, input_diagnostics

    result = _generate(specs_dir, templates, _baseline(specs_dir, against_ref, registry_url))
    diagnostics = list(result.diagnostics)
    if not has_errors(diagnostics):
        assert result.project is not None
        for planned in result.planned:
            stream = next(s for s in result.project.streams if s.subject == planned.subject)
            diagnostics.append(
                Diagnostic(
                    stream.schema_smap.path,
                    1,
                    1,
                    "error",
                    "REGISTRY_STALE",
                    f"the schema of {planned.subject} changed and is compatible; "
                    f"run `moosegen build` to register it as v{planned.version}",
                    "REGISTRY",
                )
            )
        if registry_url:
            diagnostics += _unpushed(specs_dir, result.project, registry_url)
        out = _output_dir(specs_dir, output, result.project.config.output)
        drift = check_tree(out, result.files)
        if drift:
            diagnostics += input_diagnostics(out, result.files)
        diagnostics += drift_diagnostics(str(out), drift)
        if error_format == "text":
            for d in drift:
                click.echo(f"{d.kind:8} {out}/{d.path}", err=True)
                if d.diff:
                    click.echo(d.diff, err=True, nl=False)
    report(diagnostics, error_format)
    if key is not None and not has_errors(diagnostics):
        buildcache.store(specs_dir, output, templates, key, out, diagnostics)
    sys.exit(exit_for(diagnostics))


def _unpushed(specs_dir: Path, project: Any, registry_url: str) -> list[Diagnostic]:
    from moosegen.compat.history import LocalRegistry, RegistryError, SchemaRegistryClient
    from moosegen.push import unpushed

    try:
        return unpushed(project, LocalRegistry(specs_dir), SchemaRegistryClient(registry_url))
    except RegistryError as exc:
        fail(str(exc))


def _generate(specs_dir: Path, templates: Path | None, baseline: Any = None) -> Any:
    """`build.generate`, with an unreadable folder reported rather than raised."""
    from moosegen.build import generate

    try:
        return generate(specs_dir, templates, baseline)
    except OSError as exc:
        fail(f"{exc.filename or specs_dir}: {exc.strerror or exc}")


def _baseline(specs_dir: Path, against_ref: str | None, registry_url: str | None) -> Any:
    from moosegen.compat.history import GitRefHistory, RegistryError, SchemaRegistryClient

    if registry_url:
        from moosegen.push import registry_subject

        client = SchemaRegistryClient(registry_url)

        def live(stream: Any) -> Any:
            try:
                return client.versions(registry_subject(stream))
            except RegistryError as exc:  # no answer about the schema: a usage error
                fail(str(exc))

        return live
    if not against_ref:
        return None
    top = subprocess.run(
        ["git", "-C", str(specs_dir), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
    )
    if top.returncode != 0:
        fail(f"--against needs {specs_dir} to be inside a git repository")
    root = Path(top.stdout.strip())
    rel = specs_dir.resolve().relative_to(root.resolve()).as_posix()
    try:
        history = GitRefHistory(root, against_ref, rel)
    except RegistryError as exc:
        fail(str(exc))
    return lambda stream: history.versions(stream.subject)


registry_url_option = click.option(
    "--registry",
    "registry_url",
    metavar="URL",
    envvar="SCHEMA_REGISTRY_URL",
    default=None,
    help="A Confluent-compatible Schema Registry (default: $SCHEMA_REGISTRY_URL, else "
    "`registry.url` of moosegen.yaml; credentials: SCHEMA_REGISTRY_USERNAME/PASSWORD).",
)


@main.group()
def registry() -> None:
    """A live Confluent-compatible Schema Registry (Confluent, Apicurio, Karapace)."""


@registry.command("push")
@specs_argument
@registry_url_option
@format_option
def registry_push(specs_dir: Path, registry_url: str | None, error_format: ErrorFormat) -> None:
    """Register every built schema version of SPECS_DIR under `<topic>-value`, in order.

    Sets each subject's compatibility level from its spec first and records the
    registry's ids in registry/index.json (a later `build` frames with them when
    moosegen.yaml names this registry). Exit 1 if the registry refuses a version as
    incompatible, 2 if it is unreachable or refuses the credentials.
    """
    from moosegen.compat.history import LocalRegistry, RegistryError, SchemaRegistryClient
    from moosegen.push import push
    from moosegen.spec.load import load_project

    if not specs_dir.is_dir():
        fail(f"specs folder {specs_dir} does not exist")
    project = load_project(specs_dir)
    report(project.diagnostics, error_format)
    if has_errors(project.diagnostics):
        sys.exit(exit_for(project.diagnostics))
    url = registry_url or project.config.registry.url
    if not url:
        fail("no registry: pass --registry, set SCHEMA_REGISTRY_URL or `registry.url`")
    try:
        result = push(project, LocalRegistry(specs_dir), SchemaRegistryClient(url))
    except RegistryError as exc:
        fail(str(exc))
    for change in result.changes:  # stdout is the JSON document with --error-format json
        click.echo(change, err=error_format == "json")
    report(result.diagnostics, error_format)
    if error_format == "text":
        summary = f"{len(result.changes)} change(s)" if result.changes else "nothing changed"
        click.echo(f"moosegen: registry push to {url}: {summary}", err=True)
    sys.exit(exit_for(result.diagnostics))


@main.command()
@format_option
def codes(error_format: ErrorFormat) -> None:
    """List every diagnostic code: its category, default severity and meaning."""
    from moosegen.codes import CODES

    if error_format == "json":
        click.echo(json.dumps([dataclasses.asdict(c) for c in CODES], indent=2))
        return
    width = max(len(c.code) for c in CODES)
    for c in CODES:
        click.echo(f"{c.code:<{width}}  {c.category:<10}  {c.severity:<7}  {c.description}")


@main.group()
def topics() -> None:
    """Kafka topics of the streams."""


@topics.command("apply")
@specs_argument
@click.option(
    "--bootstrap-servers",
    envvar="KAFKA_BOOTSTRAP_SERVERS",
    default=None,
    help="HOST:PORT[,...]; default: $KAFKA_BOOTSTRAP_SERVERS.",
)
@click.option("--dry-run", is_flag=True, help="Only print what would change.")
@format_option
def topics_apply(
    specs_dir: Path, bootstrap_servers: str | None, dry_run: bool, error_format: ErrorFormat
) -> None:
    """Create missing topics, add partitions and set configs that differ, for every stream.

    Refuses (exit 1) to decrease partitions or change a replication factor. SASL/SSL
    settings come from KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME,
    KAFKA_SASL_PASSWORD and KAFKA_SSL_CA_LOCATION.
    """
    from moosegen.build import load_units
    from moosegen.runtime import topics as kafka_topics
    from moosegen.runtime.config import TopicConfig
    from moosegen.targets import topics as topics_target

    if not specs_dir.is_dir():
        fail(f"specs folder {specs_dir} does not exist")
    if not bootstrap_servers:
        fail("no Kafka: pass --bootstrap-servers or set KAFKA_BOOTSTRAP_SERVERS")
    loaded = load_units(specs_dir)
    report(loaded.diagnostics, error_format)
    if has_errors(loaded.diagnostics):
        sys.exit(exit_for(loaded.diagnostics))
    wanted = [
        TopicConfig(t.name, t.partitions, t.replication_factor, dict(t.config))
        for unit in sorted(loaded.units, key=lambda u: u.stream.package)
        for t in topics_target.plan(unit).topics
    ]
    try:
        changes = kafka_topics.apply(
            bootstrap_servers,
            wanted,
            dry_run=dry_run,
            client_config=kafka_topics.client_config_from_env(),
        )
    except kafka_topics.TopicsApplyError as exc:
        click.echo(f"moosegen: error: {exc}", err=True)
        sys.exit(EXIT_FINDINGS)
    for change in changes:
        click.echo(change.describe())
    verb = "would change" if dry_run else "changed"
    click.echo(
        f"moosegen: {verb} {len(changes)} item(s)" if changes else "moosegen: no changes", err=True
    )
