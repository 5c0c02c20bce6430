"""`moosegen registry push`, `check --registry` and `build` against a live registry."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from moosegen.compat.history import RegistryError, SchemaRegistryClient

from tests.registry.project import (
    LOCAL_IDS,
    UNRELATED,
    call,
    free_port,
    local_schema,
    moosegen,
    page_views_project,
    record,
)

pytestmark = pytest.mark.registry
LOCATED = re.compile(r"^(\S+):(\d+):(\d+): error\[([A-Z_]+)\]", re.M)


def index_ids(specs: Path, url: str) -> dict[int, int]:
    index = json.loads((specs / "registry" / "index.json").read_text())
    return {e["version"]: e["registry_ids"][url] for e in index["page_views"]
            if url in e.get("registry_ids", {})}


def test_push_registers_in_order_and_again_is_a_no_op(
        tmp_path: Path, live_registry: str) -> None:
    url = live_registry
    specs, topic = page_views_project(tmp_path)
    subject = f"{topic}-value"

    res = moosegen("registry", "push", str(specs), "--registry", url, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    ids = index_ids(specs, url)
    assert sorted(ids) == [1, 2, 3]
    assert min(ids.values()) > UNRELATED  # another producer's ids came first
    assert res.stdout.splitlines() == [
        f"set compatibility of {subject} to BACKWARD_TRANSITIVE",
        *(f"registered {subject} v{v} (id {ids[v]})" for v in (1, 2, 3)),
        *(f"recorded id {ids[v]} of page_views v{v}" for v in (1, 2, 3)),
    ]
    # the registry holds the three versions in order, as moosegen stored them
    assert call(url, "GET", f"/subjects/{subject}/versions") == [1, 2, 3]
    for v in (1, 2, 3):
        live = call(url, "GET", f"/subjects/{subject}/versions/{v}")
        assert live["id"] == ids[v]
        assert json.loads(live["schema"]) == local_schema(specs, v)
    assert call(url, "GET", f"/config/{subject}")["compatibilityLevel"] == "BACKWARD_TRANSITIVE"
    # the local ids stay as they were
    index = json.loads((specs / "registry" / "index.json").read_text())
    assert {e["version"]: e["id"] for e in index["page_views"]} == LOCAL_IDS

    before = (specs / "registry" / "index.json").read_bytes()
    again = moosegen("registry", "push", str(specs), "--registry", url + "/", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert "nothing changed" in again.stderr
    assert (specs / "registry" / "index.json").read_bytes() == before
    assert call(url, "GET", f"/subjects/{subject}/versions") == [1, 2, 3]


def models_ids(tmp: Path) -> tuple[int, list[int]]:
    text = (tmp / "generated" / "page_views" / "models.py").read_text()
    current = int(re.search(r"^SCHEMA_ID = (\d+)$", text, re.M).group(1))  # type: ignore[union-attr]
    block = text[text.index("WRITER_SCHEMAS"):].split("}", 1)[0]
    return current, [int(k) for k in re.findall(r"^\s+(\d+):", block, re.M)]


def test_build_frames_with_the_recorded_registry_ids(
        tmp_path: Path, live_registry: str) -> None:
    url = live_registry
    specs, _ = page_views_project(tmp_path, registry_url=url)
    out = ["--output", str(tmp_path / "generated")]

    # not pushed yet: local ids, and a warning that says what to do
    res = moosegen("build", str(specs), *out, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "warning[REGISTRY_IDS_LOCAL]" in res.stderr and "registry push" in res.stderr
    assert models_ids(tmp_path) == (7, [5, 6, 7])
    behind = moosegen("check", str(specs), *out, "--registry", url, cwd=tmp_path)
    assert behind.returncode == 0, behind.stderr  # a warning: the live subject lacks v1..v3
    assert "warning[REGISTRY_NOT_PUSHED]: v1, v2, v3 of page_views not in" in behind.stderr

    assert moosegen("registry", "push", str(specs), cwd=tmp_path).returncode == 0  # moosegen.yaml
    ids = index_ids(specs, url)
    res = moosegen("build", str(specs), *out, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "REGISTRY_IDS_LOCAL" not in res.stderr
    assert models_ids(tmp_path) == (ids[3], [ids[1], ids[2], ids[3]])
    for against in ([], ["--registry", url]):  # in step with the local and the live history
        check = moosegen("check", str(specs), *out, *against, cwd=tmp_path)
        assert check.returncode == 0, check.stderr
        assert "REGISTRY_NOT_PUSHED" not in check.stderr


def edit_schema(specs: Path, field: str, **changes: Any) -> None:
    path = specs / "page_views.avsc"
    schema = json.loads(path.read_text())
    target = next(f for f in schema["fields"] if f["name"] == field)
    target.update(changes)
    path.write_text(json.dumps(schema, indent=2) + "\n")


def findings(stderr: str) -> set[tuple[str, str]]:
    return {(Path(m.group(1)).name, m.group(4)) for m in LOCATED.finditer(stderr)}


def test_incompatible_change_refused_by_moosegen_and_the_registry(
        tmp_path: Path, live_registry: str) -> None:
    url = live_registry
    specs, topic = page_views_project(tmp_path)
    subject = f"{topic}-value"
    assert moosegen("registry", "push", str(specs), "--registry", url,
                    cwd=tmp_path).returncode == 0
    edit_schema(specs, "url", type="int")  # string -> int: v1..v3 data is unreadable
    candidate = (specs / "page_views.avsc").read_text()
    out = ["--output", str(tmp_path / "generated")]

    build = moosegen("build", str(specs), *out, cwd=tmp_path)
    check = moosegen("check", str(specs), *out, "--registry", url, cwd=tmp_path)
    assert build.returncode == 1 and check.returncode == 1, (build.stderr, check.stderr)
    line = next(n for n, text in enumerate(candidate.splitlines(), 1) if '"url"' in text)
    for res in (build, check):
        located = [m for m in LOCATED.finditer(res.stderr) if m.group(4) != "REGISTRY_STALE"]
        assert located, res.stderr
        assert {(Path(m.group(1)).name, int(m.group(2))) for m in located} == {
            ("page_views.avsc", line)}
    assert findings(build.stderr) == findings(check.stderr)

    client = SchemaRegistryClient(url)
    ok, messages = client.test_compatibility(subject, candidate)
    assert ok is False and messages  # Apicurio says why, as one `reason`
    with pytest.raises(RegistryError) as refused:
        client.register(subject, candidate)
    assert refused.value.problem is not None and refused.value.problem.status == 409
    assert call(url, "GET", f"/subjects/{subject}/versions") == [1, 2, 3]

    # and a compatible change: both accept it, and push registers it as v4
    edit_schema(specs, "url", type="string", doc="the page")
    edit_schema(specs, "referrer", default="-")
    assert client.test_compatibility(subject, (specs / "page_views.avsc").read_text())[0]
    unbuilt = moosegen("registry", "push", str(specs), "--registry", url, cwd=tmp_path)
    assert unbuilt.returncode == 0 and unbuilt.stdout == "", unbuilt.stderr
    assert ("page_views.avsc", "REGISTRY_UNBUILT") in {
        (Path(m.group(1)).name, m.group(2))
        for m in re.finditer(r"^(\S+):\d+:\d+: warning\[([A-Z_]+)\]", unbuilt.stderr, re.M)}
    ids = index_ids(specs, url)
    build = moosegen("build", str(specs), *out, cwd=tmp_path)
    assert build.returncode == 0, build.stderr
    assert index_ids(specs, url) == ids  # appending v4 keeps the recorded ids
    pushed = moosegen("registry", "push", str(specs), "--registry", url, cwd=tmp_path)
    assert pushed.returncode == 0, pushed.stderr
    assert f"registered {subject} v4" in pushed.stdout
    assert sorted(index_ids(specs, url)) == [1, 2, 3, 4]


def test_push_refuses_what_the_registry_rejects_with_located_findings(
        tmp_path: Path, live_registry: str) -> None:
    url = live_registry
    specs, topic = page_views_project(tmp_path)
    subject = f"{topic}-value"
    # another producer owns the subject with an unrelated record, under BACKWARD
    call(url, "PUT", f"/config/{subject}", {"compatibility": "BACKWARD"})
    call(url, "POST", f"/subjects/{subject}/versions",
         {"schema": record("Foreign", ("n", "int"))})

    res = moosegen("registry", "push", str(specs), "--registry", url, cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    got = findings(res.stderr)
    assert ("v1.avsc", "REGISTRY_INCOMPATIBLE") in got
    assert ("v1.avsc", "FIELD_ADDED_WITHOUT_DEFAULT") in got  # moosegen's own, located
    assert "HTTP 409" in res.stderr
    for m in LOCATED.finditer(res.stderr):
        assert Path(m.group(1)).is_file() and int(m.group(2)) >= 1
    assert index_ids(specs, url) == {}  # nothing recorded for what was refused
    assert call(url, "GET", f"/subjects/{subject}/versions") == [1]


class Refusing(BaseHTTPRequestHandler):
    """A registry that refuses the credentials."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        payload = b'{"error_code":40101,"message":"Unauthorized"}'
        self.send_response(401)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def refusing_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_push_unreachable_or_unauthorized_is_exit_2(tmp_path: Path, refusing_url: str) -> None:
    specs, _ = page_views_project(tmp_path)
    before = (specs / "registry" / "index.json").read_bytes()
    closed = f"http://127.0.0.1:{free_port()}"
    down = moosegen("registry", "push", str(specs), "--registry", closed, cwd=tmp_path)
    assert down.returncode == 2 and "registry unreachable" in down.stderr, down.stderr
    denied = moosegen("registry", "push", str(specs), "--registry", refusing_url, cwd=tmp_path,
                      env={"SCHEMA_REGISTRY_USERNAME": "svc", "SCHEMA_REGISTRY_PASSWORD": "x"})
    assert denied.returncode == 2, denied.stderr
    assert "HTTP 401" in denied.stderr and "SCHEMA_REGISTRY_USERNAME" in denied.stderr
    check = moosegen("check", str(specs), "--registry", closed, cwd=tmp_path)
    assert check.returncode == 2 and "registry unreachable" in check.stderr, check.stderr
    unset = moosegen("registry", "push", str(specs), cwd=tmp_path)
    assert unset.returncode == 2 and "no registry" in unset.stderr, unset.stderr
    assert (specs / "registry" / "index.json").read_bytes() == before
    assert "Traceback" not in down.stderr + denied.stderr + check.stderr + unset.stderr


