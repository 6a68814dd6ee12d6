"""The session facade: one call per thing the command line does.

A ``Session`` owns the store (opened on first use), the derivation table of its evaluation,
and the evaluator, built with the store-backed I/O and the domain builtins (``derivation``,
``layer``, ``system``, ``files``, ``writeText``, ``fragment``, ``fetchurl``, ``fetchgit``).
The CLI parses arguments and prints; the session does neither.

Search path: ``-I`` entries first, then ``SKIFFEVAL_PATH`` (handed over by the CLI: the session
reads no environment), then ``layers=<skiffeval's own layer library>``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from importlib import resources
from typing import Any, Callable, Mapping, Sequence

import attrs

from typing import TYPE_CHECKING

from skiffeval.diagnostics import Diagnostic, Note, Severity, SkiffError, Span
from skiffeval.session.codes import BAD_OVERRIDE, NOT_BUILDABLE, OVERRIDE_DIFFERS
from skiffeval.session.evalcache import InputLog
from skiffeval.session.options import ArgValue, BuildRequest, SessionOptions

if TYPE_CHECKING:
    from skiffeval.derivation import Derivation, StorePath
    from skiffeval.eval.evaluator import Evaluator, SearchPathEntry
    from skiffeval.session.drvs import DrvTable
    from skiffeval.session.system import SystemHost

# The evaluator (with lark and kconfiglib behind it) is imported when a command first evaluates:
# a query about store paths never pays for it.


def run_deep(fn: Callable[[], Any]) -> Any:
    from skiffeval.eval.evaluator import run_deep as run

    return run(fn)


def force(value: Any) -> Any:
    from skiffeval.eval.values import force as forced

    return forced(value)

__all__ = ["Session", "SessionOptions", "ArgValue", "BuildRequest", "BuildOutcome", "default_layers_dir", "resolved_report", "skiffos_value", "system_commands", "run_environment", "resolve_placeholders"]


def default_layers_dir() -> str:
    """The directory of skiffeval's own layer library (``<layers/...>``): the project's
    ``layers/`` in a checkout (``skiffeval/_layers`` links to it, and paths in diagnostics name
    the real folder), the package's copy in an installed wheel."""
    return os.path.realpath(str(resources.files("skiffeval._layers")))


@attrs.frozen
class LocalTree:
    """A directory given by ``--override-input NAME=DIR``, not yet in the store: the derivations
    that take it import it whole or a view of it (``Session._source``).  It is never a value
    the language sees: only the system builtins' Buildroot source can be one."""

    path: str
    exclude: frozenset[str]


@attrs.frozen
class BuildOutcome:
    """What a build produced: per requested target, the derivation, output and store path."""

    targets: tuple[tuple[str, Derivation, str, StorePath | None], ...]  # (label, drv, output, path)
    result: Any  # RealizeResult or RealizePlan
    links: tuple[str, ...] = ()


