"""The Debian packages, installed, used the way README.md tells users to.

`./dev test` builds the packages (`./dev package`) and then runs this suite
with SHIPLOG_PACKAGES naming the directory of .debs. The packages are
unpacked into a throwaway root (what dpkg would put on the machine, minus
its database) and nothing of the build tree is on any path: the programs
are README.md's own examples, extracted from it, built with the root's
pkg-config file and CMake package, linked against the root's library, and
run against a store the root's `shiplog` tool filled.
"""

import os
import pathlib
import re
import socket
import struct
import subprocess
import threading

import pytest

SOURCE = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = pathlib.Path(os.environ.get("SHIPLOG_PACKAGES", SOURCE / "build" / "packages"))
PACKAGE_NAMES = ("libshiplog1", "libshiplog-dev", "python3-shiplog", "shiplog-tools")
TIMEOUT = 60


def _debs():
    debs = {}
    for name in PACKAGE_NAMES:
        found = sorted(PACKAGES.glob(f"{name}_*.deb"))
        if len(found) != 1:
            pytest.fail(f"expected one {name}_*.deb in {PACKAGES}, found {found}: run ./dev package")
        debs[name] = found[0]
    return debs


def _multiarch():
    return subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"], check=True,
                          capture_output=True, text=True).stdout.strip()


def _contents(deb):
    """The paths a .deb installs, files and links, without directories."""
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], check=True,
                             capture_output=True, text=True).stdout
    paths = set()
    for line in listing.splitlines():
        path = line.split(None, 5)[5].split(" -> ")[0]
        if not path.endswith("/"):
            paths.add(path.removeprefix("."))
    return paths


def upstream_version(debs):
    """1.1.0 of libshiplog1_1.1.0-1_amd64.deb."""
    version = subprocess.run(["dpkg-deb", "-f", str(debs["libshiplog1"]), "Version"],
                             check=True, capture_output=True, text=True).stdout.strip()
    return version.rsplit("-", 1)[0]


def readme_example(name):
    """The fenced block that follows `<!-- example: NAME -->` in README.md."""
    readme = (SOURCE / "README.md").read_text()
    match = re.search(r"<!-- example: " + re.escape(name) + r" -->\s*```[a-z+]*\n(.*?)```",
                      readme, re.S)
    assert match, f"README.md has no example {name}"
    return match.group(1)


@pytest.fixture(scope="module")
def debs():
    return _debs()


@pytest.fixture(scope="module")
def root(debs, tmp_path_factory):
    """The packages unpacked into a throwaway root."""
    root = tmp_path_factory.mktemp("root")
    for deb in debs.values():
        subprocess.run(["dpkg-deb", "--extract", str(deb), str(root)], check=True)
    return root


@pytest.fixture(scope="module")
def env(root):
    """An environment that sees the root's files and nothing of the build."""
    libdir = root / "usr" / "lib" / _multiarch()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "LD_LIBRARY_PATH", "PKG_CONFIG_PATH",
                        "CMAKE_PREFIX_PATH", "SHIPLOG_BIN")}
    env.update(
        LD_LIBRARY_PATH=str(libdir),
        PKG_CONFIG_SYSROOT_DIR=str(root),
        PKG_CONFIG_LIBDIR=str(libdir / "pkgconfig"),
        PYTHONPATH=str(root / "usr" / "lib" / "python3" / "dist-packages"),
        PATH=f"{root / 'usr' / 'bin'}:{os.environ['PATH']}",
    )
    return env


@pytest.fixture
def store(root, env, tmp_path):
    """A store whose log `events` has 3000 records in several segments,
    written by the root's `shiplog` tool."""
    path = tmp_path / "store"
    lines = "".join(f"user{i}:event number {i}\n" for i in range(3000))
    subprocess.run([str(root / "usr/bin/shiplog"), "produce", str(path), "events",
                    "--key-separator", ":", "--segment-bytes", "32768",
                    "--batch-records", "100"],
                   input=lines, text=True, env=env, check=True, timeout=TIMEOUT)
    return path