def test_push_refusal_of_the_current_schema_is_located_in_the_spec(
        tmp_path: Path, live_registry: str) -> None:
    url = live_registry
    specs, topic = page_views_project(tmp_path)
    subject = f"{topic}-value"
    assert moosegen("registry", "push", str(specs), "--registry", url,
                    cwd=tmp_path).returncode == 0
    # another producer adds `country` as a string; this project adds it as an int
    theirs = local_schema(specs, 3)
    theirs["fields"].append({"name": "country", "type": "string", "default": "?"})
    call(url, "POST", f"/subjects/{subject}/versions", {"schema": json.dumps(theirs)})
    path = specs / "page_views.avsc"
    ours = json.loads(path.read_text())
    ours["fields"].append({"name": "country", "type": "int", "default": 0})
    path.write_text(json.dumps(ours, indent=2) + "\n")
    out = ["--output", str(tmp_path / "generated")]
    assert moosegen("build", str(specs), *out, cwd=tmp_path).returncode == 0  # locally fine

    res = moosegen("registry", "push", str(specs), "--registry", url, cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1)
                if '"country"' in text)
    located = {(Path(m.group(1)).name, int(m.group(2)), m.group(4))
               for m in LOCATED.finditer(res.stderr)}
    assert ("page_views.avsc", 1, "REGISTRY_INCOMPATIBLE") in located
    assert any(name == "page_views.avsc" and n == line and code.startswith("TYPE_")
               for name, n, code in located), res.stderr
    assert call(url, "GET", f"/subjects/{subject}/versions") == [1, 2, 3, 4]
    assert sorted(index_ids(specs, url)) == [1, 2, 3]  # v4 refused: no id recorded
