"""Every user-facing msgid has a Ukrainian (and English) translation, and the .mo files are compiled."""

import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

BASE_DIR = Path(settings.BASE_DIR)
IGNORE = [".venv", "node_modules", "staticfiles", ".data", ".git", "tests", "bench"]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory, monkeypatch_module):
    """Catalogues re-extracted from today's source and merged with the committed translations.

    makemessages writes next to the sources it reads, so it runs on a copy of the tree.
    """
    tree = tmp_path_factory.mktemp("tree") / "src"
    shutil.copytree(BASE_DIR, tree, ignore=shutil.ignore_patterns(*IGNORE, "__pycache__"))
    monkeypatch_module.chdir(tree)
    monkeypatch_module.setattr(settings, "LOCALE_PATHS", [str(tree / "locale")])
    call_command("makemessages", locale=["uk", "en"], ignore_patterns=IGNORE, no_obsolete=True, verbosity=0)
    return tree / "locale"


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.mark.parametrize("language", ["uk", "en"])
def test_every_msgid_is_translated(extracted, language):
    po = polib.pofile(str(extracted / language / "LC_MESSAGES" / "django.po"))
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert not untranslated, f"{language}: missing translations for {untranslated}"
    assert not fuzzy, f"{language}: fuzzy (unchecked) translations for {fuzzy}"


@pytest.mark.parametrize("language", ["uk", "en"])
def test_compiled_catalogue_matches_the_po_file(language):
    directory = BASE_DIR / "locale" / language / "LC_MESSAGES"
    po = polib.pofile(str(directory / "django.po"))
    mo = {(entry.msgctxt, entry.msgid): entry.msgstr for entry in polib.mofile(str(directory / "django.mo"))}
    stale = [
        e.msgid for e in po.translated_entries() if not e.msgid_plural and mo.get((e.msgctxt, e.msgid)) != e.msgstr
    ]
    assert not stale, f"run compilemessages: {stale[:5]}"


def test_ukrainian_is_served():
    with translation.override("uk"):
        assert translation.gettext("Notifications") == "Сповіщення"