class Session:
    """One command's worth of evaluation and building."""

    def __init__(self, options: SessionOptions | None = None) -> None:
        self.options = options or SessionOptions()
        self._search: list[SearchPathEntry] | None = None
        self.warnings: list[Diagnostic] = []
        self._store = None
        self._evaluator: Evaluator | None = None
        self._table: DrvTable | None = None
        self._host: dict[str, str] | None = None
        self._system_host: SystemHost | None = None
        self.inputs = InputLog()  # what evaluation read (for the evaluation cache)
        self._inputs_seen: set[str] = set()  # the names --override-input could have replaced
        self._local_imports: dict[tuple[str, str], StorePath] = {}  # (directory, view or "") -> its store path
        self.io: Any = None  # the evaluator's StoreIO, made with the evaluator
        self.query_recs: dict[str, Any] = {}  # key -> the query record of a derivation made here (drvindex.rec_of)
        self.display_labels: dict[str, str] = {}  # file label -> display path, kept by the evaluation cache

    # -- parts -------------------------------------------------------------------------------

    @property
    def search_path(self) -> list[SearchPathEntry]:
        """``-I`` entries, then ``SKIFFEVAL_PATH``'s, then ``layers=<the layer library>``."""
        if self._search is None:
            self._search = self._search_path()
        return self._search

    def _search_path(self) -> list[SearchPathEntry]:
        from skiffeval.eval.evaluator import parse_search_path

        entries = list(self.options.include)
        if self.options.env_search_path:
            entries.extend(self.options.env_search_path.split(":"))
        path = parse_search_path(entries)
        path.append(("layers", default_layers_dir()))
        return path

    @property
    def store_dir(self) -> str:
        return os.path.join(self.options.cwd, self.options.store_dir or "store")

    @property
    def store(self):
        """The store (a ``LocalStore``), opened on first use."""
        if self._store is None:
            from skiffeval.store.local import LocalStore

            self._store = LocalStore(self.store_dir)
        return self._store

    @property
    def table(self) -> DrvTable:
        if self._table is None:
            from skiffeval.session.drvs import DrvTable

            self._table = DrvTable(str(self.store.root))
        return self._table

    @property
    def evaluator(self) -> Evaluator:
        if self._evaluator is None:
            from skiffeval.eval.evaluator import Evaluator
            from skiffeval.session.drvs import derivation_builtins
            from skiffeval.session.layers import layer_builtins
            from skiffeval.session.skiffos import skiffos_builtins
            from skiffeval.session.storeio import StoreIO
            from skiffeval.session.system import SystemHost, system_builtins

            host = self._system_host = SystemHost(self.table, self.host_info, self._override, self._source, self.warnings)
            registries = [derivation_builtins(self.table), layer_builtins(), system_builtins(host), skiffos_builtins(host, self.warnings)]
            self.io = StoreIO(self.store, self.inputs)
            self._evaluator = Evaluator(self.io, self.search_path, registries, display_root=self.options.cwd)
        return self._evaluator

    def host_info(self) -> dict[str, str]:
        """The build machine's architecture and GCC major version (Buildroot's Kconfig reads them)."""
        if self._host is None:
            import shutil

            from skiffeval.kconfig import detect_host

            self.inputs.program(shutil.which("gcc"))
            info = detect_host()
            self._host = {"arch": info.arch, "gcc_version": info.gcc_version}
        return self._host

    def _override(self, name: str, value: Any, span: Span | None) -> Any:
        """The input ``name`` as given by ``--override-input``, or ``value``.

        A directory is not imported here but returned as a ``LocalTree``: the derivations that
        take it import it whole, or a view of it (``_source``), when they are made.  Only a
        pinned input's override is imported at once, to compare it with its pin (W150).
        """
        overrides = dict(self.options.overrides)
        self._inputs_seen.add(name)
        if name not in overrides:
            return value
        path = os.path.abspath(os.path.join(self.options.cwd, overrides[name]))
        if not os.path.isdir(path) and not os.path.isfile(path):
            raise SkiffError(BAD_OVERRIDE, f"--override-input {name}: '{path}' does not exist", span)
        pinned = self.table.derivation_of(value) if value is not None else None
        # a checkout's .git is not part of its tree (fetchgit's output has none)
        exclude = frozenset({".git"}) if os.path.isdir(os.path.join(path, ".git")) else frozenset()
        tree = LocalTree(path, exclude)
        if pinned is not None and pinned[0].fixed is not None:
            actual = self.store.path_info(self._import_whole(tree)).sha256
            if actual != pinned[0].fixed.sha256:
                self.warnings.append(
                    Diagnostic(
                        Severity.WARNING,
                        OVERRIDE_DIFFERS,
                        f"--override-input {name}: the content of '{path}' differs from the pinned '{pinned[0].name}' "
                        f"(sha256 {actual[:16]}... instead of {pinned[0].fixed.sha256[:16]}...)",
                        span,
                        help=(f"pin it with hash = \"sha256:{actual}\" if this tree is the one you mean",),
                    )
                )
        if os.path.isfile(path):
            return self._source_string(self._import_whole(tree))
        return tree

    def _import_whole(self, tree: LocalTree) -> StorePath:
        sp = self._local_imports.get((tree.path, ""))
        if sp is None:
            from skiffeval.session.storeio import store_name

            self.inputs.tree(tree.path, tree.exclude)  # before the import reads it
            sp = self._local_imports[(tree.path, "")] = self.store.add_path(tree.path, store_name(tree.path), tree.exclude)
        return sp

    def _source_string(self, sp: StorePath) -> Any:
        from skiffeval.eval.values import CStr
        from skiffeval.session.refs import SourceRef

        text = str(self.store.real_path(sp))
        return CStr(text, frozenset((SourceRef(sp, text),)))

    def _source(self, value: Any, span: Span | None, what: str, *, kconfig_view: Sequence[str] | None = None) -> tuple[str, frozenset]:
        """The text (a store path) and context of the source ``value`` in a derivation's spec.

        With ``kconfig_view`` (extra files to keep, relative to the tree), a local Buildroot
        directory — an ``--override-input`` or a path value — enters the store as its Kconfig
        view (``kconfig_view_files``: the ``Config.*`` files, ``Makefile`` and ``configs/``),
        named ``<name>-kconfig``: what a resolution reads, and all that a warm run then checks.
        A Buildroot source that is a derivation's output (``fetchgit``) is already in the
        store and is taken whole.
        """
        from skiffeval.eval.runtime import coerce_to_string
        from skiffeval.eval.values import PathValue

        if kconfig_view is not None:
            tree = value if isinstance(value, LocalTree) else None
            if type(value) is PathValue and os.path.isdir(value.path):
                tree = LocalTree(value.path, frozenset({".git"}))
            if tree is not None:
                return coerce_to_string(self.evaluator, self._source_string(self._import_kconfig_view(tree, tuple(kconfig_view))), span)
        if isinstance(value, LocalTree):
            value = self._source_string(self._import_whole(value))
        return coerce_to_string(self.evaluator, value, span, what=what)

    def _import_kconfig_view(self, tree: LocalTree, extra: tuple[str, ...]) -> StorePath:
        view = "kconfig:" + "\0".join(extra)
        sp = self._local_imports.get((tree.path, view))
        if sp is None:
            from skiffeval.kconfig.buildroot import kconfig_view_files, kconfig_view_select
            from skiffeval.session.storeio import store_name

            # one walk selects the view's files and records the tree for the evaluation cache
            files = self.inputs.tree(tree.path, frozenset({".git"}), kconfig_view_select(extra), view)
            if self.inputs.kinds.get(tree.path, "") is None:  # the walk failed: say why
                files = kconfig_view_files(tree.path, extra=extra)
            name = store_name(tree.path)[:190] + "-kconfig"
            sp = self._local_imports[(tree.path, view)] = self.store.add_path(tree.path, name, frozenset({".git"}), files)
        return sp

    # -- evaluation ----------------------------------------------------------------------------

    def _arguments(self, args: Mapping[str, ArgValue]) -> dict[str, Any]:
        ev = self.evaluator
        out: dict[str, Any] = {}
        for name, arg in args.items():
            out[name] = ev.eval_text(arg.text, f"(--arg {name})", self.options.cwd) if arg.is_expr else arg.text
        return out

    def _root(self, file: str, args: Mapping[str, ArgValue] | None) -> Any:
        ev = self.evaluator
        return ev.auto_call(ev.eval_file(os.path.join(self.options.cwd, file)), self._arguments(args or {}))

    def evaluate(
        self,
        file: str,
        attr_paths: Sequence[str] = (),
        args: Mapping[str, ArgValue] | None = None,
        *,
        deep: bool = False,
    ) -> list[Any]:
        """The values of ``file`` (auto-called with ``args``) at each ``-A`` path (or the whole
        value), forced to weak head normal form, or completely with ``deep``."""

        def work() -> list[Any]:
            ev = self.evaluator
            root = self._root(file, args)
            values = [ev.select_path(root, p) for p in attr_paths] if attr_paths else [force(root)]
            if deep:
                for v in values:
                    ev.force_deep(v)
            return values

        return run_deep(work)

    def evaluate_expression(self, text: str, args: Mapping[str, ArgValue] | None = None, *, deep: bool = False) -> Any:
        """The value of an expression given on the command line (``--expr``)."""

        def work() -> Any:
            ev = self.evaluator
            value = ev.auto_call(ev.eval_text(text, "(--expr)", self.options.cwd), self._arguments(args or {}))
            return ev.force_deep(value) if deep else force(value)

        return run_deep(work)

    def render(self, value: Any, *, json: bool, strict: bool) -> str:
        """The text of a value for printing: Nix-like text, or JSON."""
        from skiffeval.eval.builtins.json import to_json_text
        from skiffeval.eval.printer import print_value

        ev = self.evaluator
        if json:
            return run_deep(lambda: to_json_text(ev, value, None)[0])
        return run_deep(lambda: print_value(ev, value, strict=strict))

    # -- derivations of values -----------------------------------------------------------------

    def derivations_of(self, value: Any, label: str, whole: str = "the value") -> list[tuple[str, Derivation, str]]:
        """The derivations a value stands for: itself, or (like nix-build) the derivations among
        the attributes of a set or the elements of a list.  ``whole`` names the value in an
        error when ``label`` (its attribute path) is empty."""
        from skiffeval.eval.values import Attrs

        found = self.table.derivation_of(value)
        if found is not None:
            return [(label, found[0], found[1])]
        value = force(value)
        out: list[tuple[str, Derivation, str]] = []
        if type(value) is Attrs:
            for name in value.names():
                hit = self.table.derivation_of(value.values[name])
                if hit is not None:
                    out.append((f"{label}.{name}" if label else name, hit[0], hit[1]))
        elif type(value) is tuple:
            for i, item in enumerate(value):
                hit = self.table.derivation_of(item)
                if hit is not None:
                    out.append((f"{label}.{i}" if label else str(i), hit[0], hit[1]))
        if not out:
            from skiffeval.eval.values import describe

            shown = f"'{label}'" if label else whole
            raise SkiffError(
                NOT_BUILDABLE,
                f"{shown} is {describe(value)}, not a derivation (nor a set or list of them)",
                help=[_select_help(value)],
            )
        return out

    def _index_built(self, result: Any) -> None:
        """Give the query index the records of what ``result`` built (or cut off early): the
        first query after a build then reads no ``.drv`` file (``queries.index_records``)."""
        keys = (*result.built, *result.cutoff, *(f.key for f in result.failed))
        if keys:
            from skiffeval.session.drvindex import index_records

            by_key = self.table.by_key
            index_records(self.store, [by_key[k] for k in keys if k in by_key], self.query_recs)

    def _explain_failure(self, exc: Any) -> SkiffError:
        """A build failure in the domain's terms: a failed fetch is E158; a builder error whose
        span names a file by its derivation label, or a file of a store copy of the user's
        files (a Kconfig file of an external tree), points at the file itself."""
        from skiffeval.session.codes import FETCH_FAILED

        first = exc.failures[0]
        drv = self.table.by_key.get(first.key)
        if drv is not None and drv.builder in ("builtin:fetchurl", "builtin:fetchgit") and first.error.code.code == "E112":
            return SkiffError(FETCH_FAILED, first.error.message, first.error.span,
                              help=first.error.help, notes=first.error.notes)
        span = exc.span or first.error.span
        made_at = self._system_host.label_spans if self._system_host is not None else {}
        if span is not None and span.file in made_at:
            # a generated fragment (fragment { }, writeText): the call that made it
            exc.span = made_at[span.file]
            exc.notes.append(Note(f"line {span.line} of the generated '{span.file[1:-1]}'"))
        elif span is not None:
            from skiffeval.diagnostics import Source

            origins = source_origins(self)
            for folder, original in origins:  # a store copy named in the message, too
                if folder in exc.message:
                    exc.message = exc.message.replace(folder, self.evaluator.display_name(original))
            path = _original_file(self, span.file, origins)  # (a derivation label first)
            if path is None:
                exc.span = span  # (a store file: still the place to look)
                return exc
            try:
                with open(path, encoding="utf-8") as f:
                    source = Source(self.evaluator.display_name(path), f.read(), path)
            except OSError:
                source = None
            exc.span = dataclasses.replace(span, file=self.evaluator.display_name(path), source=source)
        return exc

    def check_overrides(self) -> None:
        """Every ``--override-input NAME`` must name an input the evaluation had (E159)."""
        from skiffeval.diagnostics import did_you_mean_help

        for name, path in self.options.overrides:
            if name not in self._inputs_seen:
                known = sorted(self._inputs_seen)
                raise SkiffError(
                    BAD_OVERRIDE,
                    f"--override-input {name}={path}: no input of this evaluation is named '{name}'",
                    help=did_you_mean_help(name, known) or ([f"the inputs are {', '.join(known)}"] if known else
                                                            ["only a system's 'buildroot' input can be overridden"]),
                )

    def instantiate(self, request: BuildRequest) -> list[tuple[str, Derivation, str]]:
        """Evaluate a build request to the derivations it names."""

        def work() -> list[tuple[str, Derivation, str]]:
            ev = self.evaluator
            root = self._root(request.target, request.args)
            found: list[tuple[str, Derivation, str]] = []
            for path in request.attr_paths or ("",):
                value = ev.select_path(root, path) if path else force(root)
                found.extend(self.derivations_of(value, path, f"the value of '{request.target}'"))
            self.check_overrides()
            return found

        return run_deep(work)

    # -- building ------------------------------------------------------------------------------

    def configure_images(self, *, dl_dir: str | None = None, ccache_dir: str | None = None, pure: bool = False,
                         jobs: int | None = None, on_progress: Callable[[str, Any], None] | None = None,
                         on_line: Callable[[str, str], None] | None = None) -> None:
        """Where Buildroot builds download and cache (none of it is hashed), and who hears of its
        progress (docs/buildroot.md)."""
        from skiffeval.builders.image_settings import SETTINGS

        cwd = self.options.cwd
        self._images_configured = True
        SETTINGS.builds_dir = None
        SETTINGS.dl_dir = os.path.abspath(os.path.join(cwd, dl_dir)) if dl_dir else None
        SETTINGS.ccache_dir = os.path.abspath(os.path.join(cwd, ccache_dir)) if ccache_dir else None
        SETTINGS.pure = pure
        SETTINGS.jobs = jobs
        SETTINGS.on_progress = on_progress
        SETTINGS.on_line = on_line

    def build(
        self,
        requests: Sequence[BuildRequest],
        *,
        jobs: int = 1,
        keep_going: bool = False,
        dry_run: bool = False,
        out_link: str | None = "result",
        on_event: Callable[[Any], None] | None = None,
    ) -> BuildOutcome:
        """Evaluate, write the .drv files (one transaction) and realize the requested outputs."""
        targets: list[tuple[str, Derivation, str]] = []
        for request in requests:
            targets.extend(self.instantiate(request))
        return self.realize_targets(targets, jobs=jobs, keep_going=keep_going, dry_run=dry_run, out_link=out_link, on_event=on_event)

    def realize_targets(
        self,
        targets: Sequence[tuple[str, Derivation, str]],
        *,
        jobs: int = 1,
        keep_going: bool = False,
        dry_run: bool = False,
        out_link: str | None = None,
        on_event: Callable[[Any], None] | None = None,
    ) -> BuildOutcome:
        """Realize (label, derivation, output) targets made by this session's evaluation."""
        from skiffeval.builders import realize  # (each builder's module is imported when needed)

        from skiffeval.store.realize import RealizeError

        if not getattr(self, "_images_configured", False):
            self.configure_images()  # this session's settings, never an earlier session's
        drvs = list({d.key: d for _, d, _ in targets}.values())
        try:
            result = realize(
                self.store,
                drvs,
                graph=self.table.by_key,
                jobs=jobs,
                keep_going=keep_going,
                dry_run=dry_run,
                on_event=on_event,
            )
        except RealizeError as exc:
            self._index_built(exc.result)
            raise self._explain_failure(exc) from None
        if dry_run:
            return BuildOutcome(tuple((label, d, o, None) for label, d, o in targets), result)
        self._index_built(result)
        done = tuple((label, d, o, result.outputs[d.key][o]) for label, d, o in targets)
        links: list[str] = []
        if out_link:
            for i, (_, _, _, path) in enumerate(done):
                link = out_link if i == 0 else f"{out_link}-{i + 1}"
                link_path = os.path.join(self.options.cwd, link)
                self.store.add_indirect_root(link_path, path)
                links.append(link)
        if result.built or result.cutoff:
            # the queries that follow a build start from its walks: kept now, while its records
            # are in memory (after the out-links: the last write, so the generation they keep)
            from skiffeval.session.queries import remember_build

            remember_build(self, drvs, [path for _l, _d, _o, path in done])
        return BuildOutcome(done, result, tuple(links))


