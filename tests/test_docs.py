"""Meta-tests that keep the documentation honest.

- every hook is documented in the hooks reference and implemented by some test;
- every ``PYMESS_*`` setting the code reads is in the settings reference, with
  its real default, and the reference lists nothing the code does not read;
- every code example runs (python blocks exec'd, pycon blocks as doctests),
  settings snippets name real settings, ``manage.py`` lines name real commands
  with valid options, ``pip install`` lines name real distributions;
- every dotted ``pymess.*`` name in the docs imports;
- the capability matrix matches the backend classes; every backend has a page.

The HTML build itself (``sphinx-build -W``) is the nox ``docs`` session.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import importlib.util
import inspect
import re
import shlex
import sys
import tomllib
import types
from pathlib import Path

import pytest
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, get_commands, load_command_class

from pymess import hookspecs
from tests.fixtures.fix_docs import DOCS, ROOT, Block, all_blocks, blocks, page_name, pages

SETTING_RE = re.compile(r"\bPYMESS_[A-Z][A-Z0-9_]*[A-Z0-9]\b")


# -- pages -------------------------------------------------------------------------------------

REQUIRED_PAGES = [
    "index.rst",
    "quickstart.rst",
    "sending.rst",
    "settings.rst",
    "states.rst",
    "backends/index.rst",
    "backends/dummy.rst",
    "plugins.rst",
    "hooks.rst",
    "batch.rst",
    "testing.rst",
    "delivery_reports.rst",
    "admin.rst",
    "upgrading.rst",
    "changelog.rst",
]
#: Written with the provider distributions (fail here until those branches are merged).
PROVIDER_PAGES = [
    "backends/sns.rst",
    "backends/twilio.rst",
    "backends/ats.rst",
    "backends/sms_operator.rst",
]


@pytest.mark.parametrize("page", REQUIRED_PAGES + PROVIDER_PAGES)
def test_page_exists(page):
    assert (DOCS / page).is_file(), f"docs/{page} is missing"


@pytest.mark.parametrize("path", pages(), ids=page_name)
def test_code_is_in_code_block_directives(path):
    """Bare ``::`` literal blocks would escape the example tests below."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if stripped.endswith("::") and not stripped.startswith(".. "):
            pytest.fail(f"docs/{page_name(path)}:{number}: use '.. code-block::' instead of '::'")


# -- hooks -------------------------------------------------------------------------------------


def hook_functions():
    return [
        function
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("pymess_") and hasattr(function, "pymess_spec")
    ]


def test_hookspecs_found():
    assert {f.__name__ for f in hook_functions()} >= {
        "pymess_sms_pre_send",
        "pymess_sms_post_send",
        "pymess_sms_state_updated",
    }


@pytest.mark.parametrize("hook", hook_functions(), ids=lambda f: f.__name__)
def test_hook_is_documented(hook):
    reference = (DOCS / "hooks.rst").read_text(encoding="utf-8")
    generated = re.search(
        r"\.\. automodule:: pymess\.hookspecs\n(?:\s+:[\w-]+:.*\n)*?\s+:members:", reference
    )
    explicit = f".. autofunction:: pymess.hookspecs.{hook.__name__}" in reference
    assert generated or explicit, f"docs/hooks.rst does not document {hook.__name__}"
    docstring = inspect.getdoc(hook) or ""
    assert len(docstring.splitlines()[0]) > 10, f"{hook.__name__} needs a summary line"
    for parameter in inspect.signature(hook).parameters:
        assert f":param {parameter}:" in docstring, f"{hook.__name__}: document :param {parameter}:"
    assert re.search(r"raise|exception", docstring, re.I), (
        f"{hook.__name__}: say what happens when it raises"
    )


def hook_implementations_in_tests() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in (ROOT / "tests").rglob("*.py"):
        if path.name == Path(__file__).name:
            continue
        for name in re.findall(r"^\s*def (pymess_\w+)\(", path.read_text(encoding="utf-8"), re.M):
            found.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    return found


@pytest.mark.parametrize("hook", hook_functions(), ids=lambda f: f.__name__)
def test_hook_is_implemented_by_a_test(hook):
    implementations = hook_implementations_in_tests()
    assert hook.__name__ in implementations, (
        f"No test under tests/ implements {hook.__name__} (a function of that name)."
    )


