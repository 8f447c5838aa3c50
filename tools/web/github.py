"""GitHub repository inspection through its REST API: metadata, README, file tree, one file.

The token (optional; it raises the rate limit from 60 to 5000 requests an hour) is sent only
to the API host: requests go to ``api_base`` and httpx drops ``Authorization`` when a redirect
leaves that origin. Rate-limit headers are respected: once ``x-ratelimit-remaining`` reaches 0
no request is sent before ``x-ratelimit-reset``.
"""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel

from tools.web.base import WebError
from tools.web.cache import Clock
from tools.web.http import Response, WebHttp, check_url

REPO_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
GITHUB_URL = re.compile(r"^https?://(?:www\.)?github\.com/([A-Za-z0-9-]{1,39})/([A-Za-z0-9._-]{1,100})"
                        r"(?:[/?#]|$)")


def parse_repo(repo: str) -> str:
    """``owner/name`` from ``owner/name`` or a ``https://github.com/owner/name/...`` URL.

    Raises:
        WebError: neither form.

    """
    repo = repo.strip()
    match = GITHUB_URL.match(repo)
    if match:
        repo = f"{match.group(1)}/{match.group(2).removesuffix('.git')}"
    if not REPO_NAME.match(repo) or repo.endswith((".", "/..")):
        raise WebError(f"'{repo[:100]}' is not a GitHub repository; give it as owner/name")
    return repo


class RepoInfo(BaseModel):
    """A repository's metadata (texts are untrusted: the owner wrote them).

    ``size_kb`` is GitHub's size of the repository in KiB; ``updated_at`` ISO-8601.
    """

    full_name: str
    description: str = ""
    html_url: str = ""
    homepage: str = ""
    stars: int = 0
    license: str = ""
    default_branch: str = "main"
    updated_at: str = ""
    size_kb: int = 0
    archived: bool = False

    def render(self) -> str:
        """The metadata as ``key: value`` lines."""
        return "\n".join(f"{k}: {v}" for k, v in self.model_dump().items())


