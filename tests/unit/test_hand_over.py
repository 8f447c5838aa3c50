"""``hand_over`` (give the workspace to the sandbox user) and the shared working-directory check.

The hand-over runs as root before every sandboxed command while other commands of the same
run may be running: generated code can swap a folder of the workspace for a symlink to a host
folder between the listing and the change of owner. These tests do that swap at the first
change of owner and check that no host file changes hands.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tools.sandbox.base import Sandbox, SandboxError, hand_over
from tools.sandbox.local import LocalSandbox

UID, GID = 65530, 65530

root_only = pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0,
                               reason="hand_over changes owners only when run as root")


def _owner(path: Path) -> tuple[int, int]:
    info = path.lstat()
    return info.st_uid, info.st_gid


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    """``ws/{a/{secret,deep/x},b}`` and an ``outside/{secret,deep/x}`` owned by root."""
    workspace, outside = tmp_path / "ws", tmp_path / "outside"
    for top in (workspace, outside):
        (top / "a" / "deep").mkdir(parents=True)
        (top / "a" / "secret").write_text("s")
        (top / "a" / "deep" / "x").write_text("x")
    (workspace / "b").write_text("b")
    for path in (outside, *outside.rglob("*")):
        os.lchown(path, 0, 0)
    return workspace, outside


def _swap_at_first_chown(monkeypatch: pytest.MonkeyPatch, swap: Callable[[], None]) -> None:
    """Run ``swap`` once, right before the first change of owner (whatever call makes it)."""
    done: list[bool] = []
    for name in ("chown", "lchown", "fchown"):
        original = getattr(os, name)

        def wrapper(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            if not done:
                done.append(True)
                swap()
            return __original(*args, **kwargs)

        monkeypatch.setattr(os, name, wrapper)


@root_only
def test_hands_over_the_tree_and_not_symlink_targets(tmp_path: Path) -> None:
    workspace, outside = _tree(tmp_path)
    (workspace / "link").symlink_to(outside / "a" / "secret")
    (workspace / "dirlink").symlink_to(outside, target_is_directory=True)
    changed = hand_over([workspace, tmp_path / "missing"], UID, GID)
    inside = [workspace, *workspace.rglob("*")]
    assert changed == len(inside)
    assert all(_owner(path) == (UID, GID) for path in inside)  # links themselves included
    assert all(_owner(path) == (0, 0) for path in (outside, *outside.rglob("*")))
    assert hand_over([workspace], UID, GID) == 0  # already owned: nothing to do


@root_only
def test_a_folder_swapped_for_a_symlink_mid_walk_redirects_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace, outside = _tree(tmp_path)

    def swap() -> None:
        (workspace / "a").rename(workspace / "a-moved")
        (workspace / "a").symlink_to(outside / "a", target_is_directory=True)

    _swap_at_first_chown(monkeypatch, swap)
    hand_over([workspace], UID, GID)
    assert (workspace / "a").is_symlink()  # the swap did happen
    host = [outside, *outside.rglob("*")]
    assert {path.name: _owner(path) for path in host} == {path.name: (0, 0) for path in host}


@root_only
def test_a_hard_link_to_a_host_file_is_not_handed_over(tmp_path: Path) -> None:
    workspace, outside = _tree(tmp_path)
    os.link(outside / "a" / "secret", workspace / "hard")
    hand_over([workspace], UID, GID)
    assert _owner(outside / "a" / "secret") == (0, 0)
    assert _owner(workspace / "b") == (UID, GID)


def test_not_root_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(os, "getuid"):
        pytest.skip("no uids here")
    (tmp_path / "f").write_text("x")
    monkeypatch.setattr(os, "getuid", lambda: 1234)
    assert hand_over([tmp_path], UID, GID) == 0


def test_every_backend_shares_one_working_directory_check(tmp_path: Path) -> None:
    backends: list[type[Sandbox]] = [LocalSandbox]
    from tools.sandbox.docker import DockerSandbox

    backends.append(DockerSandbox)
    if sys.platform.startswith("linux"):
        from tools.sandbox.bwrap import BwrapSandbox

        backends.append(BwrapSandbox)
    for backend in backends:
        assert "_working_directory" not in vars(backend), backend.__name__
    box = LocalSandbox(tmp_path)
    (tmp_path / "sub").mkdir()
    assert box._working_directory(None) == tmp_path.resolve()
    assert box._working_directory(Path("sub")) == (tmp_path / "sub").resolve()
    with pytest.raises(SandboxError, match="outside the workspace"):
        box._working_directory(Path(".."))
    with pytest.raises(SandboxError, match="not a directory"):
        box._working_directory(Path("nope"))