# -- settings ----------------------------------------------------------------------------------


def distribution_sources() -> list[Path]:
    roots = [*ROOT.glob("pymess-*/src"), *ROOT.glob("examples/*/src")]
    return sorted(p for root in roots for p in root.rglob("*.py"))


def settings_read_in_code() -> dict[str, str]:
    """Every ``PYMESS_*`` name in the distributions' source, with one place it occurs."""
    found: dict[str, str] = {}
    for path in distribution_sources():
        for name in SETTING_RE.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, path.relative_to(ROOT).as_posix())
    return found


def documented_settings() -> dict[str, str | None]:
    """``.. confval::`` entries of the settings reference with their ``:default:`` text."""
    text = (DOCS / "settings.rst").read_text(encoding="utf-8")
    documented: dict[str, str | None] = {}
    for match in re.finditer(r"^\.\. confval:: (\S+)\n((?:[ ]+:[\w-]+:.*\n)*)", text, re.M):
        default = re.search(r":default: +``(.+)``", match[2])
        documented[match[1]] = default[1] if default else None
    return documented


def code_defaults() -> dict[str, object]:
    """Defaults in ``pymess.config``: the second argument of each ``_get("PYMESS_X", default)``."""
    from pymess import config

    def value(node: ast.expr) -> object:
        return eval(compile(ast.Expression(node), "config", "eval"), {"__builtins__": {}})

    def is_get(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "_get"
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
        )

    tree = ast.parse(Path(config.__file__).read_text(encoding="utf-8"))
    defaults: dict[str, object] = {}
    for node in ast.walk(tree):
        if is_get(node):
            defaults.setdefault(node.args[0].value, value(node.args[1]))
        # ``_get("PYMESS_X", None) or {}``: the effective default is the right-hand side.
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and is_get(node.values[0]):
            get = node.values[0]
            if isinstance(get.args[1], ast.Constant) and get.args[1].value is None:
                defaults[get.args[0].value] = value(node.values[1])
    return defaults


def test_settings_found_in_code():
    assert "PYMESS_SMS_SENDER_BACKEND" in settings_read_in_code()
    assert code_defaults()["PYMESS_SMS_SENDER_BACKEND"] == "dummy"


@pytest.mark.parametrize("setting", sorted(settings_read_in_code()))
def test_setting_is_documented_with_its_default(setting):
    documented = documented_settings()
    where = settings_read_in_code()[setting]
    assert setting in documented, f"{setting} (read in {where}) is missing from docs/settings.rst"
    assert documented[setting] is not None, f"docs/settings.rst: give {setting} a :default:"
    defaults = code_defaults()
    if setting in defaults:
        assert ast.literal_eval(documented[setting]) == defaults[setting], (
            f"docs/settings.rst says {setting} defaults to {documented[setting]}, "
            f"pymess.config uses {defaults[setting]!r}"
        )


def test_settings_reference_lists_only_settings_the_code_reads():
    stale = sorted(set(documented_settings()) - set(settings_read_in_code()))
    assert not stale, f"docs/settings.rst documents settings no code reads: {stale}"


# -- code examples -----------------------------------------------------------------------------

EXECUTED_KINDS = {"", "settings", "module", "requires"}


def pages_with_examples() -> list[Path]:
    return [p for p in pages() if any(b.lang in {"python", "pycon"} for b in blocks(p))]


def _assigned_names(code: str) -> list[str]:
    names = []
    for node in ast.parse(code).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def _check_settings_block(block: Block, known: set[str]) -> dict[str, object]:
    namespace: dict[str, object] = {}
    exec(compile(block.code, str(block), "exec"), namespace)
    values = {}
    for name in _assigned_names(block.code):
        is_django = hasattr(global_settings, name)
        assert name in known or is_django, f"{block}: {name} is not a pymess or Django setting"
        values[name] = namespace[name]
    return values


def _run_doctest(block: Block, namespace: dict) -> None:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.code, namespace, str(block), str(DOCS / block.page), block.line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    runner.run(test, out=report.append, clear_globs=False)
    namespace.update(test.globs)  # DocTest works on a copy; later blocks see these names
    assert runner.failures == 0, "".join(report)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", pages_with_examples(), ids=page_name)
