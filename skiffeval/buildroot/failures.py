"""Why a Buildroot ``make`` failed, in words a person can act on.

The model
---------
A failed make leaves three kinds of evidence, all in its output:

* make's own last word, ``make: *** [<file>:<line>: <target>] Error <n>`` (make ≥ 4.2; older
  makes omit ``<file>:<line>: ``).  When the target is a package stamp,
  ``<O>/build/<pkg>-<version>/.stamp_<step>``, it names the package directory and the step that
  failed (``STAMP_STEPS``), even when the package printed nothing;
* the last ``>>> <pkg> <version> <Step>`` line (``progress``), and the lines printed since;
* the messages of the helpers that failed.  Downloads: ``support/download/dl-wrapper`` tries each
  URI of the package in turn (``BR2_PRIMARY_SITE`` first, then the upstream site, then
  ``BR2_BACKUP_SITE``) and exits 1 *silently* when all fail; the backends print their own command
  line first (``wget -nd -t 3 … -O '<tmp>/output' '<url>/<file>'``, ``curl …``,
  ``GIT_DIR=… git remote add origin '<url>'``) and then the tool's error (wget: ``Resolving
  <host> (<host>)... failed: Name or service not known.`` and ``wget: unable to resolve host
  address '<host>'``; git: ``fatal: unable to access '<url>': Could not resolve host: <host>``).
  ``support/download/check-hash`` prints ``ERROR: <file> has wrong sha256 hash:``.
  Host tools: ``support/dependencies/dependencies.sh`` prints ``You must install '<prog>' on
  your build machine``.  Configuration: ``*** Can't find default configuration "<file>"!``
  (kconfig) and ``Makefile:<n>: *** <message>.  Stop.`` (``$(error …)``, e.g. BR2_EXTERNAL).

skiffeval's own hook wrappers print which layer's hook runs and which one failed
(``skiffeval: the post-build hook of layer '<layer>' (<file>) failed with exit status <n>``).

``classify`` reads them in this order — host tools, a layer's hook, download stamp (hash
mismatch or unreachable sources), any other package stamp, configuration, the last ``>>>``
package line (never for ``target-finalize``/``target-post-image``, where the hooks run) — and
falls back to "make failed" with the last lines.  The result is a frozen ``Failure``; ``error()``
turns it into a ``SkiffError`` with a stable code (E301–E306, E300).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import attrs

from skiffeval.buildroot import codes
from skiffeval.buildroot.progress import TAIL_LINES, ProgressTracker, strip_ansi
from skiffeval.buildroot.showinfo import ShowInfo
from skiffeval.diagnostics import ErrorCode, SkiffError

__all__ = ["Failure", "BuildrootError", "MakeError", "classify", "STAMP_STEPS", "parse_make_error", "OFFLINE_MARKERS"]

# Stamp files of package/pkg-generic.mk → the step they complete.
STAMP_STEPS: dict[str, str] = {
    ".stamp_downloaded": "download",
    ".stamp_actual_downloaded": "download",
    ".stamp_extracted": "extract",
    ".stamp_rsynced": "rsync",
    ".stamp_patched": "patch",
    ".stamp_configured": "configure",
    ".stamp_built": "build",
    ".stamp_host_installed": "install-host",
    ".stamp_staging_installed": "install-staging",
    ".stamp_target_installed": "install-target",
    ".stamp_images_installed": "install-image",
    ".stamp_installed": "install",
}

# Texts that mean "this machine cannot reach the network" (wget, curl, git, getaddrinfo).
OFFLINE_MARKERS = (
    "unable to resolve host address",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Could not resolve host",
    "Network is unreachable",
    "No route to host",
    "Connection refused",
    "Connection timed out",
    "failed: Connection",
)

_MAKE_ERROR_RE = re.compile(
    r"^make(?:\[\d+\])?: \*\*\* \[(?:(?P<file>[^\]]*?):(?P<line>\d+): )?(?P<target>[^\]]+)\] Error (?P<status>\d+)"
)
_MISSING_RE = re.compile(r"You must install '([^']+)' on your build machine")
_MISSING_OTHER_RE = re.compile(r"You must install (?:GNU )?(\S+)")
_STOP_RE = re.compile(r"^(?:make(?:\[\d+\])?: )?(?:[^\s:]+:\d+: )?\*\*\* (?P<msg>.*?)\.?\s+Stop\.$")
_NO_RULE_RE = re.compile(r"No rule to make target '(?P<target>[^']+)'")
_KCONFIG_RE = re.compile(r"^\*\*\* (?P<msg>Can't find default configuration.*)$")
_WGET_CMD_RE = re.compile(r"^\S*wget\s.*'(?P<url>[a-z][a-z0-9+.-]*://[^']+)'\s*$")
_CURL_CMD_RE = re.compile(r"^\S*curl\s.*'(?P<url>[a-z][a-z0-9+.-]*://[^']+)'\s*$")
_GIT_URL_RE = re.compile(r"git (?:remote (?:add|set-url) origin|clone\b.*?) '(?P<url>[^']+)'")
_GIT_FATAL_RE = re.compile(r"fatal: (?:unable to access|repository) '(?P<url>[^']+)'")
_META_TARGETS = ("dependencies", "defconfig", "olddefconfig", "savedefconfig", "show-info", "outputmakefile",
                 "target-finalize", "target-post-image")  # (the post-build and post-image scripts run there)
# skiffeval's hook wrappers (builders.layers.hook_wrappers) say which layer's hook runs and failed
_HOOK = r"(?P<who>(?P<kind>post-build|post-image) hook of layer '(?P<layer>[^']*)' \((?P<label>.*)\))"
_HOOK_START_RE = re.compile(rf"^skiffeval: running the {_HOOK}$")
_HOOK_FAILED_RE = re.compile(rf"^skiffeval: the {_HOOK} failed with exit status (?P<status>\d+)$")
_PATCH_FAILED_RE = re.compile(r"Patch failed!  Please fix (?P<name>.+)!$")
_WRONG_HASH_RE = re.compile(r"ERROR: (?P<file>\S+) has wrong (?P<algo>\w+) hash")
_NO_HASH_RE = re.compile(r"ERROR: No hash found for (?P<file>\S+)")


@attrs.frozen
class MakeError:
    """make's ``*** [file:line: target] Error n`` line."""

    target: str
    status: int
    makefile: str | None = None
    line: int | None = None