def system_commands(session: Session, request: BuildRequest) -> tuple[str, list[Any], Any]:
    """The commands the layers of the system ``request`` names declare: (system name, commands,
    the system value)."""
    from skiffeval.eval.values import Attrs


    def work() -> tuple[str, list[Any], Any]:
        ev = session.evaluator
        root = session._root(request.target, request.args)
        value = ev.select_path(root, request.attr_paths[0]) if request.attr_paths else force(root)
        name = force(value.values.get("system")) if type(value) is Attrs else None
        if not isinstance(name, str):
            raise SkiffError(NOT_BUILDABLE, f"'{request.target}' is not a system (it has no layer commands)")
        return name, list(session._system_host.commands.get(name, [])), value

    return run_deep(work)


def run_environment(session: Session, system: str, value: Any, outcome: BuildOutcome) -> dict[str, str]:
    """The environment a layer command runs in: the system's realized outputs."""
    from skiffeval.eval.values import Attrs

    build_dir = session.store.root / ".skiffeval" / "builds" / system
    env = {
        "SKIFFEVAL_SYSTEM": system,
        "SKIFFEVAL_STORE": str(session.store.root),
        "BUILDROOT_DIR": str(build_dir),  # the kept build directory (SkiffOS's workspace)
    }
    for label, _drv, _output, path in outcome.targets:
        env["SKIFFEVAL_BUNDLE"] = str(session.store.real_path(path))
    image_key = None
    for attr in ("config", "overlay", "kernel_config", "hooks", "image", "resolved"):
        try:
            hit = session.table.derivation_of(value.values.get(attr)) if type(value) is Attrs else None
        except SkiffError:  # e.g. 'resolved' of a system without a Buildroot source
            continue
        if hit is None:
            continue
        realised = session.store.realisation(hit[0].key)
        if realised is not None and hit[1] in realised.outputs:
            env[f"SKIFFEVAL_{attr.upper()}"] = str(session.store.real_path(realised.outputs[hit[1]]))
            if attr == "image":
                image_key = hit[0].key
    if "SKIFFEVAL_IMAGE" in env:
        image = Path(env["SKIFFEVAL_IMAGE"])
        env["SKIFFEVAL_IMAGES"] = str(image / "images")
        # the kept directory's last successful build was this image's derivation
        from skiffeval.builders.buildroot_image import IMAGE_MARKER

        try:
            same = (build_dir / IMAGE_MARKER).read_text().strip() == image_key
        except OSError:
            same = False
        if not same:
            env["BUILDROOT_DIR"] = str(_image_view(session, system, image))
    return env