def test_page_examples_run(path, settings, monkeypatch):
    """The page's examples, in order, in one namespace, on a fresh database."""
    known = set(settings_read_in_code())
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    missing: list[str] = []
    for block in blocks(path):
        if block.lang not in {"python", "pycon"}:
            continue
        compile(block.code if block.lang == "python" else "", str(block), "exec")
        if block.kind not in EXECUTED_KINDS:
            continue
        if block.kind == "settings":
            values = _check_settings_block(block, known)
            if block.argument == "apply":
                for name, value in values.items():
                    setattr(settings, name, value)
        elif block.kind == "module":
            module = types.ModuleType(block.argument)
            exec(compile(block.code, str(block), "exec"), module.__dict__)
            monkeypatch.setitem(sys.modules, block.argument, module)
        elif block.kind == "requires" and importlib.util.find_spec(block.argument) is None:
            missing.append(f"{block} needs {block.argument}")
        elif block.lang == "pycon":
            _run_doctest(block, namespace)
        else:
            exec(compile(block.code, str(block), "exec"), namespace)
    if missing:
        pytest.skip("every other example ran; not installed here: " + "; ".join(missing))


def test_every_marker_is_understood():
    allowed = {"", "settings", "module", "requires", "file", "skip"}
    for block in all_blocks():
        assert block.kind in allowed, f"{block}: unknown marker '.. test: {block.marker}'"
        if block.kind == "skip":
            reason = block.argument.strip("()")
            assert block.argument.startswith("("), f"{block}: '.. test: skip (reason)'"
            assert len(reason) > 10, f"{block}: say why the example is not run"
        if block.kind == "settings":
            assert block.argument in {"", "apply"}, f"{block}: '.. test: settings [apply]'"


@pytest.mark.parametrize("block", [b for b in all_blocks() if b.lang == "toml"], ids=str)
def test_toml_examples_parse(block):
    tomllib.loads(block.code)


# -- commands and installs ---------------------------------------------------------------------


def manage_py_lines() -> list[tuple[Block, list[str]]]:
    found = []
    for block in all_blocks():
        if block.lang in {"python", "pycon", "toml"}:
            continue
        for line in block.code.splitlines():
            if "manage.py " in line:
                found.append((block, shlex.split(line.split("manage.py ", 1)[1])))
    return found


@pytest.mark.parametrize(
    ("block", "argv"), manage_py_lines(), ids=[f"{b}:{a[0]}" for b, a in manage_py_lines()]
)
def test_documented_command_exists_with_these_options(block, argv):
    name, args = argv[0], argv[1:]
    commands = get_commands()
    assert name in commands, f"{block}: no management command {name!r}"
    command = load_command_class(commands[name], name)
    parser = command.create_parser("manage.py", name)
    try:
        parser.parse_args(args)
    except CommandError as exc:
        pytest.fail(f"{block}: manage.py {' '.join(argv)}: {exc}")


def repository_distributions() -> set[str]:
    names = set()
    for pyproject in [
        *ROOT.glob("pymess-*/pyproject.toml"),
        *ROOT.glob("examples/*/pyproject.toml"),
    ]:
        names.add(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"])
    return names


#: Third-party distributions the docs tell users to install.
THIRD_PARTY = {"pytest", "pytest-django"}


def pip_install_targets() -> list[tuple[Block, str]]:
    found = []
    for block in all_blocks():
        for line in block.code.splitlines():
            if line.startswith("$ pip install "):
                found += [(block, target) for target in shlex.split(line)[3:]]
    return found


@pytest.mark.parametrize(("block", "target"), pip_install_targets(), ids=lambda v: str(v))
def test_documented_install_names_a_real_distribution(block, target):
    if target.startswith("./"):
        assert (ROOT / target / "pyproject.toml").is_file(), (
            f"{block}: {target} is not a distribution"
        )
        return
    name = re.split(r"[\[<>=~ ]", target)[0]
    if name in THIRD_PARTY:
        return
    assert name in repository_distributions(), (
        f"{block}: pip install {name}: not a pymess distribution"
    )
    extras = re.findall(r"\[([\w,]+)\]", target)
    if extras:
        pyproject = ROOT / name / "pyproject.toml"
        declared = tomllib.loads(pyproject.read_text())["project"].get("optional-dependencies", {})
        for extra in extras[0].split(","):
            assert extra in declared, f"{block}: {name} has no extra {extra!r}"


# -- names -------------------------------------------------------------------------------------

DOTTED_RE = re.compile(r"(?<![\w.])(pymess(?:\.[A-Za-z_]\w*)+)")


def documented_dotted_names() -> list[tuple[str, str]]:
    found = {}
    for path in pages():
        for name in DOTTED_RE.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name.rstrip("."), page_name(path))
    return sorted(found.items())


def resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            obj = getattr(obj, attribute)
        return obj
    raise ModuleNotFoundError(dotted)


def other_kind_of_name(name: str) -> str:
    """What ``name`` is if not a Python object: a quoted string in the code, an entry-point
    group or a model label; ``""`` when it is none of them."""
    from django.apps import apps

    sources = "".join(p.read_text(encoding="utf-8") for p in distribution_sources())
    if f'"{name}"' in sources:
        return "string in the code (check id, logger, task name)"
    pyprojects = "".join(p.read_text() for p in ROOT.glob("*/pyproject.toml"))
    pyprojects += "".join(p.read_text() for p in ROOT.glob("examples/*/pyproject.toml"))
    if f'entry-points."{name}"' in pyprojects:
        return "entry-point group"
    if name.count(".") == 1:
        try:
            apps.get_model(name)
        except LookupError:
            return ""
        return "model label"
    return ""


@pytest.mark.parametrize(("name", "page"), documented_dotted_names())
def test_documented_dotted_name_exists(name, page):
    if other_kind_of_name(name):
        return
    try:
        resolve(name)
    except ImproperlyConfigured as exc:
        # A documented alias of a provider distribution that is not installed here.
        if "pip install" not in str(exc):
            pytest.fail(f"docs/{page}: {name}: {exc}")
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"docs/{page} names {name}, which does not exist: {exc}")


# -- backends ----------------------------------------------------------------------------------

FLAGS = [
    "supports_batch_request",
    "supports_state_polling",
    "supports_status_callbacks",
    "supports_sender_id",
]
#: The page documenting each backend entry-point name.
BACKEND_PAGES = {
    "dummy": "backends/dummy.rst",
    "locmem": "backends/dummy.rst",
    "sns": "backends/sns.rst",
    "twilio": "backends/twilio.rst",
    "ats": "backends/ats.rst",
    "sms_operator": "backends/sms_operator.rst",
    "example_log": "plugins.rst",
}


def capability_rows() -> dict[str, dict[str, bool]]:
    text = (DOCS / "backends" / "index.rst").read_text(encoding="utf-8")
    table = text.split(":name: capability-matrix", 1)[1]
    rows = re.findall(r"^   \* - ``(\w+)``\n((?:     - .*\n)+)", table, re.M)
    return {
        name: dict(
            zip(FLAGS, [c.strip() == "yes" for c in re.findall(r"- (.*)", cells)[:4]], strict=True)
        )
        for name, cells in rows
    }


def test_capability_matrix_lists_every_core_and_provider_backend():
    assert set(capability_rows()) == {"dummy", "locmem", "sns", "twilio", "ats", "sms_operator"}


@pytest.mark.parametrize("name", sorted(capability_rows()))
def test_capability_matrix_matches_the_backend_class(name):
    from pymess.backend.sms.registry import available_backends, resolve_backend_class

    if name not in available_backends():
        pytest.skip(f"backend {name!r} is not installed in this environment")
    backend_class = resolve_backend_class(name)
    actual = {flag: bool(getattr(backend_class, flag)) for flag in FLAGS}
    assert capability_rows()[name] == actual, (
        f"docs/backends/index.rst row {name!r} vs {backend_class}"
    )


def test_every_installed_backend_has_a_page():
    from pymess.backend.sms.registry import available_backends

    for name in available_backends():
        assert name in BACKEND_PAGES, f"backend {name!r} has no documentation page in BACKEND_PAGES"
        assert (DOCS / BACKEND_PAGES[name]).is_file(), (
            f"backend {name!r}: docs/{BACKEND_PAGES[name]} missing"
        )
        text = (DOCS / BACKEND_PAGES[name]).read_text(encoding="utf-8")
        assert f"``{name}``" in text or f'"{name}"' in text, (
            f"docs/{BACKEND_PAGES[name]}: name {name}"
        )