def parse_make_error(line: str) -> MakeError | None:
    m = _MAKE_ERROR_RE.match(strip_ansi(line))
    if not m:
        return None
    return MakeError(
        m["target"], int(m["status"]), m["file"] or None, int(m["line"]) if m["line"] else None
    )


@attrs.frozen
class Failure:
    """A classified make failure.

    ``kind`` is one of ``download``, ``hash``, ``package``, ``config``, ``host-dependency``,
    ``hook``, ``other``; ``package``/``version``/``step`` say where (when known), ``urls`` the URLs that were
    tried, ``source`` the file being fetched, ``offline`` whether the tools said the network is
    unreachable, ``missing`` the host programs to install, ``tail`` the last lines (of the failing
    package's output when known), ``message``/``help`` the words for a person.
    """

    kind: str
    code: ErrorCode
    message: str
    package: str | None = None
    version: str | None = None
    step: str | None = None
    urls: tuple[str, ...] = ()
    source: str | None = None
    offline: bool = False
    missing: tuple[str, ...] = ()
    make_error: MakeError | None = None
    tail: tuple[str, ...] = ()
    help: tuple[str, ...] = ()
    log_path: str | None = None

    def error(self) -> SkiffError:
        """The ``SkiffError`` to raise: message, help lines, and the tail as notes."""
        notes_help = list(self.help)
        if self.log_path:
            notes_help.append(f"the full log is {self.log_path}")
        err = SkiffError(self.code, self.message, help=notes_help)
        if self.tail:
            # One note, so that renderers bounding the note stack keep every line.
            err.add_note(f"last {len(self.tail)} lines of output:\n" + "\n".join("     | " + line for line in self.tail))
        return err


def _dedupe(items) -> tuple[str, ...]:
    out: list[str] = []
    for i in items:
        if i not in out:
            out.append(i)
    return tuple(out)


def _stamp(error: MakeError | None, output_dir: str | None) -> tuple[str | None, str | None]:
    """(package directory name, step) of a stamp target, or (None, None)."""
    if error is None:
        return None, None
    base = os.path.basename(error.target)
    step = STAMP_STEPS.get(base)
    if step is None:
        return None, None
    parent = os.path.dirname(error.target)
    if output_dir is not None and not os.path.abspath(parent).startswith(os.path.join(output_dir, "")):
        return None, None
    return os.path.basename(parent), step


def _failed_patch(error: MakeError | None, lines: Sequence[str]) -> str | None:
    """The patch that did not apply: ``support/scripts/apply-patches.sh`` adds each patch's full
    path to ``<package dir>/.applied_patches_list`` before applying it and says ``Patch failed!
    Please fix <name>!`` when it does not apply, so the list's last line is the culprit."""
    said = next((m for m in map(_PATCH_FAILED_RE.search, reversed(lines)) if m), None)
    if error is None or said is None:
        return None
    try:
        with open(os.path.join(os.path.dirname(error.target), ".applied_patches_list"), encoding="utf-8", errors="replace") as f:
            applied = [line.strip() for line in f if line.strip()]
    except OSError:
        return None
    if applied and os.path.basename(applied[-1]) == said["name"]:
        return applied[-1]
    return None