def segment_bytes(store, log="events"):
    """The log's segment files, concatenated in offset order."""
    return b"".join(p.read_bytes() for p in sorted((store / log).glob("*.log")))


def run(args, env, cwd, **kwargs):
    return subprocess.run([str(a) for a in args], env=env, cwd=cwd, check=True,
                          capture_output=True, timeout=TIMEOUT, **kwargs)


class Receiver:
    """A loopback TCP listener that collects what one client sends."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.data = bytearray()
        self.thread = threading.Thread(target=self._collect)
        self.thread.start()

    def _collect(self):
        with self.listener, self.listener.accept()[0] as conn:
            conn.settimeout(TIMEOUT)
            while chunk := conn.recv(1 << 16):
                self.data += chunk

    def received(self):
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive(), "the receiver never saw the sender close"
        return bytes(self.data)


# --- what the packages hold --------------------------------------------------


def test_each_package_holds_what_it_should(debs):
    arch = _multiarch()
    lib = f"/usr/lib/{arch}"
    expected = {
        "libshiplog1": {f"{lib}/libshiplog.so.{upstream_version(debs)}",
                        f"{lib}/libshiplog.so.1"},
        "libshiplog-dev": {"/usr/include/shiplog.h", f"{lib}/libshiplog.so",
                           f"{lib}/pkgconfig/shiplog.pc",
                           f"{lib}/cmake/shiplog/shiplogConfig.cmake",
                           f"{lib}/cmake/shiplog/shiplogConfigVersion.cmake",
                           f"{lib}/cmake/shiplog/shiplogTargets.cmake"},
        "python3-shiplog": {"/usr/lib/python3/dist-packages/shiplog/__init__.py",
                            "/usr/lib/python3/dist-packages/shiplog/__init__.pyi",
                            "/usr/lib/python3/dist-packages/shiplog/py.typed"},
        "shiplog-tools": {"/usr/bin/shiplog", "/usr/share/man/man1/shiplog.1.gz"},
    }
    for name, deb in debs.items():
        paths = {p for p in _contents(deb) if not p.startswith("/usr/share/doc/")}
        missing = expected[name] - paths
        assert not missing, f"{name} lacks {missing}"
        extra = paths - expected[name]
        if name == "libshiplog-dev":
            extra = {p for p in extra if re.fullmatch(
                rf"{lib}/cmake/shiplog/shiplogTargets-[a-z]+\.cmake", p) is None}
        if name == "python3-shiplog":
            extra = {p for p in extra if re.fullmatch(
                r"/usr/lib/python3/dist-packages/shiplog/_shiplog\.cpython-3\d+-[\w-]+\.so", p)
                is None}
        assert not extra, f"{name} holds unexpected files {extra}"


def test_apt_can_install_them_with_their_dependencies(debs):
    result = subprocess.run(
        ["apt-get", "install", "--simulate", "--no-install-recommends",
         *(f"./{deb.name}" for deb in debs.values())],
        cwd=PACKAGES, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in PACKAGE_NAMES:
        assert re.search(rf"^Conf {re.escape(name)} ", result.stdout, re.M), result.stdout


def test_the_library_exports_only_shiplog_symbols_with_versions(root):
    # Versions are checked against shiplog.h's "Since" notes by capi_exports.
    library = root / "usr" / "lib" / _multiarch() / "libshiplog.so.1"
    symbols = subprocess.run(["nm", "-D", "--defined-only", "--with-symbol-versions",
                              str(library)], check=True, capture_output=True,
                             text=True).stdout.split("\n")
    names = [line.split()[-1] for line in symbols if line.strip()]
    assert names, "no dynamic symbols at all"
    for name in names:
        assert re.fullmatch(r"shiplog_\w+@@SHIPLOG_1\.\d+|SHIPLOG_1\.\d+(@@SHIPLOG_1\.\d+)?",
                            name), name


def test_the_tool_runs_from_the_root(root, env, tmp_path):
    tool = root / "usr" / "bin" / "shiplog"
    ldd = run(["ldd", tool], env, tmp_path, text=True).stdout
    assert f"{root}/usr/lib/" in ldd, f"{tool} loads another libshiplog:\n{ldd}"
    version = run([tool, "--version"], env, tmp_path, text=True).stdout
    assert re.search(r"\b1\.\d+\.\d+\b", version), version


# --- README's examples, against the installed packages --------------------------


def test_the_readme_c_example_ships_a_log_to_a_socket(env, store, tmp_path):
    source = tmp_path / "ship.c"
    source.write_text(readme_example("ship.c"))
    flags = run(["pkg-config", "--cflags", "--libs", "shiplog"], env, tmp_path,
                text=True).stdout.split()
    assert "-lshiplog" in flags, flags
    run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", source,
         "-o", tmp_path / "ship", *flags], env, tmp_path)

    receiver = Receiver()
    with socket.create_connection(("127.0.0.1", receiver.port)) as sock:
        result = subprocess.run([tmp_path / "ship", store, "events"], stdout=sock,
                                stderr=subprocess.PIPE, env=env, cwd=tmp_path,
                                text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    expected = segment_bytes(store)
    assert len(list((store / "events").glob("*.log"))) >= 3
    assert receiver.received() == expected
    assert f"{len(expected)} bytes" in result.stderr, result.stderr
    assert "offsets 0 to 2999" in result.stderr, result.stderr


def test_the_readme_cxx_example_builds_with_find_package(root, env, store, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "ship.cc").write_text(readme_example("ship.cc"))
    (project / "CMakeLists.txt").write_text(readme_example("CMakeLists.txt"))
    run(["cmake", "-S", project, "-B", tmp_path / "build",
         f"-DCMAKE_PREFIX_PATH={root / 'usr'}"], env, tmp_path)
    run(["cmake", "--build", tmp_path / "build"], env, tmp_path)
    cache = (tmp_path / "build" / "CMakeCache.txt").read_text()
    assert f"shiplog_DIR:PATH={root}/usr/lib/{_multiarch()}/cmake/shiplog" in cache

    end = 3000
    values = ["first from C++", "second from C++", ""]
    ours, theirs = socket.socketpair()
    with ours, theirs:
        result = subprocess.run([tmp_path / "build" / "ship", store, "events", *values],
                                stdout=theirs, stderr=subprocess.PIPE, env=env,
                                cwd=tmp_path, text=True, timeout=TIMEOUT)
        theirs.close()
        assert result.returncode == 0, result.stderr
        ours.settimeout(TIMEOUT)
        received = b""
        while chunk := ours.recv(1 << 16):
            received += chunk
    # One RecordBatch v2: baseOffset, batchLength, ..., recordCount at 57.
    base_offset, batch_length = struct.unpack_from(">qi", received)
    assert base_offset == end
    assert len(received) == 12 + batch_length
    assert struct.unpack_from(">i", received, 57)[0] == len(values)
    assert f"offsets {end} to {end + len(values) - 1}" in result.stderr, result.stderr
    consumed = run([root / "usr/bin/shiplog", "consume", store, "events", "--offset",
                    str(end)], env, tmp_path, text=True).stdout
    assert consumed == "".join(v + "\n" for v in values)


def test_the_readme_python_example_runs_outside_the_tree(root, env, store, tmp_path):
    where = run(["/usr/bin/python3", "-c", "import shiplog; print(shiplog.__file__)"],
                env, tmp_path, text=True).stdout.strip()
    assert where.startswith(f"{root}/usr/lib/python3/dist-packages/shiplog/"), where

    script = tmp_path / "ship.py"
    script.write_text(readme_example("ship.py"))
    receiver = Receiver()
    result = run(["/usr/bin/python3", script, store, "events", "127.0.0.1",
                  str(receiver.port)], env, tmp_path, text=True)
    received = receiver.received()
    assert received == segment_bytes(store)
    assert f"{len(received)} bytes, offsets 0..3000" in result.stdout, result.stdout
