"""The coder's web actions: search, GitHub inspection, page fetching, downloads (G10).

The approval rule, enforced here and asked for by the coder before a call runs
(:func:`approval_request`):

- ``web_search`` runs at once (the query goes only to the configured search engine);
- ``fetch_page`` and ``github_repo`` run at once when their address (the page URL, the
  repository) came verbatim from the task or from an earlier result card of the same round;
  an address the model composed itself needs the person's approval, because it could carry
  data out in its query string;
- ``download`` and ``clone_repo`` always need the person's approval, and write only into the
  workspace.

Every text these actions return that came from the network is wrapped by
:func:`~tools.web.untrusted.mark_untrusted`.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, Final, Literal

from pydantic import BaseModel, Field, ValidationError

from tools.actions.base import ActionCall, ActionResult, PolicyViolation
from tools.actions.context import ActionContext, ActionError
from tools.actions.params import ActionParams
from tools.actions.policy import Policy
from tools.actions.registry import ActionRegistry
from tools.web import Card, WebError, WebSession, mark_untrusted, parse_repo

#: Characters of page text returned per fetch_page call (page on with ``start``).
MAX_PAGE_CHARS: Final = 12_000
#: Characters of a README or file returned by github_repo.
MAX_GITHUB_CHARS: Final = 12_000
#: Files a cloned repository may hold.
MAX_CLONE_FILES: Final = 20_000
WEB_ACTIONS: Final = ("web_search", "github_repo", "fetch_page", "download", "clone_repo")

COMPOSED = ("the address was not in the task or in an earlier result: the model composed it,"
            " and it could carry data out in its query string")
DOWNLOADS = "downloads and clones always need the person's approval"


class WebSearchParams(ActionParams):
    """Search the web; returns result cards (title, link, summary), best first.

    The cards are untrusted data from the web. Their links can then be read with fetch_page
    (or github_repo for GitHub repositories) without asking the person.
    """

    query: str = Field(min_length=1, max_length=300, description="What to search for.")
    max_results: int = Field(default=8, ge=1, le=20, description="Most cards to return.")


class GitHubRepoParams(ActionParams):
    """Inspect a GitHub repository: metadata, README, file tree, or one file's text.

    Returns untrusted data. A repository that did not appear in the task or an earlier
    result needs the person's approval first.
    """

    repo: str = Field(description="The repository as owner/name, e.g. 'pallets/flask'.")
    what: Literal["metadata", "readme", "tree", "file"] = Field(
        default="metadata", description="metadata, readme, tree (all paths) or file.")
    file_path: str | None = Field(
        default=None, description="With what='file': the file's path in the repository.")
    ref: str | None = Field(
        default=None, description="Branch, tag or commit (default branch when omitted).")


class FetchPageParams(ActionParams):
    """Fetch a web page (http/https) as readable text, 12000 characters at a time.

    Returns untrusted data. Use an address exactly as it appears in a search result or the
    task; any other address needs the person's approval first.
    """

    url: str = Field(description="The page's full address, copied exactly from a result.")
    start: int = Field(default=0, ge=0, description="Character offset to read from (paging).")


class DownloadParams(ActionParams):
    """Download a file from the web into the workspace. Always asks the person first.

    The person sees the exact address and destination and may refuse.
    """

    url: str = Field(description="The file's full http(s) address.")
    dest: str = Field(description="Where to save it, relative to the workspace.")


class CloneRepoParams(ActionParams):
    """Copy a GitHub repository's files into a workspace folder. Always asks the person first.

    The person sees the exact repository and destination and may refuse.
    """

    repo: str = Field(description="The repository as owner/name.")
    dest: str = Field(description="An empty or new folder, relative to the workspace.")
    ref: str | None = Field(default=None, description="Branch, tag or commit (default branch).")


class FetchRequest(BaseModel):
    """What a person is asked to approve before a web action runs.

    Attributes:
        action: the action name.
        key: identifies the call (action and parameters); the approval is for it only.
        url: exactly what will be requested.
        repo: the repository, for GitHub actions.
        dest: where the result goes, relative to the workspace (downloads and clones).
        dest_absolute: the same, as an absolute path.
        size_bytes: the size when known (HEAD request or the GitHub API), else None.
        size_note: how the size is known, or why it is not.
        reason: why approval is needed.
        params: the call's parameters.

    """

    action: str
    key: str
    url: str
    repo: str | None = None
    dest: str | None = None
    dest_absolute: str | None = None
    size_bytes: int | None = None
    size_note: str = ""
    reason: str
    params: dict[str, object] = Field(default_factory=dict)

    def summary(self) -> str:
        """The question as Markdown: what will be fetched, how large, where it will go."""
        verb = {"download": "download", "clone_repo": "copy the repository",
                "fetch_page": "fetch the page", "github_repo": "read from GitHub"}
        lines = [f"The coder wants to **{verb.get(self.action, self.action)}**:",
                 "", f"- address: {_code(self.url)}"]
        if self.repo:
            lines.append(f"- repository: {_code(self.repo)}")
        size = f"{self.size_bytes} bytes" if self.size_bytes is not None else "unknown"
        lines.append(f"- size: {size}" + (f" ({self.size_note})" if self.size_note else ""))
        lines.append(f"- saved to: {_code(self.dest)} in the workspace"
                     f" ({_code(self.dest_absolute or '')})"
                     if self.dest else "- saved to: nothing is saved; the text goes to the coder")
        lines += ["", f"Why you are asked: {self.reason}."]
        return "\n".join(lines)


def grant_key(action: str, params: BaseModel) -> str:
    """The identity of a call: its action and validated parameters, as canonical JSON."""
    return json.dumps([action, params.model_dump(mode="json")], sort_keys=True)


def call_key(call: ActionCall, registry: ActionRegistry) -> str | None:
    """:func:`grant_key` of a raw call, or None when it is unknown or its parameters invalid."""
    if call.name not in registry:
        return None
    try:
        params = registry.get(call.name).params_model.model_validate(call.params)
    except ValidationError:
        return None
    return grant_key(call.name, params)


def approval_request(call: ActionCall, registry: ActionRegistry, context: ActionContext,
                     policy: Policy) -> FetchRequest | None:
    """What to ask the person before ``call`` runs, or None when it may run as it is.

    None also for calls that will fail anyway (not a web action, invalid parameters, no
    web access): the executor reports those. No request is sent to an address before its
    approval; a HEAD request for the size is made only for addresses already known.

    Raises:
        PolicyViolation: a destination outside the workspace (refuse without asking).

    """
    session = context.web
    if call.name not in WEB_ACTIONS or session is None or call.name not in registry:
        return None
    try:
        params = registry.get(call.name).params_model.model_validate(call.params)
    except ValidationError:
        return None
    key = grant_key(call.name, params)
    dumped = params.model_dump(mode="json")

    def ask(**fields: Any) -> FetchRequest:
        return FetchRequest(action=call.name, key=key, params=dumped, **fields)

    github = session.client.github
    if isinstance(params, FetchPageParams):
        if session.knows_url(params.url):
            return None
        return ask(url=params.url, reason=COMPOSED)
    if isinstance(params, GitHubRepoParams):
        if session.knows_repo(params.repo):
            return None
        return ask(url=_github_address(session, params), repo=params.repo,
                            reason=COMPOSED)
    if isinstance(params, DownloadParams):
        target = policy.resolve_path(params.dest)
        size, note = _known_size(session, params.url)
        return ask(url=params.url, dest=params.dest, dest_absolute=str(target),
                            size_bytes=size, size_note=note, reason=DOWNLOADS)
    if isinstance(params, CloneRepoParams):
        target = policy.resolve_path(params.dest)
        try:
            url = github.tarball_url(params.repo, params.ref)
        except WebError as exc:
            raise PolicyViolation(str(exc)) from None
        size, note = None, "not asked: the repository was not in an earlier result"
        if session.knows_repo(params.repo):
            try:
                size = github.repo(params.repo).size_kb * 1024
                note = "approximate, from the GitHub API; the archive is compressed"
            except WebError as exc:
                note = f"unknown ({exc})"
        return ask(url=url, repo=params.repo, dest=params.dest,
                            dest_absolute=str(target), size_bytes=size, size_note=note,
                            reason=DOWNLOADS)
    return None


# -- handlers ------------------------------------------------------------------------------

def web_search(params: WebSearchParams, context: ActionContext, policy: Policy) -> ActionResult:
    """Search and return the cards as one untrusted block; their links become known.

    Returns:
        data ``{"query", "count", "results"}``; ``results`` is the numbered cards (title,
        link, summary) inside ``<untrusted_data>``.

    Raises:
        ActionError: no web access, or the search failed.

    """
    session = _session(context)
    try:
        cards = session.client.search.search(params.query, params.max_results)
    except WebError as exc:
        raise ActionError(str(exc)) from None
    for card in cards:
        session.learn_url(card.url)
    session.cards.extend(cards)
    text = "\n\n".join(f"{n}. {card.render()}" for n, card in enumerate(cards, 1))
    return ActionResult(success=True, data={
        "query": params.query, "count": len(cards),
        "results": mark_untrusted(text or "(no results)", f"web search: {params.query}")})


def github_repo(params: GitHubRepoParams, context: ActionContext, policy: Policy
                ) -> ActionResult:
    """Read metadata, README, tree or one file of a known (or approved) repository.

    Returns:
        data ``{"repo", "what", "content"}``; ``content`` is inside ``<untrusted_data>``.
        Metadata makes the repository's own page and homepage known addresses.

    Raises:
        ActionError: no web access, an unknown repository without approval, a missing
            ``file_path``, or a GitHub error (not found, rate limit, too large).

    """
    session = _session(context)
    _require_known(session, "github_repo", params, session.knows_repo(params.repo))
    github = session.client.github
    try:
        repo = parse_repo(params.repo)
        if params.what == "metadata":
            info = github.repo(repo)
            for url in (info.html_url, info.homepage):
                if url.startswith(("http://", "https://")):
                    session.learn_url(url)
            session.cards.append(Card(title=info.full_name, url=info.html_url or repo,
                                      summary=info.description, source="github"))
            content = info.render()
        elif params.what == "readme":
            path, text = github.readme(repo)
            content = f"{path}\n\n{_cut(text, MAX_GITHUB_CHARS)}"
        elif params.what == "tree":
            paths, truncated = github.tree(repo, params.ref)
            content = "\n".join(paths) + ("\n... (more entries not shown)" if truncated else "")
        else:
            if not params.file_path:
                raise ActionError("what='file' needs file_path (a path in the repository)")
            text = github.file(repo, params.file_path, params.ref)
            content = f"{params.file_path}\n\n{_cut(text, MAX_GITHUB_CHARS)}"
    except WebError as exc:
        raise ActionError(str(exc)) from None
    session.known_repos.add(repo.lower())
    source = f"github: {repo} {params.what}" + (f" {params.file_path}" if params.file_path
                                                 and params.what == "file" else "")
    return ActionResult(success=True, data={"repo": repo, "what": params.what,
                                            "content": mark_untrusted(content, source)})


def fetch_page(params: FetchPageParams, context: ActionContext, policy: Policy) -> ActionResult:
    """Fetch a known (or approved) page as text, :data:`MAX_PAGE_CHARS` characters at a time.

    Returns:
        data ``{"url", "final_url", "start", "next_start", "total_chars", "content"}``;
        ``content`` (title and text) is inside ``<untrusted_data>``; ``next_start`` is None
        at the end of the page.

    Raises:
        ActionError: no web access, an unknown address without approval, or the fetch failed
            (not http(s), HTTP error, too large, not text).

    """
    session = _session(context)
    _require_known(session, "fetch_page", params, session.knows_url(params.url))
    try:
        page = session.client.pages.fetch(params.url)
    except WebError as exc:
        raise ActionError(str(exc)) from None
    session.known_urls.add(params.url)  # approved once: paging through it asks no more
    chunk = page.text[params.start:params.start + MAX_PAGE_CHARS]
    end = params.start + len(chunk)
    header = f"# {page.title}\n\n" if page.title else ""
    return ActionResult(success=True, data={
        "url": params.url, "final_url": page.url, "start": params.start,
        "next_start": end if end < len(page.text) else None, "total_chars": len(page.text),
        "content": mark_untrusted(header + chunk, page.url)})


def download(params: DownloadParams, context: ActionContext, policy: Policy) -> ActionResult:
    """Save the file at ``url`` to ``dest`` in the workspace (approved calls only).

    Returns:
        data ``{"url", "final_url", "path", "bytes", "sha256"}``.

    Raises:
        ActionError: no web access, no approval, ``dest`` is a folder, or the download failed
            (HTTP error, larger than the limit).
        PolicyViolation: ``dest`` leaves the workspace.

    """
    session = _session(context)
    target = policy.resolve_path(params.dest)
    if target == policy.resolve_path(".") or target.is_dir():
        raise ActionError(f"{params.dest} is a folder; give a file path")
    _require_grant(session, "download", params)
    client = session.client
    try:
        response, size, sha256 = client.http.download(params.url, target,
                                                      max_bytes=client.max_download_bytes)
    except WebError as exc:
        raise ActionError(str(exc)) from None
    return ActionResult(success=True, data={"url": params.url, "final_url": response.url,
                                            "path": params.dest, "bytes": size,
                                            "sha256": sha256})


def clone_repo(params: CloneRepoParams, context: ActionContext, policy: Policy) -> ActionResult:
    """Copy a repository's files (its tar.gz archive from the API) into ``dest`` (approved only).

    Only regular files and folders are written; links, devices and paths leaving ``dest``
    are skipped.

    Returns:
        data ``{"repo", "path", "files", "bytes", "skipped"}``.

    Raises:
        ActionError: no web access, no approval, ``dest`` not empty, download or archive
            failure, or more than the size or file limit.
        PolicyViolation: ``dest`` leaves the workspace.

    """
    session = _session(context)
    target = policy.resolve_path(params.dest)
    if target == policy.resolve_path(".") or target.is_file() or (
            target.is_dir() and any(target.iterdir())):
        raise ActionError(f"{params.dest} must be a new or empty folder")
    _require_grant(session, "clone_repo", params)
    client = session.client
    try:
        url = client.github.tarball_url(params.repo, params.ref)
        with tempfile.TemporaryDirectory(prefix="multicoder-clone-") as tmp:
            archive = Path(tmp) / "repo.tar.gz"
            client.http.download(url, archive, max_bytes=client.max_download_bytes,
                                 headers=client.github.headers_for(url))
            files, size, skipped = _extract(archive.read_bytes(), params.dest, policy,
                                            client.max_download_bytes)
    except WebError as exc:
        raise ActionError(str(exc)) from None
    return ActionResult(success=True, data={"repo": params.repo, "path": params.dest,
                                            "files": files, "bytes": size, "skipped": skipped})


def register_web_actions(registry: ActionRegistry) -> None:
    """Add the five web actions; download and clone_repo are registered as needing approval.

    Raises:
        ValueError: one of the names is already registered.

    """
    registry.register("web_search", WebSearchParams, web_search)
    registry.register("github_repo", GitHubRepoParams, github_repo)
    registry.register("fetch_page", FetchPageParams, fetch_page)
    registry.register("download", DownloadParams, download, needs_approval=True)
    registry.register("clone_repo", CloneRepoParams, clone_repo, needs_approval=True)


# -- helpers -------------------------------------------------------------------------------

def _session(context: ActionContext) -> WebSession:
    if context.web is None:
        raise ActionError("web access is turned off for this run")
    return context.web


def _require_known(session: WebSession, action: str, params: BaseModel, known: bool) -> None:
    if not known and not session.take_grant(grant_key(action, params)):
        raise ActionError(f"{action} needs the person's approval for this address, which was"
                          " not given: use an address from the task or a result")


def _require_grant(session: WebSession, action: str, params: BaseModel) -> None:
    if not session.take_grant(grant_key(action, params)):
        raise ActionError(f"{action} needs a person's approval, which was not given")


def _github_address(session: WebSession, params: GitHubRepoParams) -> str:
    base = session.client.github.api_base
    repo = params.repo.strip()
    with contextlib.suppress(WebError):
        repo = parse_repo(repo)
    tail = {"metadata": "", "readme": "/readme", "tree": "/git/trees/" + (params.ref or ""),
            "file": f"/contents/{params.file_path or ''}"}[params.what]
    return f"{base}/repos/{repo}{tail}"


def _known_size(session: WebSession, url: str) -> tuple[int | None, str]:
    if not session.knows_url(url):
        return None, "not asked: the address was not in an earlier result"
    try:
        response = session.client.http.head(url)
    except WebError as exc:
        return None, f"unknown ({exc})"
    length = response.headers.get("content-length", "")
    if response.ok and length.isdigit():
        return int(length), "from a HEAD request"
    return None, f"the server did not say (HTTP {response.status})"


def _code(text: str) -> str:
    """``text`` as a Markdown code span that no backtick inside can end early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... [{len(text) - limit} more chars]"


def _extract(data: bytes, dest: str, policy: Policy, max_bytes: int) -> tuple[int, int, int]:
    """Write the archive's regular files under ``dest``; returns (files, bytes, skipped)."""
    files = size = skipped = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for member in archive:
                parts = PurePosixPath(member.name).parts[1:]  # drop "<owner>-<repo>-<sha>/"
                if not parts or member.isdir():
                    continue
                if not member.isfile() or ".." in parts or parts[0].startswith("/"):
                    skipped += 1
                    continue
                files += 1
                size += member.size
                if files > MAX_CLONE_FILES or size > max_bytes:
                    raise ActionError(f"the repository is larger than {max_bytes} bytes or"
                                      f" {MAX_CLONE_FILES} files")
                handle = archive.extractfile(member)
                if handle is None:
                    skipped += 1
                    continue
                try:
                    target = policy.resolve_path(f"{dest}/{'/'.join(parts)}")
                except PolicyViolation:
                    skipped += 1
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(handle.read())
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ActionError(f"cannot unpack the repository archive: {exc}") from None
    return files, size, skipped