def _package_of_dir(dirname: str, show_info: ShowInfo | None, tracker: ProgressTracker | None) -> str:
    if show_info is not None:
        key = show_info.stamp_dirs().get(dirname)
        if key is not None:
            return key
    last = tracker.last_package_step if tracker is not None else None
    if last is not None and (dirname == last.package or dirname.startswith(last.package + "-")):
        return last.package
    # <name>-<version>: the version is what follows the last '-' that is followed by a digit.
    m = re.match(r"^(.*?)-(?=\d)", dirname)
    return m.group(1) if m else dirname


def _download_help(package: str, source: str | None, dl_dir: str | None, show_info: ShowInfo | None) -> list[str]:
    info = show_info.get(package) if show_info is not None else None
    subdir = info.dl_dir if info is not None and info.dl_dir else package.removeprefix("host-")
    where = os.path.join(dl_dir, subdir) if dl_dir else f"<download dir>/{subdir}"
    what = f"'{source}'" if source else "the package's source files"
    return [
        f"to build offline, put {what} into '{where}/' (pass a download directory with "
        "pre-fetched sources as --dl-dir; 'make source' on a connected machine fetches them all)",
        "or point BR2_PRIMARY_SITE at a mirror that has the file "
        "(a local directory works offline: BR2_PRIMARY_SITE=\"file:///path/to/mirror\")",
    ]


def _urls(lines: Sequence[str]) -> tuple[str, ...]:
    urls = []
    for line in lines:
        for rx in (_WGET_CMD_RE, _CURL_CMD_RE, _GIT_URL_RE, _GIT_FATAL_RE):
            m = rx.search(line)
            if m:
                urls.append(m["url"])
                break
    return _dedupe(urls)


def _config_failure(lines: Sequence[str], what: str, last_lines: tuple[str, ...], common: dict) -> Failure | None:
    """A configuration error: kconfig's "Can't find default configuration", a ``$(error …)`` of
    the Makefile (``*** <message>.  Stop.``) or an unknown target."""
    for line in reversed(lines):
        m = _KCONFIG_RE.match(line) or _STOP_RE.match(line)
        if m:
            msg = m["msg"].rstrip(".!")
            no_rule = _NO_RULE_RE.search(msg)
            help_lines: tuple[str, ...] = ()
            if no_rule:
                target = no_rule["target"]
                if target.endswith("-dirclean"):
                    help_lines = (f"'{target.removesuffix('-dirclean')}' is not a package of this configuration",)
            return Failure(
                "config", codes.CONFIG_FAILED, f"{what} failed: {msg}", tail=last_lines,
                help=help_lines, **common,
            )
    return None