def _image_view(session: Session, system: str, image: Path) -> Path:
    """A stand-in for the kept build directory when it last built another configuration of
    ``system`` (the image was answered by the store): ``images`` is the image's own and
    ``.config`` its configuration; there is no ``host/`` or ``target/`` (they would be the other
    configuration's). A warning says so."""
    from skiffeval.session.codes import BUILD_DIR_ELSEWHERE

    view = session.store.root / ".skiffeval" / "views" / image.name
    if not (view / "images").exists():
        tmp = view.with_name(view.name + f".tmp{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "images").unlink(missing_ok=True)
        (tmp / "images").symlink_to(image / "images")
        (tmp / ".config").write_bytes((image / "config").read_bytes())
        try:
            os.replace(tmp, view)
        except OSError:  # another process made it first
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    session.warnings.append(Diagnostic(
        Severity.WARNING, BUILD_DIR_ELSEWHERE,
        f"the kept build directory of '{system}' holds another configuration's build; "
        f"BUILDROOT_DIR is {view}, which has this image's images/ and .config only",
        None,
        help=("rebuild it there with 'skiffeval build <board> -A image' after a change, or use --pure builds",),
    ))
    return view


def resolve_placeholders(session: Session, text: str) -> str:
    """``text`` with the placeholders of realized outputs replaced by their store paths."""
    from skiffeval.session.refs import PLACEHOLDER_PREFIX, placeholder

    if PLACEHOLDER_PREFIX not in text:
        return text
    for drv in session.table.by_key.values():
        realised = session.store.realisation(drv.key)
        if realised is None:
            continue
        # the longest output name first: the placeholder of 'out' begins that of 'out2'
        for output, path in sorted(realised.outputs.items(), key=lambda kv: len(kv[0]), reverse=True):
            text = text.replace(placeholder(drv.ref, drv.name, output), str(session.store.real_path(path)))
    return text


def skiffos_value(session: Session, root: str, config: str, *, workspace: str = "default",
                  extra_paths: Sequence[str] = (), overrides: Mapping[str, str] | None = None) -> Any:
    """The system ``skiffos { ... }`` gives for these parameters (the CLI's ``skiffos`` commands)."""
    from skiffeval.eval.values import Attrs, PathValue

    from skiffeval.eval.runtime import call

    def work() -> Any:
        ev = session.evaluator
        spec = {
            "root": PathValue(os.path.abspath(os.path.join(session.options.cwd, root))),
            "config": config,
            "workspace": workspace,
            "extra_paths": tuple(extra_paths),
        }
        if overrides:
            spec["overrides"] = Attrs({k: PathValue(os.path.abspath(v)) for k, v in overrides.items()})
        value = force(call(ev, ev.primop("skiffos"), Attrs(spec), None))
        session.check_overrides()
        return value

    return run_deep(work)


def _select_help(value: Any) -> str:
    """How to pick a derivation out of ``value``: with -A, among its attributes if it has some."""
    from skiffeval.eval.evaluator import attributes_here
    from skiffeval.eval.values import Attrs

    if type(value) is not Attrs or not value.values:
        return "select a derivation with -A ATTR (an attribute path), e.g. -A config"
    return f"select a derivation with -A ATTR; {attributes_here(value)}"


def _original_file(session: Session, text: str, origins: list[tuple[str, str]]) -> str | None:
    """The user's file a derivation's file label (``<layers/x>``, ``cat/name:rel``) names, or
    that a file of a store copy (``origins``, see ``source_origins``) is a copy of; else None."""
    path = session._system_host.labels.get(text) if session._system_host is not None else None
    if path:
        return path
    for folder, original in origins:
        if text.startswith(folder) and (len(text) == len(folder) or text[len(folder)] == "/"):
            return original + text[len(folder):]
    return None


def _display_label(session: Session, text: str, origins: list[tuple[str, str]]) -> str:
    """A file label or a file of a store copy as a path a person can open (``_original_file``)."""
    path = _original_file(session, text, origins)
    return session.evaluator.display_name(path) if path else text


def source_origins(session: Session) -> list[tuple[str, str]]:
    """The folders of the store that are copies of the user's files, as (store path text,
    original path), longest first: the sources this evaluation imported, and the folders of
    built outputs that copy a source (external trees).  A diagnostic about a file of such a
    copy (a Kconfig file of Buildroot's ``-kconfig`` view, of an external tree) then names the
    file the user has."""
    store = session.store
    found = {str(store.real_path(sp)): path for (path, _view), sp in session._local_imports.items()}
    if session.io is not None:
        found.update(session.io.imported())
    host = session._system_host
    for (key, output, folder), path in (host.output_origins.items() if host is not None else ()):
        realised = store.realisation(key)
        if realised is not None and output in realised.outputs:
            found[f"{store.real_path(realised.outputs[output])}/{folder}"] = path
    return sorted(found.items(), key=lambda item: -len(item[0]))


def resolved_report(session: Session, drv: Derivation, outputs: Mapping[str, StorePath]) -> dict | None:
    """The provenance report a ``resolved`` derivation wrote, with file labels shown as paths."""
    import json

    if drv.builder != "builtin:kconfig-resolve" or "report" not in outputs:
        return None
    path = session.store.real_path(outputs["report"]) / "report.json"
    report = json.loads(path.read_text())

    labels = session._system_host.labels if session._system_host is not None else {}
    # longest first, so a file's label is replaced before its folder's
    shown = sorted(((label, session.evaluator.display_name(path)) for label, path in labels.items()), key=lambda x: -len(x[0]))

    origins = source_origins(session)

    def fix(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: (_display_label(session, v, origins) if k == "file" and isinstance(v, str) else fix(v)) for k, v in obj.items()}
        if isinstance(obj, list):
            return [fix(x) for x in obj]
        if isinstance(obj, str) and ":" in obj:
            for label, display in shown:
                if label in obj:
                    obj = obj.replace(label, display)
        return obj

    return fix(report)
