"""The Python binding's type stub (shiplog/__init__.pyi) against the module
it describes: the same public names, classes with the same members, and
(where Debian's mypy is installed) typed code that checks against it.
"""

import ast
import pathlib
import subprocess
import sys
import textwrap

import pytest

import shiplog

STUB = pathlib.Path(shiplog.__file__).with_name("__init__.pyi")
# Declared for type checkers, but a C slot rather than an attribute before
# Python 3.12 (PEP 688).
SLOTS_ONLY_IN_STUB = {"__buffer__"}


def stub_module():
    return ast.parse(STUB.read_text(), filename=str(STUB))


def defined_name(node):
    if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
        return node.name
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
            isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    return None


def stub_classes():
    return {node.name: node for node in stub_module().body
            if isinstance(node, ast.ClassDef) and
            not node.name.startswith("_")}


def stub_members(class_node):
    return {name for node in class_node.body
            if (name := defined_name(node)) is not None}


def test_the_stub_names_what_the_module_exports():
    names = {defined_name(node) for node in stub_module().body}
    public = {name for name in names
              if name is not None and not name.startswith("_")}
    assert public == set(shiplog.__all__)
    assert "__version__" in names
    for name in public:
        assert hasattr(shiplog, name), name


@pytest.mark.parametrize("name", sorted(stub_classes()))
def test_a_stub_class_has_the_runtime_classs_members(name):
    stub = stub_members(stub_classes()[name]) - SLOTS_ONLY_IN_STUB
    runtime_class = getattr(shiplog, name)
    for member in stub:
        assert hasattr(runtime_class, member), f"{name}.{member}"
    if issubclass(runtime_class, BaseException):
        return  # exceptions inherit the built-ins' members
    runtime = {member for member in vars(runtime_class)
               if not member.startswith("_")}
    assert runtime <= stub, f"{name}: not in the stub: {runtime - stub}"


def test_the_stub_is_shipped_with_py_typed():
    assert STUB.with_name("py.typed").exists()


TYPED_USE = """
    import socket
    import shiplog

    def tail(path: str, sock: socket.socket) -> list[bytes | None]:
        with shiplog.Store(path, segment_bytes=1 << 20) as store:
            log: shiplog.Log = store.log("events-0", retention_ms=None)
            first: int = log.append(b"v", key="k", headers={"h": None})
            log.append_many([b"a", (b"k", "v"), {"value": b"d"}],
                            compression="zstd")
            with log.view(first) as view:
                size: int = len(view)
                decoded: list[shiplog.Record] = list(view.records())
            sent: shiplog.SendResult = log.send(sock, first, policy="copy")
            found: int | None = log.offset_for_time(0)
            counters: int = store.metrics().appended_records
            return [record.value for record in log.read(first)]
"""

MISTYPED_USE = """
    import shiplog

    store = shiplog.Store("path")
    store.log("events-0").append(42)
    store.log("events-0").send(None, policy="splice")
"""


def mypy(tmp_path, source):
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--cache-dir", str(tmp_path / "cache"), str(program)],
        env={"MYPYPATH": str(STUB.parent.parent)},
        capture_output=True, text=True, timeout=300)


@pytest.fixture
def has_mypy():
    pytest.importorskip("mypy", reason="Debian's python3-mypy is not installed")


def test_typed_code_checks_against_the_stub(has_mypy, tmp_path):
    checked = mypy(tmp_path, TYPED_USE)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_mistyped_code_fails_against_the_stub(has_mypy, tmp_path):
    checked = mypy(tmp_path, MISTYPED_USE)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert 'Argument 1 to "append" of "Log"' in checked.stdout
    assert 'Argument "policy" to "send" of "Log"' in checked.stdout
