"""The core knows no domain (CONVENTIONS point 10): domains register what it needs, it never imports them."""

import ast
from pathlib import Path

import backend.core

CORE = Path(backend.core.__file__).parent


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):  # every node, so an import inside a function counts too
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            if node.module == "backend":
                found += [(node.lineno, f"backend.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level > 1:
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def _outside_core(module: str) -> bool:
    if module.startswith(".."):
        return True  # a relative import climbing out of backend/core
    parts = module.split(".")
    return parts[0] == "backend" and (len(parts) < 2 or parts[1] != "core")


def test_core_imports_no_domain_module():
    files = sorted(CORE.glob("*.py"))
    assert len(files) > 10
    offenders = [
        f"{path.name}:{line} imports {module}"
        for path in files
        for line, module in _imported_modules(ast.parse(path.read_text(), str(path)))
        if _outside_core(module)
    ]
    assert offenders == []


def test_the_check_sees_imports_inside_functions():
    source = (
        "def f():\n    from backend.auth.roles import permissions_for\n    import backend.meta.dictionaries\n"
    )
    modules = [m for _, m in _imported_modules(ast.parse(source))]
    assert [m for m in modules if _outside_core(m)] == ["backend.auth.roles", "backend.meta.dictionaries"]
    assert not _outside_core("backend.core.clock")