def classify(
    lines: Sequence[str],
    *,
    tracker: ProgressTracker | None = None,
    show_info: ShowInfo | None = None,
    output_dir: str | None = None,
    dl_dir: str | None = None,
    log_path: str | None = None,
    what: str = "make",
) -> Failure:
    """Classify a failed make from its last output ``lines`` (a few hundred are plenty) and,
    when given, the progress ``tracker`` that saw the whole output, the configuration's
    ``show_info`` and the ``output_dir`` (``O=``).  ``what`` names the make call in messages."""
    lines = [strip_ansi(line) for line in lines]
    # make's last error line; a package stamp among the last ones wins (when Buildroot re-runs
    # itself, e.g. to fix the umask, the outermost make reports its own target last).
    errors = [e for e in map(parse_make_error, reversed(lines)) if e is not None]
    make_error = next((e for e in errors if os.path.basename(e.target) in STAMP_STEPS), None)
    if make_error is None and errors:
        make_error = errors[0]
    last_lines = tuple(lines[-TAIL_LINES:])
    common = dict(make_error=make_error, log_path=log_path)

    # 1. host programs missing (support/dependencies)
    missing = []
    for line in lines:
        m = _MISSING_RE.search(line) or _MISSING_OTHER_RE.search(line)
        if m:
            missing.append(m.group(1).rstrip(";,"))
    if missing:
        missing_t = _dedupe(missing)
        return Failure(
            "host-dependency",
            codes.HOST_DEPENDENCY,
            f"{what} failed: Buildroot needs {', '.join(repr(p) for p in missing_t)} on the build machine",
            missing=missing_t,
            tail=last_lines,
            help=(f"install {' '.join(missing_t)} (Debian: apt-get install {' '.join(missing_t)})",),
            **common,
        )

    # 2. a layer's hook (the wrapper names it); its own output is what it printed after it started
    end, failed = next(((i, m) for i in range(len(lines) - 1, -1, -1) if (m := _HOOK_FAILED_RE.match(lines[i]))), (0, None))
    if failed is not None:
        start = next((i for i in range(end - 1, -1, -1)
                      if (m := _HOOK_START_RE.match(lines[i])) and m["who"] == failed["who"]), -1)
        own = tuple(lines[start + 1:end][-TAIL_LINES:]) or last_lines
        script = "BR2_ROOTFS_POST_BUILD_SCRIPT" if failed["kind"] == "post-build" else "BR2_ROOTFS_POST_IMAGE_SCRIPT"
        return Failure(
            "hook", codes.HOOK_FAILED,
            f"the {failed['who']} failed with exit status {failed['status']}",
            tail=own,
            help=(f"Buildroot runs the layers' {failed['kind']} hooks through {script}, after every package is built; "
                  "fix the hook and build again (no package is rebuilt for it)",),
            **common,
        )

    # 3. a package stamp: download (hash or network) or another step; else 4. configuration
    dirname, step = _stamp(make_error, output_dir)
    last = tracker.last_package_step if tracker is not None else None
    if dirname is None:
        config = _config_failure(lines, what, last_lines, common)
        if config is not None:
            return config
        # 5. no stamp named, but a package was running: blame it
        if last is not None and make_error is not None and not make_error.target.startswith(_META_TARGETS):
            dirname, step = last.package, last.step or None
    if dirname is not None:
        package = _package_of_dir(dirname, show_info, tracker)
        version = None
        if show_info is not None and show_info.get(package) is not None:
            version = show_info.get(package).version
        elif last is not None and last.package == package:
            version = last.version
        tail = tracker.package_tail(package) if tracker is not None else ()
        tail = tail or last_lines
        context = list(tracker.package_tail(package)) if tracker is not None else []
        context += [line for line in lines if line not in context]
        if step == "download":
            hashm = next((m for m in map(_WRONG_HASH_RE.search, context) if m), None) or next(
                (m for m in map(_NO_HASH_RE.search, context) if m), None
            )
            urls = _urls(context)
            source = None
            if hashm is not None:
                source = hashm["file"].rstrip(":")
            elif urls:
                source = urls[-1].rsplit("/", 1)[-1] or None
            if hashm is not None:
                return Failure(
                    "hash", codes.HASH_MISMATCH,
                    f"the download of '{package}' failed its hash check: {hashm.group(0).removeprefix('ERROR: ')}",
                    package=package, version=version, step=step, urls=urls, source=source, tail=tail,
                    help=("the file in the download directory is incomplete or not the expected "
                          "release; delete it and fetch it again, or fix the mirror",),
                    **common,
                )
            offline = any(marker in line for line in context for marker in OFFLINE_MARKERS)
            reason = "the network is unreachable" if offline else "no site had the file"
            tried = f" (tried {', '.join(urls)})" if urls else ""
            return Failure(
                "download", codes.DOWNLOAD_FAILED,
                f"cannot download the sources of '{package}'"
                + (f" {version}" if version else "") + f": {reason}{tried}",
                package=package, version=version, step=step, urls=urls, source=source,
                offline=offline, tail=tail,
                help=tuple(_download_help(package, source, dl_dir, show_info)),
                **common,
            )
        step_text = f" at step '{step}'" if step else ""
        patch = _failed_patch(make_error, context) if step == "patch" else None
        return Failure(
            "package", codes.PACKAGE_FAILED,
            f"package '{package}'" + (f" {version}" if version else "") + f" failed{step_text}"
            + (f": the patch '{os.path.basename(patch)}' does not apply" if patch else ""),
            package=package, version=version, step=step, tail=tail,
            help=((f"the patch is {patch}",) if patch else ())
            + (f"to retry it from scratch, rebuild after 'make {package}-dirclean'",),
            **common,
        )

    # 6. anything else
    status = f" (exit status {make_error.status} from target '{make_error.target}')" if make_error else ""
    return Failure("other", codes.MAKE_FAILED, f"{what} failed{status}", tail=last_lines, **common)


class BuildrootError(SkiffError):
    """A failed Buildroot make, with its classified ``failure`` and its ``result``."""

    def __init__(self, failure: Failure, result=None) -> None:
        base = failure.error()
        super().__init__(base.code, base.message, help=base.help, notes=base.notes)
        self.failure = failure
        self.result = result
