"""Normalisation: one canonical form whatever the typography or chat markup."""

from __future__ import annotations

import pytest

from bot.normalise import is_common_word, normalise, spelling_variants, stem


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Who WON the election?", "who won the election"),
        ("Russia’s loss", "russia loss"),
        ("“quoted” and ‘single’", "quoted and single"),
        ("2015–2022 — a dash", "2015 2022 a dash"),
        ("Bogdan-Martin", "bogdan martin"),
        ("ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ", "fullwidth text"),
        ("Straße", "strasse"),
        ("<@U024BE7LH> who won?", "who won"),
        ("<@!80351110224678912> who won?", "who won"),
        ("<@&123> <!here> <!channel> <!subteam^S1|@team> hi", "hi"),
        ("see <#C1|general> now", "see general now"),
        ("read <https://odi.org/x|the article> please", "read the article please"),
        ("bare <https://odi.org/x> link", "bare link"),
        ("link https://odi.org/x?y=1 here", "link here"),
        (":thinking_face: who won :flag-us:", "who won"),
        ("who won 🤔🇺🇸👍🏽", "who won"),
        ("*bold* _it_ ~strike~ `code` **discord** __under__ ||spoiler||", "bold it strike code discord under spoiler"),
        ("> quoted question", "quoted question"),
        ("at 10:30 today", "at 10 30 today"),
        ("   \t\n ", ""),
        ("don't", "dont"),
        ("how many ppl still offline b4 2030", "how many people still offline before 2030"),
        ("what does ~ expand to, ~~not~~ ~this~", "what does tilde expand to not this"),
        ("over 50% of shares", "over 50 percent of shares"),
        ("R&amp;D &lt;b&gt; spending", "r and d b spending"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("word", "same_as"),
    [("ran", "run"), ("won", "wins"), ("lost", "losing"), ("wrote", "writing"), ("written", "write"), ("led", "leads")],
)
def test_irregular_forms_share_a_stem(word: str, same_as: str) -> None:
    assert stem(word) == stem(same_as)


@pytest.mark.parametrize(("word", "common"), [("week", True), ("merge", True), ("electon", False), ("huawie", False)])
def test_common_english_words_are_told_from_typos(word: str, common: bool) -> None:
    assert is_common_word(word) is common


@pytest.mark.parametrize(
    ("word", "other"),
    [
        ("licence", "license"),
        ("customised", "customized"),
        ("behaviour", "behavior"),
        ("centre", "center"),
        ("analyse", "analyze"),
        ("travelled", "traveled"),
        ("catalogue", "catalog"),
        ("organization", "organisation"),
        ("color", "colour"),
    ],
)
def test_british_and_american_spellings_are_offered(word: str, other: str) -> None:
    assert other in spelling_variants(word)
