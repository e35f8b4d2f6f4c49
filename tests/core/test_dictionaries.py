"""Every enum value the API shows has a Chinese label in /meta/dictionaries."""

import enum
import importlib
import pkgutil

import backend
from backend.meta.dictionaries import DICTIONARIES


def _api_enums() -> list[type[enum.StrEnum]]:
    for module in pkgutil.walk_packages(backend.__path__, "backend."):
        if module.name.rsplit(".", 1)[-1] in {"models", "schemas"}:
            importlib.import_module(module.name)
    found, stack = [], list(enum.StrEnum.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("backend."):
            found.append(cls)
    return found


def test_every_enum_has_a_dictionary_that_labels_all_its_values():
    enums = _api_enums()
    assert len(enums) > 20
    unlabelled = []
    for cls in enums:
        values = {m.value for m in cls}
        if not any(values <= set(labels) for labels in DICTIONARIES.values()):
            unlabelled.append(f"{cls.__module__}.{cls.__name__}: {sorted(values)}")
    assert unlabelled == []


def test_labels_are_chinese():
    for name, labels in DICTIONARIES.items():
        for value, label in labels.items():
            assert any("\u4e00" <= ch <= "\u9fff" for ch in label) or label[:1].isdigit(), (
                name,
                value,
                label,
            )