class GitHubClient:
    """Reads public (or, with a token, private) repositories.

    Args:
        http: the shared client (cache, rate limit, size caps).
        api_base: the REST API root, ``https://api.github.com`` (or GitHub Enterprise's).
        token: a GitHub token, or None; never logged, sent only to ``api_base``'s host.
        clock: wall-clock seconds (for the rate-limit reset time).

    Raises:
        WebError: ``api_base`` is not an http(s) URL.

    """

    def __init__(self, http: WebHttp, api_base: str = "https://api.github.com",
                 token: str | None = None, clock: Clock = time.time) -> None:
        self.http = http
        self.api_base = check_url(api_base).rstrip("/")
        self._token = token
        self.clock = clock
        self._reset_at: float | None = None

    def __repr__(self) -> str:
        return f"GitHubClient(api_base={self.api_base!r}, token={'set' if self._token else None})"

    # -- the four inspections ----------------------------------------------------------------

    def repo(self, repo: str) -> RepoInfo:
        """Metadata of ``owner/name``.

        Raises:
            WebError: no such (public) repository, rate limit reached, network error.

        """
        name = parse_repo(repo)
        data = self._json(f"/repos/{name}", what=f"repository {name}")
        license_ = data.get("license") or {}
        return RepoInfo(
            full_name=str(data.get("full_name") or name),
            description=str(data.get("description") or ""),
            html_url=str(data.get("html_url") or ""), homepage=str(data.get("homepage") or ""),
            stars=int(data.get("stargazers_count") or 0),
            license=str(license_.get("spdx_id") or license_.get("name") or "")
            if isinstance(license_, dict) else "",
            default_branch=str(data.get("default_branch") or "main"),
            updated_at=str(data.get("pushed_at") or data.get("updated_at") or ""),
            size_kb=int(data.get("size") or 0), archived=bool(data.get("archived")))

    def readme(self, repo: str, max_bytes: int = 200_000) -> tuple[str, str]:
        """``(path, text)`` of the repository's README.

        Raises:
            WebError: no README, larger than ``max_bytes``, rate limit, network error.

        """
        name = parse_repo(repo)
        data = self._json(f"/repos/{name}/readme", what=f"a README in {name}")
        return str(data.get("path") or "README"), _decoded(data, name, max_bytes)

    def tree(self, repo: str, ref: str | None = None, max_entries: int = 500
             ) -> tuple[list[str], bool]:
        """``(paths, truncated)``: every file and folder (folders end in ``/``), recursive.

        ``ref`` is a branch, tag or commit (the default branch when None); at most
        ``max_entries`` paths are returned and ``truncated`` says when there were more.

        Raises:
            WebError: no such repository or ref, rate limit, network error.

        """
        name = parse_repo(repo)
        ref = ref or self.repo(name).default_branch
        data = self._json(f"/repos/{name}/git/trees/{quote(ref, safe='')}",
                          params={"recursive": "1"}, what=f"ref {ref} of {name}")
        tree = data.get("tree")
        entries: list[Any] = tree if isinstance(tree, list) else []
        paths = [str(e.get("path")) + ("/" if e.get("type") == "tree" else "")
                 for e in entries if isinstance(e, dict) and e.get("path")]
        truncated = bool(data.get("truncated")) or len(paths) > max_entries
        return paths[:max_entries], truncated

    def file(self, repo: str, path: str, ref: str | None = None, max_bytes: int = 200_000
             ) -> str:
        """The text of one file of the repository (``ref``: default branch when None).

        Raises:
            WebError: no such file, a folder, binary, larger than ``max_bytes``, rate limit.

        """
        name = parse_repo(repo)
        clean = path.strip().lstrip("/")
        if not clean or ".." in clean.split("/"):
            raise WebError(f"'{path[:100]}' is not a file path of the repository")
        params = {"ref": ref} if ref else None
        data = self._json(f"/repos/{name}/contents/{quote(clean, safe='/')}", params=params,
                          what=f"file {clean} in {name}")
        if not isinstance(data, dict) or data.get("type") != "file":
            raise WebError(f"{clean} in {name} is a folder, not a file; use the tree")
        return _decoded(data, name, max_bytes)

    def tarball_url(self, repo: str, ref: str | None = None) -> str:
        """The API address of the repository's tar.gz archive (redirects to codeload)."""
        name = parse_repo(repo)
        return f"{self.api_base}/repos/{name}/tarball" + (f"/{quote(ref, safe='')}" if ref
                                                          else "")

    def headers_for(self, url: str) -> dict[str, str]:
        """Request headers for ``url``: the API's, plus the token only for the API's host."""
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if self._token and urlsplit(url).netloc.lower() == urlsplit(self.api_base).netloc.lower():
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    # -- plumbing ----------------------------------------------------------------------------

    def _json(self, path: str, *, what: str, params: dict[str, str] | None = None
              ) -> dict[str, Any]:
        if self._reset_at is not None and self.clock() < self._reset_at:
            raise WebError(self._limit_sentence())
        url = self.api_base + path
        response = self.http.get(url, params=params, headers=self.headers_for(url))
        if not response.from_cache:
            self._note_limits(response)
        if response.status == 404:
            raise WebError(f"GitHub has no {what} (or it is private)")
        if response.status in (403, 429):
            if response.headers.get("x-ratelimit-remaining") == "0":
                raise WebError(self._limit_sentence())
            if "retry-after" in response.headers:
                raise WebError("GitHub asks to wait"
                               f" {response.headers['retry-after']} s (secondary rate limit)")
            raise WebError(f"GitHub refused access to {what} (HTTP {response.status})")
        if response.status == 401:
            raise WebError("GitHub refused the token (HTTP 401); check it or remove it")
        if not response.ok:
            raise WebError(f"GitHub answered HTTP {response.status} for {what}")
        try:
            data = json.loads(response.body)
        except ValueError:
            raise WebError(f"GitHub's answer for {what} is not JSON") from None
        if not isinstance(data, dict):
            raise WebError(f"{what} is a folder or a list, not a single item")
        return data

    def _note_limits(self, response: Response) -> None:
        remaining = response.headers.get("x-ratelimit-remaining")
        reset = response.headers.get("x-ratelimit-reset", "")
        if remaining == "0" and reset.isdigit():
            self._reset_at = float(reset)
        elif remaining not in (None, "0"):
            self._reset_at = None

    def _limit_sentence(self) -> str:
        when = ""
        if self._reset_at is not None:
            when = f" until {datetime.fromtimestamp(self._reset_at, UTC):%H:%M:%S} UTC"
        return (f"GitHub's API rate limit is used up{when}; a token (GITHUB_TOKEN) raises it")


def _decoded(data: dict[str, Any], repo: str, max_bytes: int) -> str:
    size = int(data.get("size") or 0)
    path = str(data.get("path") or "the file")
    if size > max_bytes:
        raise WebError(f"{path} in {repo} is {size} bytes; the limit is {max_bytes} bytes")
    if data.get("encoding") != "base64":
        raise WebError(f"{path} in {repo} is too large for the contents API")
    raw = base64.b64decode(str(data.get("content") or ""))
    if b"\x00" in raw[:8192]:
        raise WebError(f"{path} in {repo} is a binary file")
    return raw.decode("utf-8", errors="replace")
